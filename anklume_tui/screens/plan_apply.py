"""Plan / apply: what apply would do, grouped by domain; apply with per-action progress, then provisioning
(Ansible) with a line per task; cancel; `o` picks the steps the apply carries out (`apply --only`); `s` runs
the smoke checks (plan_smoke.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Log, Static
from textual.worker import Worker

from ..engine.host import ApplyLocked, gather_host_context, recorded_call
from ..engine.incus import connect
from ..engine.reconcile import (
    STEPS,
    Action,
    ApplyEvent,
    PhaseEvent,
    PipelineEvent,
    PipelineResult,
    Plan,
    apply_pipeline,
    make_plan,
    only_steps,
)
from ..errors import AnklumeError
from ..psot.findings import Finding
from ..psot.generate import default_output_dir
from ..psot.pipeline import PsotResult
from ..widgets.wrapped_log import WrappedLog
from .apply_steps import StepsScreen
from .plan_smoke import SMOKE_COLUMNS, SmokeRun

if TYPE_CHECKING:
    from ..app import AnklumeApp

PROGRESS = {"started": "…", "done": "✓ done", "failed": "✗ failed", "skipped": "– skipped"}


def action_key(action: Action) -> str:
    return f"{action.op}|{action.kind}|{action.project}|{action.name}"


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


def finished_text(done: PipelineResult) -> tuple[str, bool]:
    """What the screen says once the pipeline ended, and whether it went well."""
    applied, provisioned = done.applied, done.provisioned
    if not applied.ok:
        failed = len(applied.of("failed"))
        text = f"Apply finished with {failed} failure(s)."
        if applied.isolation is not None and applied.isolation.error:
            text += " The isolation ruleset was not loaded (see the log)."
        return text + " Provisioning skipped.", False
    end = f" Not Running at the end: {', '.join(done.not_running)}." if done.not_running else ""
    if provisioned is None:
        return f"Applied.{end}", done.ok
    if provisioned.ok:
        return f"Applied and provisioned ({len(provisioned.hosts)} machine(s)).{end}", done.ok
    where = f" (Ansible's log: {provisioned.log})" if provisioned.log else ""
    problem = f": {provisioned.error}" if provisioned.error else f" of {provisioned.summary()}"
    not_run = "".join(f" {h.outcome_line()}." for h in provisioned.hosts if h.not_run)
    return f"Applied; provisioning{problem}{where}.{not_run}{end}", False


class PlanScreen(SmokeRun, Screen):
    app: AnklumeApp
    DEFAULT_CSS = """
    PlanScreen #smoke { height: 1fr; border-top: solid $primary 40%; }
    PlanScreen #smoke.hidden { display: none; }
    """
    BINDINGS = [
        Binding("a", "apply", "Apply", id="plan.apply"),
        Binding("c", "cancel", "Cancel apply", id="plan.cancel"),
        Binding("r", "replan", "Re-plan", id="plan.replan"),
        Binding("o", "steps", "Steps", id="plan.steps"),
        Binding("s", "smoke", "Smoke checks", id="plan.smoke"),
        # shown once an apply or its provisioning failed here (check_action); before that, x says so
        Binding("x", "explain", "Explain failure", id="plan.explain"),
        Binding("x", "nothing_to_explain", "Explain failure", id="plan.nothing_to_explain", show=False),
        Binding("escape", "back", "Back", id="plan.back"),
    ]

    class Planned(Message):
        def __init__(self, plan: Plan | None, error: str = "") -> None:
            super().__init__()
            self.plan, self.error = plan, error

    class Progress(Message):
        def __init__(self, event: PipelineEvent) -> None:
            super().__init__()
            self.event = event

    class Finished(Message):
        def __init__(self, text: str, ok: bool, explainable: bool = False) -> None:
            super().__init__()
            self.text, self.ok, self.explainable = text, ok, explainable

    def __init__(self, result: PsotResult, incus_url: str | None) -> None:
        super().__init__()
        self.result = result
        self.incus_url = incus_url
        self.plan: Plan | None = None  # the actions of the chosen steps
        self.full_plan: Plan | None = None
        self.steps: frozenset[str] | None = None  # None: every step
        self.applying: Worker | None = None
        self.provisioning = False
        self.failed = False  # an apply or its provisioning failed here: x explains it

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Planning …", id="plan-summary", markup=False)
        yield DataTable(id="actions", cursor_type="row")
        yield DataTable(id="smoke", cursor_type="row", classes="hidden")
        yield WrappedLog(id="plan-log")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "plan / apply"
        table = self.query_one("#actions", DataTable)
        for column in ("domain", "op", "kind", "object", "detail", "progress"):
            table.add_column(column, key=column)
        smoke = self.query_one("#smoke", DataTable)
        for column in SMOKE_COLUMNS:
            smoke.add_column(column, key=column)
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
        assert self.result.infra is not None  # planned only for a valid infra
        try:
            async with connect(self.incus_url) as client:
                plan = await make_plan(client, self.result.infra, host=gather_host_context(with_networks=False))
        except AnklumeError as exc:
            self.post_message(self.Planned(None, exc.user_message()))
            return
        self.post_message(self.Planned(plan))

    def on_plan_screen_planned(self, message: Planned) -> None:
        summary = self.query_one("#plan-summary", Static)
        if message.plan is None:
            summary.update(f"Cannot plan: {message.error}")
            return
        self.full_plan = message.plan
        self.show_plan()

    def show_plan(self) -> None:
        """The plan's actions of the chosen steps, and what `a` would do."""
        if self.full_plan is None:
            return
        plan = self.plan = only_steps(self.full_plan, self.steps)
        table = self.query_one("#actions", DataTable)
        table.clear()
        for domain, actions in plan.by_domain():
            for action in actions:
                where = domain or "(shared)"
                # the detail quotes Incus's values and the infra's ("[default, x]", a description): Text, never markup
                cells = (where, action.op, action.kind, Text(action.name), Text(action.detail), "")
                table.add_row(*cells, key=action_key(action))
        chosen = "" if self.steps is None else f"Steps: {', '.join(s for s in STEPS if s in self.steps)}. "
        if self.can_apply():
            text = f"{chosen}{plan.summary()}. Press a to apply, o to pick steps, esc to go back."
        elif self.steps is not None:
            text = f"{chosen}Nothing to do in these steps. Press o to pick steps."
        else:
            text = f"Incus matches the infra: nothing to do ({len(plan.orphans)} orphan(s))."
        self.query_one("#plan-summary", Static).update(text)

    def can_apply(self) -> bool:
        """Actions to carry out, or steps chosen that run whatever the plan (the ruleset, Ansible)."""
        if self.plan is None:
            return False
        return bool(self.plan.actions) or (self.steps is not None and bool(self.steps & {"isolation", "provision"}))

    def action_steps(self) -> None:
        if self.applying is None:
            self.app.push_screen(StepsScreen(self.steps), self.steps_chosen)

    def steps_chosen(self, steps: frozenset[str] | None) -> None:
        self.steps = steps
        self.show_plan()

    def action_apply(self) -> None:
        if self.app.read_only:
            self.app.notify("This is the bundled example, read-only.", severity="warning")
            return
        if self.plan is None or not self.can_apply() or self.applying is not None:
            return
        self.query_one("#plan-summary", Static).update(f"Applying {len(self.plan.actions)} action(s) … (c cancels)")
        self.failed = False
        self.refresh_bindings()
        self.applying = self.run_apply()

    @work(exclusive=True, group="apply")
    async def run_apply(self) -> None:
        assert self.result.infra is not None  # a plan was made, so the infra is valid
        try:
            async with connect(self.incus_url) as client:
                applying = apply_pipeline(
                    client,
                    self.result.infra,
                    tree=default_output_dir(self.result.loaded.path),
                    host=gather_host_context(with_networks=False),
                    steps=self.steps,
                    on_event=self.post_progress,
                    infra_file=self.result.loaded.path,
                )
                done = await recorded_call("apply", None, applying, ok=lambda result: result.ok)
        except ApplyLocked as exc:
            self.post_message(self.Finished(f"Refused: {exc.user_message()}", False))
            return
        except AnklumeError as exc:
            self.post_message(self.Finished(f"Apply stopped: {exc.user_message()}", False))
            return
        failed = not done.applied.ok or (done.provisioned is not None and not done.provisioned.ok)
        self.post_message(self.Finished(*finished_text(done), explainable=failed))

    def post_progress(self, event: PipelineEvent) -> None:
        self.post_message(self.Progress(event))

    def on_plan_screen_progress(self, message: Progress) -> None:
        event = message.event
        self.query_one("#plan-log", Log).write_line(event.line())
        if isinstance(event, PhaseEvent) and event.phase == "provision":
            self.provisioning = True
            self.query_one("#plan-summary", Static).update("Applied. Provisioning (Ansible) … it runs to its end.")
        if isinstance(event, ApplyEvent) and event.action is not None and event.phase in PROGRESS:
            table = self.query_one("#actions", DataTable)
            key = action_key(event.action)
            if key in table.rows:
                table.update_cell(key, "progress", PROGRESS[event.phase])

    def on_plan_screen_finished(self, message: Finished) -> None:
        self.applying = None
        self.provisioning = False
        self.failed = message.explainable
        self.refresh_bindings()
        then = " Press r to re-plan, s to run the smoke checks" + (", x to explain." if self.failed else ".")
        self.query_one("#plan-summary", Static).update(message.text + then)
        self.app.notify(message.text, severity="information" if message.ok else "error", markup=False)

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

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "explain":
            return self.failed  # False: hidden from the footer, and x falls through to nothing_to_explain
        return True

    def action_explain(self) -> None:
        """The failed apply or provisioning explained by the user's own model (issue 23), the prompt shown first."""
        from .explain import ExplainScreen

        if self.applying is None and self.result.infra is not None:
            self.app.push_screen(ExplainScreen(self.result.loaded.path, self.result.infra, self.incus_url))

    def action_nothing_to_explain(self) -> None:
        self.app.notify("Nothing failed here yet: explain is offered once an apply or its provisioning fails here.")

    def action_back(self) -> None:
        if self.applying is None and self.smoking is None:
            self.app.pop_screen()
