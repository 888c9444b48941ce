"""The plan screen's `s`: run the declared smoke checks (the `smoke` verb's engine call) once an apply is done;
a row per check (pass or fail, and what it found), progress as checks end, and each machine's results kept in
the app (`app.last_smoke`) for the domains screen's detail pane."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.message import Message
from textual.widgets import DataTable, Log, Static
from textual.worker import Worker, WorkerState

from ..engine.incus import connect
from ..errors import AnklumeError
from ..psot.generate import default_output_dir

if TYPE_CHECKING:
    from textual.screen import Screen

    from ..app import AnklumeApp
    from ..psot.pipeline import PsotResult
    from ..reports import CheckResultOut, SmokeReport

    class SmokeHost(Screen[None]):
        app: AnklumeApp
        result: PsotResult
        incus_url: str | None
        applying: Worker | None

else:
    SmokeHost = object

SMOKE_COLUMNS = ("machine", "check", "result", "found")


class SmokeProgress(Message):
    def __init__(self, machine: str, check: CheckResultOut, done: int, total: int) -> None:
        super().__init__()
        self.machine, self.check, self.done, self.total = machine, check, done, total


class SmokeDone(Message):
    def __init__(self, report: SmokeReport | None, error: str = "") -> None:
        super().__init__()
        self.report, self.error = report, error


def smoke_rows(report: SmokeReport) -> list[tuple[Text, Text, Text, Text]]:
    """A row per check: the machine, the check (and where it ran from), ok or FAIL, what it found. The names
    come from infra.yml and the findings from the machines: Text, never markup."""
    rows = []
    for machine in report.machines:
        for check in machine.checks:
            where = "" if check.ran_in == machine.machine else f" (from {check.ran_in})"
            mark = Text("ok", style="green") if check.ok else Text("FAIL", style="bold red")
            name = Text(f"{machine.domain}/{machine.machine}")
            rows.append((name, Text(check.name + where), mark, Text(check.detail)))
    return rows


class SmokeRun(SmokeHost):
    """Mixed into the plan screen: needs `result`, `incus_url`, `applying`, and the #smoke table, #plan-summary
    and #plan-log widgets."""

    smoking: Worker | None = None
    smoke_limit: str | None = None  # the plan screen plans every domain: smoke runs for all of them

    def action_smoke(self) -> None:
        if self.result.infra is None or self.smoking is not None:
            return
        if self.applying is not None:
            self.app.notify("Wait for the apply to end: the checks run on what it made.", severity="warning")
            return
        self.query_one("#plan-summary", Static).update("Smoke: running the declared checks …")
        self.smoking = self.run_smoke_checks()

    @work(exclusive=True, group="smoke", exit_on_error=False)
    async def run_smoke_checks(self) -> None:
        from ..engine.smoke import run_smoke

        assert self.result.infra is not None  # action_smoke checked it
        try:
            async with connect(self.incus_url) as client:
                report = await run_smoke(
                    client,
                    self.result.infra,
                    default_output_dir(self.result.loaded.path),
                    limit=self.smoke_limit,
                    on_check=self._check_ended,
                )
        except AnklumeError as exc:
            self.post_message(SmokeDone(None, exc.user_message()))
            return
        self.post_message(SmokeDone(report))

    def _check_ended(self, machine: str, check: CheckResultOut, done: int, total: int) -> None:
        self.post_message(SmokeProgress(machine, check, done, total))

    def on_smoke_progress(self, message: SmokeProgress) -> None:
        """A line per check as it ends (what a failing one found in full: the table's cell is one line)."""
        check = message.check
        found = "ok" if check.ok else f"FAIL {check.detail}"
        self.query_one("#plan-log", Log).write_line(
            f"smoke {message.done}/{message.total} {message.machine}: {check.name}: {found}"
        )
        if self.smoking is not None:
            self.query_one("#plan-summary", Static).update(f"Smoke: {message.done}/{message.total} check(s) done …")

    def on_smoke_done(self, message: SmokeDone) -> None:
        self.smoking = None
        report = message.report
        if report is None:
            self._smoke_said(f"Smoke could not run: {message.error}", False)
            return
        self._keep_results(report)
        table = self.query_one("#smoke", DataTable)
        table.clear()
        for row in smoke_rows(report):
            table.add_row(*row)
        table.remove_class("hidden")
        if not report.machines:
            self._smoke_said("Smoke: no machine declares checks (checks: in infra.yml or a role's).", True)
            return
        text = f"Smoke: {report.passed} passed, {report.failed} failed."
        if report.failed:
            failing = [m.machine for m in report.machines if not m.ok]
            text += f" Failing on {', '.join(failing)}."
        self._smoke_said(text, report.ok)

    def _keep_results(self, report: SmokeReport) -> None:
        """Each machine's checks of this run replace its last ones; a machine of the run's scope with no
        checks any more loses its old ones."""
        assert self.result.infra is not None
        now = datetime.now()
        scope = {
            m.name for d in self.result.infra.enabled_domains if self.smoke_limit in (None, d.name) for m in d.machines
        }
        kept = self.app.last_smoke
        for name in scope:
            kept.pop(name, None)
        for machine in report.machines:
            kept[machine.machine] = (now, machine)

    def _smoke_said(self, text: str, ok: bool) -> None:
        self.query_one("#plan-summary", Static).update(text + " s runs them again, r re-plans.")
        self.app.notify(text, severity="information" if ok else "error", markup=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is self.smoking and event.state == WorkerState.ERROR:  # unnamed failure: no traceback
            self.smoking = None
            self._smoke_said(f"Smoke stopped: {event.worker.error}", False)
