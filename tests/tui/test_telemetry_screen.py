"""The telemetry screen (U on the domains view): charts of the usage log and an instance's CPU and memory
history from /1.0/metrics; TUI actions add lines to the usage log only while telemetry is on."""

from __future__ import annotations

import asyncio
import json

import pytest

from anklume_tui.app import AnklumeApp
from anklume_tui.engine.host import paths as state
from anklume_tui.engine.host import telemetry
from anklume_tui.screens import telemetry as telemetry_screen
from anklume_tui.screens.telemetry import TelemetryScreen
from anklume_tui.widgets.domain_table import DomainTable
from anklume_tui.widgets.usage_charts import BarChart, HistoryChart
from tests.engine.usage_helpers import BUSY_PERCENT, keep_busy
from tests.tui.test_live_domains import infra  # noqa: F401 - `infra` is a fixture
from tests.wait_helpers import until

NO_INCUS = "unix:///nonexistent/unix.socket"


async def open_telemetry(app, pilot) -> TelemetryScreen:
    await until(pilot, lambda: getattr(app.screen, "result", None) is not None)
    await pilot.press("U")
    await until(pilot, lambda: isinstance(app.screen, TelemetryScreen) and app.screen.report is not None)
    return app.screen


async def test_the_charts_draw_the_usage_log_as_the_report_counts_it(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("ANKLUME_SKIP_HOST_SUBNET_CHECK", "1")
    monkeypatch.setenv("ANKLUME_CONTEXT_DIR", str(tmp_path / "ctx"))
    telemetry.enable_telemetry()
    for target, seconds, code in [("apply", 4.0, 0), ("apply", 6.0, 1), ("sync", 0.5, 0), ("start", 1.0, 0)]:
        telemetry.record(target, None, seconds, code)
    (tmp_path / "infra.yml").write_text("project_name: t\nglobal:\n  addressing: {}\ndomains: {}\n")
    app = AnklumeApp(tmp_path / "infra.yml", incus_url=NO_INCUS)
    async with app.run_test(size=(140, 44)) as pilot:
        screen = await open_telemetry(app, pilot)
        runs, success, duration = (screen.query_one(f"#{i}", BarChart) for i in ("runs", "success", "duration"))
        assert runs.labels == ["apply", "start", "sync"]
        assert runs.values == [2, 1, 1]
        assert success.values == [50, 100, 100]
        assert duration.values == [5.0, 1.0, 0.5]
        status = str(screen.query_one("#telemetry-status").render())
        assert status.startswith("Telemetry is on") and "4 event(s)" in status
        metrics = screen.query_one("#metrics-status")
        await until(pilot, lambda: str(metrics.render()).startswith("Incus metrics:"))  # said, not raised
        await pilot.press("escape")
        assert not isinstance(app.screen, TelemetryScreen)


@pytest.mark.incus
async def test_the_history_chart_follows_the_chosen_running_instance(incusd, infra, monkeypatch):  # noqa: F811
    monkeypatch.setattr(telemetry_screen, "SAMPLE_SECONDS", 1.0)
    incusd.incus("launch", "busybox", "work-a", "--project", "work")
    keep_busy(incusd, "work-a", "work")
    app = AnklumeApp(infra, incus_url=incusd.url)
    async with app.run_test(size=(140, 44)) as pilot:
        screen = await open_telemetry(app, pilot)
        assert "Telemetry is off" in str(screen.query_one("#telemetry-status").render())
        cpu, memory = screen.query_one("#cpu", HistoryChart), screen.query_one("#memory", HistoryChart)
        await until(pilot, lambda: len(cpu.ys) >= 1, timeout=30)  # the second fresh answer, after Incus's cache
        assert cpu.heading.startswith("work/work-a")
        assert cpu.ys[-1] > BUSY_PERCENT  # the busy shell
        points = screen.history.points(("work", "work-a"))
        assert memory.ys == [p.memory_bytes / (1 << 20) for p in points]
        assert cpu.xs[-1] == 0.0 and memory.xs[0] < 0  # seconds before the last point


async def start_work_a(incusd, infra) -> None:  # noqa: F811
    incusd.incus("init", "busybox", "work-a", "--project", "work")
    app = AnklumeApp(infra, incus_url=incusd.url)
    async with app.run_test(size=(150, 40)) as pilot:
        table = app.screen.query_one(DomainTable)
        await until(pilot, lambda: table.rows_by_key.get("m:work-a") and table.rows_by_key["m:work-a"].state != "…")
        await pilot.press("j", "s")
        operations = app.screen.query_one("#operations")
        await until(pilot, lambda: any("start work-a: done" in line for line in operations.lines))


@pytest.mark.incus
async def test_a_tui_lifecycle_action_adds_one_usage_line_when_telemetry_is_on(incusd, infra):  # noqa: F811
    telemetry.enable_telemetry()
    await start_work_a(incusd, infra)
    (line,) = state.telemetry_log_file().read_text().splitlines()
    event = json.loads(line)
    assert set(event) == set(telemetry.FIELDS)
    assert (event["target"], event["domain"], event["exit_code"]) == ("start", None, 0)
    assert isinstance(event["duration_seconds"], float) and event["timestamp"].endswith("Z")
    status = await asyncio.to_thread(incusd.incus_json, "list", "work-a", "--project=work")
    assert status[0]["status"] == "Running"


@pytest.mark.incus
async def test_a_tui_lifecycle_action_adds_nothing_when_telemetry_is_off(incusd, infra):  # noqa: F811
    await start_work_a(incusd, infra)
    assert not state.telemetry_log_file().exists()


async def test_colon_commands_and_the_palette_open_the_monitoring_screens(tmp_path, monkeypatch):
    from anklume_tui.screens.gpu import GpuScreen

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("ANKLUME_SKIP_HOST_SUBNET_CHECK", "1")
    monkeypatch.setenv("ANKLUME_CONTEXT_DIR", str(tmp_path / "ctx"))
    (tmp_path / "infra.yml").write_text("project_name: t\nglobal:\n  addressing: {}\ndomains: {}\n")
    app = AnklumeApp(tmp_path / "infra.yml", incus_url=NO_INCUS)
    async with app.run_test(size=(140, 44)) as pilot:
        await until(pilot, lambda: getattr(app.screen, "result", None) is not None)
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert {"GPUs", "Telemetry and usage history"} <= titles
        await pilot.press("colon", *"gpu", "enter")
        await until(pilot, lambda: isinstance(app.screen, GpuScreen) and app.screen.view is not None)
        assert app.screen.view.report.incus_reachable is False  # said on the screen, not raised
        await pilot.press("escape", "colon", *"telemetry", "enter")
        await until(pilot, lambda: isinstance(app.screen, TelemetryScreen))
