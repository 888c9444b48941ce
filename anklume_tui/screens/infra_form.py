"""The form that adds or edits a domain or a machine in the infra, checked as you type, saved after a preview."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Button, Input, Label, Select, Static, Switch

from ..psot.context import HostContext
from ..psot.findings import Finding, Severity
from ..psot.infra_candidate import CandidateCheck, preview, save, validate_candidate
from ..psot.infra_edit import Changes, EditRefused, InfraFiles, add_domain, add_machine, edit_domain, edit_machine
from ..psot.infra_fields import DOMAIN_FIELDS, MACHINE_FIELDS, FieldSpec, Kind, text_of, value_of
from .infra_diff import InfraDiffScreen

DEBOUNCE_SECONDS = 0.3


@dataclass(frozen=True)
class EditRequest:
    """What the form edits: a domain or a machine, an existing one (`name`) or a new one in `domain`."""

    kind: str  # "domain" or "machine"
    name: str | None  # None: a new one
    domain: str | None  # the machine's domain
    current: dict  # the declared values, as loaded

    @property
    def specs(self) -> tuple[FieldSpec, ...]:
        return DOMAIN_FIELDS if self.kind == "domain" else MACHINE_FIELDS

    @property
    def title(self) -> str:
        return (
            f"Edit {self.kind} {self.name}"
            if self.name
            else f"New {self.kind}" + (f" in domain {self.domain}" if self.kind == "machine" else "")
        )

    def changes(self, files: InfraFiles, values: dict) -> Changes:
        if self.kind == "domain":
            return edit_domain(files, self.name, values) if self.name else add_domain(files, values)
        if self.name:
            return edit_machine(files, self.name, values)
        assert self.domain is not None  # a new machine is made in a domain
        return add_machine(files, self.domain, values)

    def node(self, values: dict) -> tuple:
        """Where the edited node sits in the infra once changed (findings under it go to the fields)."""
        name = values.get("name") or self.name or ""
        if self.kind == "domain":
            return ("domains", name)
        return ("domains", self.domain, "machines", name)


class InfraForm(ModalScreen[bool]):
    """Dismisses True once the infra is saved."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save (preview first)", id="form.save"),
        Binding("escape", "dismiss(False)", "Cancel", id="form.cancel"),
    ]
    DEFAULT_CSS = """
    InfraForm { align: center middle; }
    #form-body { width: 84; height: auto; max-height: 90%; background: $panel; border: round $primary; padding: 0 1; }
    #form-title { text-style: bold; margin-bottom: 1; }
    .field-row { height: auto; margin-top: 1; }
    .field-label { width: 26; color: $text-muted; }
    .field-row Input, .field-row Select { width: 1fr; }
    .field-finding { display: none; color: $error; height: auto; padding-left: 26; }
    .field-finding.shown { display: block; }
    .field-finding.warning { color: $warning; }
    #form-summary { margin-top: 1; height: auto; }
    #form-buttons { height: auto; margin-top: 1; }
    #form-buttons Button { margin-right: 2; }
    """

    def __init__(self, request: EditRequest, files: InfraFiles, ctx: HostContext) -> None:
        super().__init__()
        self.request = request
        self.files = files
        self.ctx = ctx
        self.changes: Changes | None = None
        self.check: CandidateCheck | None = None
        self._timer: Timer | None = None
        self._generation = 0  # which edit the last started check belongs to; older answers are dropped
        self._check_running = False  # one check at a time: a thread already running cannot be stopped
        self._check_again = False  # the values changed while a check ran: check once more when it ends
        self.checking = True  # from an edit until its findings show

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="form-body"):
            yield Static(self.request.title, id="form-title", markup=False)
            for spec in self.request.specs:
                with Horizontal(classes="field-row"):
                    yield Label(spec.label, classes="field-label")
                    yield self._widget(spec)
                yield Static("", id=f"finding-{spec.key}", classes="field-finding")
            yield Static("", id="form-summary")
            with Horizontal(id="form-buttons"):
                yield Button("Save… (ctrl+s)", variant="primary", id="save")
                yield Button("Cancel (esc)", id="cancel")

    def _widget(self, spec: FieldSpec):
        current = self.request.current.get(spec.key)
        if spec.key == "name":
            current = self.request.name
        widget_id = f"field-{spec.key}"
        if spec.kind is Kind.BOOL:
            return Switch(value=current if isinstance(current, bool) else bool(spec.default), id=widget_id)
        if spec.kind is Kind.CHOICE:
            text = text_of(spec, current)
            choices = list(spec.choices) + ([text] if text and text not in spec.choices else [])
            options = [(c, c) for c in choices]
            return Select(options, value=text or Select.NULL, prompt="(not declared)", id=widget_id, compact=True)
        return Input(value=text_of(spec, current), id=widget_id, compact=True)

    def on_mount(self) -> None:
        self.query_one(f"#field-{self.request.specs[0].key}").focus()
        self._start_check()

    def values(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for spec in self.request.specs:
            widget = self.query_one(f"#field-{spec.key}")
            if isinstance(widget, Switch):
                values[spec.key] = widget.value
            elif isinstance(widget, Select):
                values[spec.key] = None if widget.is_blank() else value_of(spec, str(widget.value))
            else:
                values[spec.key] = value_of(spec, cast(Input, widget).value)
        return values

    @on(Input.Changed)
    @on(Switch.Changed)
    @on(Select.Changed)
    def _edited(self) -> None:
        self.changes = None
        self.checking = True
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(DEBOUNCE_SECONDS, self._start_check)

    def _start_check(self) -> None:
        self._generation += 1
        self.query_one("#form-summary", Static).update("checking …")
        if self._check_running:
            self._check_again = True
            return
        self._check_running = True
        self.run_check(self._generation, self.values())

    def _check_ended(self) -> None:
        self._check_running = False
        if self._check_again and self.is_attached:
            self._check_again = False
            self._start_check()

    @work(thread=True, group="infra-check")
    def run_check(self, generation: int, values: dict) -> None:
        try:
            changes = self.request.changes(self.files, values)
            check = validate_candidate(self.files, changes, self.ctx)
        except EditRefused as exc:
            self.app.call_from_thread(self._show_refusal, generation, str(exc))
        else:
            self.app.call_from_thread(self._show_check, generation, values, changes, check)
        finally:
            self.app.call_from_thread(self._check_ended)

    def _show_refusal(self, generation: int, text: str) -> None:
        if generation != self._generation:
            return
        self.changes, self.check, self.checking = None, None, False
        self._show_fields({})
        self.query_one("#form-summary", Static).update(Text.assemble(("Cannot save: ", "bold red"), text))

    def _show_check(self, generation: int, values: dict, changes: Changes, check: CandidateCheck) -> None:
        if generation != self._generation:
            return
        self.changes, self.check, self.checking = changes, check, False
        fields, others = check.by_field(self.request.node(values))
        self._show_fields(fields)
        errors, warnings = len(check.errors), sum(1 for f in check.findings if f.severity is Severity.WARNING)
        if not changes or all(self.files.texts.get(f) == t for f, t in changes.items()):
            summary = Text("No change yet.")
        elif errors:
            summary = Text.assemble((f"{errors} error(s)", "bold red"), ": fix them to save.")
        else:
            summary = Text.assemble(("Valid", "bold green"), ": ctrl+s previews the change before saving.")
        if warnings:
            summary.append(f" {warnings} warning(s).")
        for finding in [f for f in others if f.severity is not Severity.INFO][:6]:
            summary.append("\n" + finding.render())
        self.query_one("#form-summary", Static).update(summary)

    def _show_fields(self, fields: dict[str, list[Finding]]) -> None:
        for spec in self.request.specs:
            found = fields.get(spec.key, [])
            box = self.query_one(f"#finding-{spec.key}", Static)
            box.set_class(bool(found), "shown")
            box.set_class(bool(found) and not any(f.is_error for f in found), "warning")
            box.update(Text("\n".join(f"{f.severity.value}[{f.rule}]: {f.message}" for f in found)))

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(False)

    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        if self.changes is None or self.check is None:
            self.app.notify("Still checking the change: try again in a moment.", severity="warning")
            return
        if self.check.errors:
            rules = ", ".join(sorted({f.rule for f in self.check.errors}))
            self.app.notify(f"Not saved: the change has errors ({rules}).", severity="error")
            return
        if all(self.files.texts.get(f) == t for f, t in self.changes.items()):
            self.app.notify("Nothing to save: the form matches the file.", severity="information")
            return
        changes, check = self.changes, self.check

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.run_save(changes, check)

        self.app.push_screen(InfraDiffScreen(preview(self.files, changes)), confirmed)

    @work(thread=True, exclusive=True, group="infra-save")
    def run_save(self, changes: Changes, check: CandidateCheck) -> None:
        try:
            written = save(self.files, changes, self.ctx, check)
        except (EditRefused, OSError) as exc:
            self.app.call_from_thread(self.app.notify, str(exc), title="Not saved", severity="error", markup=False)
            return
        names = ", ".join(str(path) for path in written)
        self.app.call_from_thread(self.app.notify, f"Saved {names}", title="Infra saved", markup=False)
        self.app.call_from_thread(self.dismiss, True)
