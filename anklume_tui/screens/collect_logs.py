"""Collect logs (the `collect-logs` verb in the TUI, from the palette): where to write the archive, then a bar
of machines done out of the total, a line per machine that could not be read in full, and a notification
naming the archive and how many values were redacted. The engine call is the verb's (engine/logs)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Input, Log, ProgressBar, Static
from textual.worker import Worker, WorkerState

from ..engine.incus import connect
from ..engine.logs import Collected, CollectedMachine, collect_logs, default_archive
from ..errors import AnklumeError

if TYPE_CHECKING:
    from ..psot.model import Infra


class CollectLogsScreen(Screen):
    DEFAULT_CSS = """
    CollectLogsScreen .logs-form { height: auto; padding: 1 2; }
    CollectLogsScreen .logs-form Input { width: 100; }
    CollectLogsScreen .logs-form Button { margin-top: 1; }
    CollectLogsScreen #logs-progress { padding: 0 2; }
    CollectLogsScreen #logs-status { padding: 0 2; height: auto; }
    CollectLogsScreen #logs-log { height: 1fr; border-top: solid $accent 40%; }
    """
    BINDINGS = [Binding("escape", "back", "Back", id="collect_logs.back")]

    class MachineDone(Message):
        def __init__(self, machine: CollectedMachine, done: int, total: int) -> None:
            super().__init__()
            self.machine, self.done, self.total = machine, done, total

    class Finished(Message):
        def __init__(self, collected: Collected | None, error: str = "") -> None:
            super().__init__()
            self.collected, self.error = collected, error

    def __init__(self, infra: Infra, limit: str | None, incus_url: str | None) -> None:
        super().__init__()
        self.infra = infra
        self.limit = limit
        self.incus_url = incus_url
        self.what = f"domain {limit}" if limit else "every domain"
        self.running: Worker | None = None
        self.collected: Collected | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(classes="logs-form"):
            yield Static(
                f"Collect the logs of {self.what}: each machine's journal (or syslog) of the last hour and its Incus "
                "log, the last provisioning log and the apply journal, secrets redacted, into this archive:",
                markup=False,
            )
            yield Input(str(default_archive().absolute()), id="logs-out")
            yield Button("Collect (enter)", variant="primary", id="logs-start")
        yield ProgressBar(id="logs-progress", total=None, show_eta=False)
        yield Static("", id="logs-status", markup=False)
        yield Log(id="logs-log")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"Collect logs of {self.what}"
        self.query_one("#logs-out", Input).focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#logs-start")
    def start(self) -> None:
        if self.running is not None:
            return
        wanted = self.query_one("#logs-out", Input).value.strip()
        if not wanted:
            self.app.notify("Say where to write the archive.", severity="warning")
            return
        out = Path(wanted).expanduser().absolute()
        self.collected = None
        self.log_line(f"collecting the logs of {self.what} into {out} …")
        self.query_one("#logs-status", Static).update("asking Incus for the machines' logs …")
        self.running = self.run_collect(out)

    @work(thread=True, exclusive=True, group="collect-logs", exit_on_error=False)
    async def run_collect(self, out: Path) -> None:
        """In a thread: the archive is compressed as it is written, which would hold the UI's loop."""
        try:
            async with connect(self.incus_url) as client:
                done = await collect_logs(client, self.infra, out, limit=self.limit, on_machine=self._machine_done)
        except AnklumeError as exc:
            self.post_message(self.Finished(None, exc.user_message()))
            return
        except OSError as exc:
            self.post_message(self.Finished(None, f"cannot write {out}: {exc.strerror or exc}"))
            return
        self.post_message(self.Finished(done))

    def _machine_done(self, machine: CollectedMachine, done: int, total: int) -> None:
        self.post_message(self.MachineDone(machine, done, total))

    def on_collect_logs_screen_machine_done(self, message: MachineDone) -> None:
        self.query_one("#logs-progress", ProgressBar).update(total=message.total, progress=message.done)
        self.query_one("#logs-status", Static).update(
            f"{message.done}/{message.total} machine(s) done (last: {message.machine.machine})"
        )
        got = message.machine
        self.log_line(f"{message.done}/{message.total} {got.machine}: {len(got.files)} file(s)")
        for error in got.errors:
            self.log_line(f"{got.machine}: {error}")

    def on_collect_logs_screen_finished(self, message: Finished) -> None:
        self.running = None
        done = message.collected
        if done is None:
            self.query_one("#logs-status", Static).update(f"failed: {message.error}")
            self.tell(f"collect-logs failed: {message.error}", "error")
            return
        self.collected = done
        bar = self.query_one("#logs-progress", ProgressBar)
        if bar.total is None:  # no machine in scope: only the host's files
            bar.update(total=1, progress=1)
        unread = [m.machine for m in done.machines if m.errors]
        text = done.summary()
        if unread:
            text += f"; not all read from {', '.join(unread)}"
        self.query_one("#logs-status", Static).update(text)
        self.tell(text, "warning" if unread else "information")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is self.running and event.state == WorkerState.ERROR:  # unnamed failure: no traceback
            self.running = None
            self.query_one("#logs-status", Static).update(f"failed: {event.worker.error}")
            self.tell(f"collect-logs failed: {event.worker.error}", "error")

    def action_back(self) -> None:
        if self.running is not None:
            self.app.notify("Collecting the logs … it ends by itself (one machine after the other).")
            return
        self.app.pop_screen()

    def tell(self, text: str, severity: SeverityLevel) -> None:
        self.log_line(text)
        self.app.notify(text, severity=severity, markup=False, timeout=15)

    def log_line(self, text: str) -> None:
        self.query_one("#logs-log", Log).write_line(f"{datetime.now():%H:%M:%S} {text}")
