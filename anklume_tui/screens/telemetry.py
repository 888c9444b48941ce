"""Telemetry (SPEC §10.7): the local usage log drawn as `telemetry report` draws it (runs, success rate and
mean duration of the 15 most frequent operations), whether recording is on, and the CPU and memory history
of an instance from Incus's /1.0/metrics, read every 3 s in a worker while the screen is shown."""

from __future__ import annotations

import time

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker

from ..engine.host import MetricsHistory, MetricsReading, MetricsSampler, telemetry_summary
from ..engine.incus import IncusError, IncusUrlError
from ..reports import TelemetryReport
from ..widgets.usage_charts import BarChart, HistoryChart

SAMPLE_SECONDS = 3.0
MIB = 1 << 20


def status_line(report: TelemetryReport) -> str:
    if report.enabled:
        state = f"Telemetry is on: each operation (batch verb or TUI action) adds a line to {report.log_file}."
    else:
        state = "Telemetry is off (anklume-tui --batch telemetry on starts recording; nothing leaves the machine)."
    skipped = f", {report.unreadable_lines} unreadable line(s) skipped" if report.unreadable_lines else ""
    return f"{state} {report.events} event(s) logged{skipped}."


class TelemetryScreen(Screen):
    DEFAULT_CSS = """
    TelemetryScreen #telemetry-status, TelemetryScreen #metrics-status { padding: 0 1; height: auto; }
    TelemetryScreen #usage-charts { height: 1fr; }
    TelemetryScreen #instance-history { height: 1fr; }
    TelemetryScreen #instances { width: 32; }
    """
    BINDINGS = [
        Binding("r", "reload", "Re-read the usage log", id="telemetry.reload"),
        Binding("escape", "back", "Back", id="telemetry.back"),
    ]

    class Summarized(Message):
        def __init__(self, report: TelemetryReport) -> None:
            super().__init__()
            self.report = report

    class Sampled(Message):
        def __init__(self, reading: MetricsReading | None, problem: str | None = None) -> None:
            super().__init__()
            self.reading, self.problem = reading, problem

    def __init__(self, incus_url: str | None, history: MetricsHistory) -> None:
        super().__init__()
        self.sampler = MetricsSampler(incus_url)
        self.history = history
        self.report: TelemetryReport | None = None
        self._sampling: Worker | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Reading the usage log …", id="telemetry-status", markup=False)
        with Horizontal(id="usage-charts"):
            yield BarChart(id="runs")
            yield BarChart(id="success")
            yield BarChart(id="duration")
        yield Static("Reading /1.0/metrics …", id="metrics-status", markup=False)
        with Horizontal(id="instance-history"):
            yield OptionList(id="instances", markup=False)  # Incus takes [ and ] in a project name
            with Vertical():
                yield HistoryChart(id="cpu")
                yield HistoryChart(id="memory")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "telemetry"
        self.read_summary()
        self._timer = self.set_interval(SAMPLE_SECONDS, self._sample)
        self._sample()
        self._draw_history()

    def on_screen_suspend(self) -> None:
        self._timer.pause()

    def on_screen_resume(self) -> None:
        self._timer.resume()

    @work(thread=True, exclusive=True, group="telemetry-log")
    def read_summary(self) -> None:
        self.post_message(self.Summarized(telemetry_summary()))

    def on_telemetry_screen_summarized(self, message: Summarized) -> None:
        self.report = report = message.report
        text = status_line(report)
        if not report.operations:
            text += " Nothing recorded yet."
        self.query_one("#telemetry-status", Static).update(text)
        names = [s.target for s in report.operations]
        self.query_one("#runs", BarChart).show("runs per operation", names, [s.count for s in report.operations])
        self.query_one("#success", BarChart).show(
            "success rate (%)", names, [round(s.success_rate * 100) for s in report.operations]
        )
        self.query_one("#duration", BarChart).show(
            "mean duration (s)", names, [s.mean_duration_seconds for s in report.operations]
        )

    def _sample(self) -> None:
        if self._sampling is None or self._sampling.is_finished:
            self._sampling = self.sample_metrics()

    @work(thread=True, group="metrics")
    async def sample_metrics(self) -> None:
        """One request for every project's instances, in a thread (the answer can be large)."""
        try:
            reading = await self.sampler.read()
        except (IncusError, IncusUrlError) as exc:
            self.post_message(self.Sampled(None, f"Incus metrics: {exc}"))
            return
        self.post_message(self.Sampled(reading))

    def on_telemetry_screen_sampled(self, message: Sampled) -> None:
        if message.reading is not None:
            self.history.add(message.reading.at, message.reading.readings)
        keys = self.history.instance_keys()
        status = (
            message.problem or f"{len(keys)} instance(s) in the history; new readings every ~9 s (Incus caches 8 s)."
        )
        self.query_one("#metrics-status", Static).update(status)
        listing = self.query_one("#instances", OptionList)
        wanted = [f"{project}/{name}" for project, name in keys]
        shown = [str(listing.get_option_at_index(i).id) for i in range(listing.option_count)]
        if wanted != shown:
            chosen = self._chosen()
            listing.clear_options()
            listing.add_options(Option(label, id=label) for label in wanted)
            if wanted:
                listing.highlighted = wanted.index(chosen) if chosen in wanted else 0
        self._draw_history()

    def _chosen(self) -> str | None:
        listing = self.query_one("#instances", OptionList)
        if listing.highlighted is None:
            return None
        return str(listing.get_option_at_index(listing.highlighted).id)

    @on(OptionList.OptionHighlighted, "#instances")
    def _draw_history(self) -> None:
        chosen = self._chosen()
        cpu, memory = self.query_one("#cpu", HistoryChart), self.query_one("#memory", HistoryChart)
        if chosen is None:
            cpu.show("CPU % (no running instance read yet)", [], [])
            memory.show("memory MiB", [], [])
            return
        project, _, name = chosen.partition("/")
        points = self.history.points((project, name))
        now = points[-1].at if points else time.monotonic()
        cpu_points = [(p.at - now, p.cpu_percent) for p in points if p.cpu_percent is not None]
        memory_points = [(p.at - now, p.memory_bytes / MIB) for p in points if p.memory_bytes is not None]
        cpu.show(f"{chosen}: CPU % of one CPU", [at for at, _ in cpu_points], [v for _, v in cpu_points])
        memory.show(f"{chosen}: memory MiB", [at for at, _ in memory_points], [v for _, v in memory_points])

    def action_reload(self) -> None:
        self.read_summary()

    def action_back(self) -> None:
        self.app.pop_screen()
