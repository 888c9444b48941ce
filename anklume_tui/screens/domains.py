"""Home screen: the declared domains and machines, with details and validation findings."""

from __future__ import annotations

from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Log, Static

from ..engine.hostinfo import gather_host_context
from ..psot.findings import Severity
from ..psot.pipeline import PsotResult, run_psot
from ..widgets.detail import Detail, domain_detail, machine_detail
from ..widgets.domain_table import DomainTable, Row


def rows_of(result: PsotResult, needle: str = "") -> list[Row]:
    """Domain and machine rows, in declaration order; a filter keeps matching machines and their domain."""
    rows: list[Row] = []
    if result.infra is None:
        return rows
    needle = needle.lower()
    for domain in result.infra.domains:
        trust = domain.effective_trust
        machines = [
            Row(f"m:{m.name}", m.name, trust, m.type, m.ip or "DHCP", domain.enabled)
            for m in domain.machines
            if not needle or needle in m.name.lower() or needle in domain.name.lower()
        ]
        if needle and not machines and needle not in domain.name.lower():
            continue
        rows.append(Row(f"d:{domain.name}", domain.name, trust, "domain", domain.subnet or "", domain.enabled))
        rows.extend(machines)
    return rows


class DomainsScreen(Screen):
    AUTO_FOCUS = "#domains"
    BINDINGS = [
        Binding("slash", "filter", "Filter"),
        Binding("escape", "clear_filter", "Back", show=False),
        Binding("r", "reload", "Reload"),
    ]

    class Checked(Message):
        def __init__(self, result: PsotResult) -> None:
            super().__init__()
            self.result = result

    def __init__(self, infra: Path, notice: str | None) -> None:
        super().__init__()
        self.infra = infra
        self.notice = notice
        self.result: PsotResult | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(self.notice or "", id="notice", classes="" if self.notice else "hidden")
        yield Input(placeholder="filter machines and domains (esc clears)", id="filter")
        with Horizontal(id="body"):
            yield DomainTable(id="domains", colour=self.app.colour)
            yield Detail(f"Loading {self.infra} …", id="detail")
        yield Log(id="findings", classes="empty")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = str(self.infra)
        self.check()

    @work(thread=True, exclusive=True, group="psot")
    def check(self) -> None:
        self.post_message(self.Checked(run_psot(self.infra, gather_host_context())))

    def on_domains_screen_checked(self, message: Checked) -> None:
        self.result = message.result
        self.query_one(DomainTable).show(rows_of(message.result, self.query_one(Input).value))
        self._show_findings(message.result)
        self._show_selection()

    def _show_findings(self, result: PsotResult) -> None:
        log = self.query_one(Log)
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
            detail.show("", "No domain matches." if self.query_one(Input).value else "No domains declared yet.")
            return
        domains = {d.name: d for d in self.result.infra.domains}
        if row.is_domain:
            detail.show(row.key, domain_detail(domains[row.name]))
            return
        for domain in domains.values():
            for machine in domain.machines:
                if machine.name == row.name:
                    detail.show(row.key, machine_detail(domain, machine))
                    return

    def action_filter(self) -> None:
        box = self.query_one(Input)
        box.add_class("visible")
        box.focus()

    def action_clear_filter(self) -> None:
        box = self.query_one(Input)
        if box.value or box.has_class("visible"):
            box.value = ""
            box.remove_class("visible")
            self.query_one(DomainTable).focus()

    @on(Input.Changed, "#filter")
    def _filter(self, event: Input.Changed) -> None:
        if self.result is not None:
            self.query_one(DomainTable).show(rows_of(self.result, event.value))
            self._show_selection()

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        self.query_one(DomainTable).focus()

    def action_reload(self) -> None:
        self.check()
