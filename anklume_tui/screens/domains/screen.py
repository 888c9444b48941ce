"""Home screen: declared domains and machines, kept current from Incus, with details and findings."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Log, Static
from textual.worker import Worker

from ...engine import host, incus
from ...psot.findings import Severity
from ...psot.outline import OutlineDomain, outline
from ...widgets.detail import Detail, domain_detail, machine_detail
from ...widgets.domain_table import DomainTable
from ...widgets.wrapped_log import WrappedLog
from ..command_line import PLACEHOLDER, UnknownCommand, parse_command
from ..copy_file import CopyFileActions
from ..move_machine import MOVE_BINDINGS, MoveActions
from .clipboard_actions import CLIPBOARD_BINDINGS, ClipboardActions
from .context_menu import ContextMenu, menu_for
from .disposable_actions import DISPOSABLE_BINDINGS, DisposableActions
from .infra_edit_actions import EDIT_BINDINGS, InfraEditing
from .logs_actions import LogsActions
from .machine_actions import ACTION_BINDINGS, MachineActions
from .monitor_keys import MONITOR_BINDINGS, MonitorKeys
from .rows import SORTS, Live, View, fields_after, live_from_report, rows_of, usage_fields
from .snapshot_backup_actions import SNAPSHOT_BACKUP_BINDINGS, SnapshotBackupActions

if TYPE_CHECKING:
    from ...engine.host import InstanceChange, InstanceKey, Usage
    from ...psot.pipeline import PsotResult
    from ...psot.services import ServiceMap
    from ...reports import StatusReport

RETRY_SECONDS = 5.0
USAGE_SECONDS = 3.0  # how often CPU and memory are read while the view is shown


class DomainsScreen(
    MachineActions,
    SnapshotBackupActions,
    DisposableActions,
    CopyFileActions,
    ClipboardActions,
    MoveActions,
    InfraEditing,
    MonitorKeys,
    LogsActions,
    Screen,
):
    AUTO_FOCUS = "#domains"
    BINDINGS = [
        Binding("slash", "filter", "Filter", id="domains.filter"),
        Binding("escape", "clear_filter", "Back", show=False, id="domains.clear_filter"),
        Binding("r", "reload", "Reload", id="domains.reload"),
        Binding("p", "plan", "Plan/apply", id="domains.plan"),
        Binding("A", "ai_access", "AI access", id="domains.ai_access"),
        Binding("t", "toggle_running", "Running only", id="domains.running_only"),
        Binding("o", "cycle_sort", "Sort", id="domains.sort"),
        Binding("colon", "command_line", ":command", id="domains.command_line"),
        Binding("m,shift+f10", "context_menu", "Menu", show=False, id="domains.menu"),
        *ACTION_BINDINGS,
        *CLIPBOARD_BINDINGS,
        *MONITOR_BINDINGS,
        *DISPOSABLE_BINDINGS,
        *SNAPSHOT_BACKUP_BINDINGS,
        *EDIT_BINDINGS,
        *MOVE_BINDINGS,
    ]

    class Outlined(Message):
        def __init__(self, domains: list[OutlineDomain] | None) -> None:
            super().__init__()
            self.domains = domains

    class Checked(Message):
        def __init__(self, result: PsotResult, services: ServiceMap | None) -> None:
            super().__init__()
            self.result = result
            self.services = services  # None when the infra has no model (invalid)

    class StatusArrived(Message):
        def __init__(self, report: StatusReport) -> None:
            super().__init__()
            self.report = report

    class InstanceChanged(Message):
        def __init__(self, change: InstanceChange) -> None:
            super().__init__()
            self.change = change

    class UsageRead(Message):
        def __init__(self, usage: dict[InstanceKey, Usage]) -> None:
            super().__init__()
            self.usage = usage

    class IncusProblem(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, infra: Path, notice: str | None, incus_url: str | None = None) -> None:
        super().__init__()
        self.infra = infra
        self.notice = notice
        self.incus_url = incus_url
        self.result: PsotResult | None = None
        self.services: ServiceMap | None = None
        self.live: Live = {}
        self.by_instance: dict[tuple[str, str], str] = {}
        self.status: StatusReport | None = None
        self.running_only = False
        self.sort = "declared"
        self.usage_meter = host.UsageMeter(incus_url)
        self.usage: dict[InstanceKey, Usage] | None = None  # the last reading, None before the first
        self._usage_reader: Worker | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(self.notice or "", id="notice", classes="" if self.notice else "hidden", markup=False)
        yield Input(placeholder="filter machines and domains (esc clears)", id="filter")
        yield Input(placeholder=PLACEHOLDER, id="command")
        with Horizontal(id="body"):
            yield DomainTable(id="domains", colour=self.app.colour)
            yield Detail(f"Loading {self.infra} …", id="detail")
        yield Log(id="findings", classes="empty")
        yield WrappedLog(id="operations", classes="empty")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = str(self.infra)
        self._usage_timer = self.set_interval(USAGE_SECONDS, self._read_usage, pause=True)
        self.first_look()

    @work(thread=True, group="outline")
    def first_look(self) -> None:
        """The quick outline (read while Textual started), for a first paint before the full check."""
        early = self.app.take_first_outline()
        self.post_message(self.Outlined(early.result() if early is not None else outline(self.infra)))

    def on_domains_screen_outlined(self, message: Outlined) -> None:
        if message.domains is None:  # unreadable: the full check says why
            self.check()
            return
        if self.result is None:
            view = View(self.query_one("#filter", Input).value, self.running_only, self.sort)
            self.query_one(DomainTable).show(rows_of(message.domains, view))
        # After the paint: the check would otherwise hold the interpreter while the rows are drawn.
        self.call_after_refresh(self.check)

    @work(thread=True, exclusive=True, group="psot")
    def check(self) -> None:
        # the model, the rules and the Incus client are imported here, in a worker, after the first paint
        from ...psot.pipeline import run_psot
        from ...psot.services import service_map

        result = run_psot(self.infra, host.gather_host_context(infra=self.infra))
        self.post_message(self.Checked(result, service_map(result.infra) if result.infra is not None else None))

    @work(exclusive=True, group="incus")
    async def watch_incus(self) -> None:
        """First the status of everything declared, then each change from the event stream; retry when down."""
        from ...reports import StatusReport

        assert self.result is not None  # watched once the infra is checked
        infra = self.result.infra
        while True:
            try:
                async for item in host.live_status(self.incus_url, infra):
                    if isinstance(item, StatusReport):
                        self.post_message(self.StatusArrived(item))
                    else:
                        self.post_message(self.InstanceChanged(item))
            except incus.IncusUrlError as exc:
                self.post_message(self.IncusProblem(f"Incus: {exc}"))
                return
            except incus.IncusError as exc:
                self.post_message(self.IncusProblem(f"Incus: {exc}; retrying every {RETRY_SECONDS:.0f} s"))
            await asyncio.sleep(RETRY_SECONDS)

    def on_domains_screen_checked(self, message: Checked) -> None:
        self.result = message.result
        self.services = message.services
        self._refill()
        self._show_findings(message.result)
        if message.result.infra is not None:
            self.watch_incus()

    def on_domains_screen_status_arrived(self, message: StatusArrived) -> None:
        self.status = message.report
        self.take_disposables(message.report)
        self.live, self.by_instance = live_from_report(message.report)
        for key, cells in usage_fields(self.status, self.usage or {}, self.live).items():
            self.live.setdefault(key, {}).update(cells)
        self.sub_title = str(self.infra)
        self._refill()  # one pass over every row: cheaper than a thousand cell updates
        if self.usage is None and self.is_current:
            self._read_usage()

    def on_domains_screen_instance_changed(self, message: InstanceChanged) -> None:
        key = self.by_instance.get((message.change.project, message.change.name))
        if key is None:
            return
        fields = fields_after(message.change)
        self.live.setdefault(key, {}).update(fields)
        self._note_state(key, fields["state"])
        if self.running_only:
            self._refill()  # a machine that stopped leaves the view, one that started joins it
        else:
            self.query_one(DomainTable).update_row(key, **fields)
            selected = self.query_one(DomainTable).selected()
            if selected is not None and selected.key == key:
                self._show_selection()  # the detail pane says what Incus now holds

    def _note_state(self, key: str, state: str) -> None:
        """Keep the status report (what the detail pane shows) in step with the events."""
        for domain in self.status.domains if self.status else []:
            for machine in domain.machines:
                if f"m:{machine.name}" == key:
                    machine.state = state

    def on_screen_resume(self) -> None:
        """CPU and memory are read only while this view is shown."""
        self._usage_timer.resume()
        self._read_usage()
        self._show_selection()  # a smoke run from the plan screen may have new results for it

    def on_screen_suspend(self) -> None:
        self._usage_timer.pause()
        self.usage_meter.forget()  # the next CPU share must not average over the time away

    def _read_usage(self) -> None:
        busy = self._usage_reader is not None and not self._usage_reader.is_finished
        if self.status is None or busy or not self.usage_meter.due():
            return
        self._usage_reader = self.read_usage()

    @work(thread=True, group="usage")
    async def read_usage(self) -> None:
        """One bulk read of every running instance's CPU and memory, in a thread (the answer can be large)."""
        try:
            usage = await self.usage_meter.read()
        except (incus.IncusError, ValueError):
            return  # Incus away or answering oddly: the status watcher reports it, the cells keep their values
        self.post_message(self.UsageRead(usage))

    def on_domains_screen_usage_read(self, message: UsageRead) -> None:
        self.usage = message.usage
        if self.status is None:
            return
        table = self.query_one(DomainTable)
        for key, cells in usage_fields(self.status, message.usage, self.live).items():
            self.live.setdefault(key, {}).update(cells)
            table.update_row(key, **cells)

    def on_domains_screen_incus_problem(self, message: IncusProblem) -> None:
        self.sub_title = f"{self.infra} — {message.text}"

    def report(self, text: str) -> None:
        """One line in the operations log (results and errors of actions)."""
        log = self.query_one("#operations", Log)
        log.remove_class("empty")
        log.write_line(f"{datetime.now():%H:%M:%S} {text}")

    def _refill(self) -> None:
        """Rebuild the rows from the infra and what is known of Incus, keeping the cursor on its row."""
        table = self.query_one(DomainTable)
        selected = table.selected()
        view = View(self.query_one("#filter", Input).value, self.running_only, self.sort)
        assert self.result is not None  # rows are rebuilt once the infra is checked
        domains = self.result.infra.domains if self.result.infra is not None else []
        table.with_location = any(fields.get("location") for fields in self.live.values())  # on a cluster
        table.show(rows_of(domains, view, self.live, self.disposable_rows()))
        if selected is not None:
            table.move_to(selected.key)
        self._show_selection()

    def _show_findings(self, result: PsotResult) -> None:
        log = self.query_one("#findings", Log)
        log.clear()
        shown = [f for f in result.findings if f.severity is not Severity.INFO]
        log.set_class(not shown, "empty")
        log.write_lines(f.render() for f in shown)
        errors = len(result.of(Severity.ERROR))
        if errors:
            message = f"{result.loaded.display}: {errors} error(s); fix them and press r."
            self.query_one(Detail).show("", message)

    @on(DomainTable.RowHighlighted)
    def _show_selection(self) -> None:
        if self.result is None or self.result.infra is None:
            return
        row = self.query_one(DomainTable).selected()
        detail = self.query_one(Detail)
        if row is None:
            empty = "No domain matches." if self.query_one("#filter", Input).value else "No domains declared yet."
            detail.show("", empty)
            return
        real = {d.name: d for d in self.status.domains} if self.status else {}
        for domain in self.result.infra.domains:
            if row.is_domain and domain.name == row.name:
                detail.show(row.key, domain_detail(domain, real.get(domain.name)))
                return
            for machine in domain.machines:
                if machine.name == row.name:
                    status = (
                        next((m for m in real[domain.name].machines if m.name == machine.name), None) if real else None
                    )
                    smoke = getattr(self.app, "last_smoke", {}).get(machine.name)
                    detail.show(row.key, machine_detail(domain, machine, status, smoke, self.services))
                    return

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.add_class("visible")
        box.focus()

    def action_clear_filter(self) -> None:
        self.query_one("#command", Input).remove_class("visible")
        box = self.query_one("#filter", Input)
        if box.value or box.has_class("visible"):
            box.value = ""
            box.remove_class("visible")
            self.query_one(DomainTable).focus()

    @on(Input.Changed, "#filter")
    def _filter(self) -> None:
        if self.result is not None:
            self._refill()

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        self.query_one(DomainTable).focus()

    def action_command_line(self) -> None:
        box = self.query_one("#command", Input)
        box.value = ""
        box.add_class("visible")
        box.focus()

    @on(Input.Submitted, "#command")
    async def _run_command(self, event: Input.Submitted) -> None:
        event.input.remove_class("visible")
        self.query_one(DomainTable).focus()
        try:
            command = parse_command(event.value)
        except UnknownCommand as exc:
            self.app.notify(str(exc), severity="warning", markup=False)
            return
        if command.verb in ("domain", "machine"):
            prefix = "d:" if command.verb == "domain" else "m:"
            if not self.query_one(DomainTable).move_to(prefix + command.argument):
                missing = f"no {command.verb} named {command.argument!r} in view"
                self.app.notify(missing, severity="warning", markup=False)
        elif command.verb == "filter":
            box = self.query_one("#filter", Input)
            box.value = command.argument
            box.set_class(bool(command.argument), "visible")
        elif command.action is not None:
            await self.app.run_action(command.action)

    @on(DomainTable.MenuRequested)
    def action_context_menu(self) -> None:
        """The actions that apply to the selected row; the chosen one runs as its key would run it."""
        row = self.query_one(DomainTable).selected()
        if row is None or self.result is None:
            return
        entries = menu_for(row, getattr(self.app, "keymap", None))
        if not entries:
            self.app.notify(f"{row.name} does not exist yet: p plans and applies it.", severity="warning", markup=False)
            return
        title = f"{'Domain' if row.is_domain else 'Machine'} {row.name}"

        def chosen(action: str | None) -> None:
            if action is not None:
                self.call_later(self.run_action, action)

        self.app.push_screen(ContextMenu(title, entries), chosen)

    def action_toggle_running(self) -> None:
        self.running_only = not self.running_only
        self.app.notify("Running machines only" if self.running_only else "All machines", timeout=2)
        if self.result is not None:
            self._refill()

    def action_cycle_sort(self) -> None:
        self.sort = SORTS[(SORTS.index(self.sort) + 1) % len(SORTS)]
        self.app.notify(f"Machines sorted by {self.sort}", timeout=2)
        if self.result is not None:
            self._refill()

    # The screens below are imported when first opened: they would only slow the first paint.
    def action_plan(self) -> None:
        from ..plan_apply import PlanScreen

        if self.result is not None:
            self.app.push_screen(PlanScreen(self.result, self.incus_url))

    def action_ai_access(self) -> None:
        from ...psot.pipeline import is_valid
        from ..ai_access import AiAccessScreen

        if self.result is None or not is_valid(self.result):
            self.app.notify("The infra is invalid: fix it first (p shows the errors).", severity="warning")
            return
        self.app.push_screen(AiAccessScreen(self.result.infra, self.incus_url))

    def action_reload(self) -> None:
        self.check()
