"""Plan / apply: what apply would do, grouped by domain; apply with per-action progress, then provisioning
(Ansible) with a line per task; cancel."""

from __future__ import annotations

import asyncio

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Log, Static
from textual.worker import Worker

from ..engine.host.hostinfo import gather_host_context
from ..engine.host.telemetry import recorded_call, recorded_result
from ..engine.incus.transport import IncusError
from ..engine.provision.events import ProvisionEvent
from ..engine.provision.runner import provision_after_apply
from ..engine.reconcile.apply import ApplyEvent
from ..engine.reconcile.lock import ApplyLocked
from ..engine.reconcile.operations import apply_infra, machines_not_running, plan_infra
from ..engine.reconcile.plan_models import Action, Plan
from ..psot.findings import Finding
from ..psot.generate import default_output_dir
from ..psot.pipeline import PsotResult

PROGRESS = {"started": "…", "done": "✓ done", "failed": "✗ failed", "skipped": "– skipped"}


def action_key(action: Action) -> str:
    return f"{action.op}|{action.kind}|{action.project}|{action.name}"


def grouped(plan: Plan) -> list[Action]:
    """Actions grouped by domain (shared objects first), keeping the plan's order inside a group."""
    order: dict[str | None, int] = {}
    for action in plan.actions:
        order.setdefault(action.domain, len(order))
    return sorted(plan.actions, key=lambda a: (a.domain is not None, order[a.domain]))


def source_line(finding: Finding) -> str:
    """The offending YAML line under a finding, when the file can be read."""
    loc = finding.location
    if loc is None:
        return ""
    try:
        with open(loc.file, encoding="utf-8", errors="replace") as handle:
            for number, line in enumerate(handle, start=1):
                if number == loc.line:
                    return f"    {line.rstrip()}\n    {' ' * (loc.column - 1)}^"
    except OSError:
        return ""
    return ""


class PlanScreen(Screen):
    BINDINGS = [
        Binding("a", "apply", "Apply", id="plan.apply"),
        Binding("c", "cancel", "Cancel apply", id="plan.cancel"),
        Binding("r", "replan", "Re-plan", id="plan.replan"),
        Binding("escape", "back", "Back", id="plan.back"),
    ]

    class Planned(Message):
        def __init__(self, plan: Plan | None, error: str = "") -> None:
            super().__init__()
            self.plan, self.error = plan, error

    class Progress(Message):
        def __init__(self, event: ApplyEvent) -> None:
            super().__init__()
            self.event = event

    class Applied(Message):
        """Every action done: provisioning follows."""

    class Provisioning(Message):
        def __init__(self, event: ProvisionEvent) -> None:
            super().__init__()
            self.event = event

    class Finished(Message):
        def __init__(self, text: str, ok: bool) -> None:
            super().__init__()
            self.text, self.ok = text, ok

    def __init__(self, result: PsotResult, incus_url: str | None) -> None:
        super().__init__()
        self.result = result
        self.incus_url = incus_url
        self.plan: Plan | None = None
        self.applying: Worker | None = None
        self.provisioning = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Planning …", id="plan-summary")
        yield DataTable(id="actions", cursor_type="row")
        yield Log(id="plan-log")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "plan / apply"
        table = self.query_one("#actions", DataTable)
        for column in ("domain", "op", "kind", "object", "detail", "progress"):
            table.add_column(column, key=column)
        if not self.result.valid:
            self._show_invalid()
            return
        self.make_plan()

    def _show_invalid(self) -> None:
        errors = [f for f in self.result.findings if f.is_error]
        self.query_one("#plan-summary", Static).update(
            f"The infra has {len(errors)} error(s): nothing can be planned until they are fixed."
        )
        log = self.query_one("#plan-log", Log)
        for finding in errors:
            log.write_line(finding.render())
            line = source_line(finding)
            if line:
                log.write_lines(line.splitlines())

    @work(exclusive=True, group="plan")
    async def make_plan(self) -> None:
        try:
            plan = await plan_infra(self.incus_url, self.result.infra, gather_host_context(with_networks=False))
        except IncusError as exc:
            self.post_message(self.Planned(None, str(exc)))
            return
        self.post_message(self.Planned(plan))

    def on_plan_screen_planned(self, message: Planned) -> None:
        summary = self.query_one("#plan-summary", Static)
        if message.plan is None:
            summary.update(f"Cannot plan: {message.error}")
            return
        self.plan = message.plan
        table = self.query_one("#actions", DataTable)
        table.clear()
        for action in grouped(message.plan):
            where = action.domain or "(shared)"
            table.add_row(where, action.op, action.kind, action.name, action.detail, "", key=action_key(action))
        plan = message.plan
        if plan.actions:
            summary.update(
                f"{len(plan.actions)} action(s), {len(plan.drift)} drifted field(s), {len(plan.orphans)} orphan(s). "
                "Press a to apply, esc to go back."
            )
        else:
            summary.update(f"Incus matches the infra: nothing to do ({len(plan.orphans)} orphan(s)).")

    def action_apply(self) -> None:
        if self.app.read_only:
            self.app.notify("This is the bundled example, read-only.", severity="warning")
            return
        if self.plan is None or not self.plan.actions or self.applying is not None:
            return
        self.query_one("#plan-summary", Static).update(f"Applying {len(self.plan.actions)} action(s) … (c cancels)")
        self.applying = self.run_apply()

    @work(exclusive=True, group="apply")
    async def run_apply(self) -> None:
        try:
            applying = apply_infra(
                self.incus_url, self.result.infra, gather_host_context(with_networks=False), self.post_progress
            )
            result = await recorded_call("apply", None, applying, ok=lambda done: done.ok)
        except ApplyLocked as exc:
            self.post_message(self.Finished(f"Refused: {exc}", False))
            return
        except IncusError as exc:
            self.post_message(self.Finished(f"Apply stopped: {exc}", False))
            return
        failed = [o for o in result.outcomes if o.status == "failed"]
        if result.ok:
            self.post_message(self.Applied())
            return
        text = f"Apply finished with {len(failed)} failure(s)."
        if result.isolation is not None and result.isolation.error:
            text += " The isolation ruleset was not loaded (see the log)."
        self.post_message(self.Finished(text + " Provisioning skipped.", False))

    def on_plan_screen_applied(self, _message: Applied) -> None:
        self.query_one("#plan-summary", Static).update("Applied. Provisioning (Ansible) … it runs to its end.")
        self.provisioning = True
        self.applying = self.run_provision()

    @work(thread=True, exclusive=True, group="apply")
    def run_provision(self) -> None:
        tree = default_output_dir(self.result.loaded.path)
        outcome = recorded_result(
            "provision",
            None,
            lambda: provision_after_apply(self.result.infra, tree, None, self.incus_url, self.post_provision),
            ok=lambda done: done.ok,
        )
        try:  # SPEC §8.2: the last check, once provisioning ended
            stopped = asyncio.run(machines_not_running(self.incus_url, self.result.infra))
        except IncusError as exc:
            stopped = [f"not checked: {exc}"]
        end = f" Not Running at the end: {', '.join(stopped)}." if stopped else ""
        if outcome.ok:
            text = f"Applied and provisioned ({len(outcome.hosts)} machine(s)).{end}"
            self.post_message(self.Finished(text, not stopped))
            return
        where = f" (Ansible's log: {outcome.log})" if outcome.log else ""
        problem = outcome.error or f"{len(outcome.problems)} task(s) failed or unreachable"
        self.post_message(self.Finished(f"Applied; provisioning: {problem}{where}.{end}", False))

    def post_provision(self, event: ProvisionEvent) -> None:
        self.post_message(self.Provisioning(event))

    def on_plan_screen_provisioning(self, message: Provisioning) -> None:
        self.query_one("#plan-log", Log).write_line(message.event.line())

    def post_progress(self, event: ApplyEvent) -> None:
        self.post_message(self.Progress(event))

    def on_plan_screen_progress(self, message: Progress) -> None:
        event = message.event
        self.query_one("#plan-log", Log).write_line(event.line())
        if event.action is not None and event.phase in PROGRESS:
            table = self.query_one("#actions", DataTable)
            key = action_key(event.action)
            if key in table.rows:
                table.update_cell(key, "progress", PROGRESS[event.phase])

    def on_plan_screen_finished(self, message: Finished) -> None:
        self.applying = None
        self.provisioning = False
        self.query_one("#plan-summary", Static).update(message.text + " Press r to re-plan.")
        self.app.notify(message.text, severity="information" if message.ok else "error")

    def action_cancel(self) -> None:
        if self.provisioning:
            self.app.notify("Provisioning runs to its end (Ansible cannot stop mid-task safely).")
            return
        if self.applying is not None:
            self.applying.cancel()
            self.applying = None
            self.query_one("#plan-summary", Static).update("Apply cancelled. Press r to re-plan.")
            self.query_one("#plan-log", Log).write_line("cancelled by the user")

    def action_replan(self) -> None:
        if self.applying is None and self.result.valid:
            self.query_one("#plan-summary", Static).update("Planning …")
            self.make_plan()

    def action_back(self) -> None:
        if self.applying is None:
            self.app.pop_screen()
