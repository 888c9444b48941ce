"""AI access (SPEC §10.5): the client domains, which one reaches ai-tools now, and the switch to another
(stop the AI services, flush VRAM, swap the nftables rule, restart, record) with its steps as they happen."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Log, Static
from textual.worker import Worker

from ..engine.incus import connect
from ..engine.isolation import SwitchRefused, SwitchStep, access_holder, ai_switch, check_switch
from ..errors import AnklumeError
from ..psot.constants import AI_TOOLS_DOMAIN, TRUST_GLYPHS
from ..psot.model import Infra
from .confirm import ConfirmScreen

if TYPE_CHECKING:
    from ..app import AnklumeApp

HOLDS = "◉ holds access"


class AiAccessScreen(Screen):
    app: AnklumeApp
    BINDINGS = [
        Binding("enter", "switch", "Give AI access", id="ai_access.switch"),
        Binding("j", "cursor_down", "Down", show=False, id="ai_access.down"),
        Binding("k", "cursor_up", "Up", show=False, id="ai_access.up"),
        Binding("escape", "back", "Back", id="ai_access.back"),
    ]

    class Holder(Message):
        def __init__(self, holder: str | None, why: str) -> None:
            super().__init__()
            self.holder, self.why = holder, why

    class Step(Message):
        def __init__(self, step: SwitchStep) -> None:
            super().__init__()
            self.step = step

    class Finished(Message):
        def __init__(self, text: str, ok: bool) -> None:
            super().__init__()
            self.text, self.ok = text, ok

    def __init__(self, infra: Infra, incus_url: str | None) -> None:
        super().__init__()
        self.infra = infra
        self.incus_url = incus_url
        self.holder: str | None = None
        self.switching: Worker | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Reading who holds AI access …", id="ai-summary", markup=False)
        yield DataTable(id="ai-domains", cursor_type="row")
        yield Log(id="ai-log")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "AI access"
        table = self.query_one("#ai-domains", DataTable)
        for column in ("domain", "trust", "AI provider", "access"):
            table.add_column(column, key=column)
        for domain in self.infra.domains:
            if domain.name == AI_TOOLS_DOMAIN:
                continue
            trust = domain.effective_trust
            table.add_row(domain.name, f"{TRUST_GLYPHS[trust]} {trust}", domain.ai_provider, "", key=domain.name)
        table.focus()
        self.read_holder()

    @work(thread=True, exclusive=True, group="ai-holder")
    def read_holder(self) -> None:
        self.post_message(self.Holder(*access_holder(self.infra)))

    def on_ai_access_screen_holder(self, message: Holder) -> None:
        self.holder = message.holder
        table = self.query_one("#ai-domains", DataTable)
        for key in table.rows:
            table.update_cell(key, "access", HOLDS if key.value == message.holder else "")
        self.query_one("#ai-summary", Static).update(self._summary(message.why))

    def _summary(self, why: str) -> str:
        if self.infra.ai_access_policy != "exclusive":
            return "ai_access_policy is 'open': every domain with a network policy reaches ai-tools; nothing to switch."
        if AI_TOOLS_DOMAIN not in {d.name for d in self.infra.domains}:
            return "The infra has no 'ai-tools' domain."
        who = self.holder or "no domain"
        return f"Exclusive AI access: {who} reaches ai-tools ({why}). Enter gives it to the selected domain."

    def action_cursor_down(self) -> None:
        self.query_one("#ai-domains", DataTable).action_cursor_down()

    def action_cursor_up(self) -> None:
        self.query_one("#ai-domains", DataTable).action_cursor_up()

    def on_data_table_row_selected(self, _event: DataTable.RowSelected) -> None:
        self.action_switch()  # enter on the table

    def action_switch(self) -> None:
        if self.switching is not None:
            return
        if self.app.read_only:
            self.app.notify("This is the bundled example, read-only.", severity="warning")
            return
        table = self.query_one("#ai-domains", DataTable)
        if not table.row_count:
            return
        target = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        assert target is not None  # every row has its domain's name as key
        try:
            check_switch(self.infra, target)
        except SwitchRefused as exc:
            self.app.notify(str(exc), severity="warning", markup=False)
            return
        if target == self.holder:
            self.app.notify(f"{target} already holds AI access.", markup=False)
            return
        flush = "flushes GPU memory, " if self.infra.ai_vram_flush else ""
        question = (
            f"Give AI access to {target}?\n\n{self.holder or 'The current holder'} loses it: this stops the AI "
            f"services in ai-tools, {flush}swaps the nftables rule and restarts the services."
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self.query_one("#ai-summary", Static).update(f"Switching AI access to {target} …")
                self.switching = self.run_switch(target)

        self.app.push_screen(ConfirmScreen(question, yes="Switch"), answered)

    @work(exclusive=True, group="ai-switch")
    async def run_switch(self, target: str) -> None:
        try:
            async with connect(self.incus_url) as client:
                result = await ai_switch(client, self.infra, target, on_step=self.post_step)
        except AnklumeError as exc:
            self.post_message(self.Finished(f"Switch stopped: {exc.user_message()}", False))
            return
        if result.switched:
            self.post_message(self.Finished(f"{target} now holds AI access.", True))
        else:
            self.post_message(self.Finished(f"Switch failed: {result.error}", False))

    def post_step(self, step: SwitchStep) -> None:
        self.post_message(self.Step(step))

    def on_ai_access_screen_step(self, message: Step) -> None:
        step = message.step
        self.query_one("#ai-log", Log).write_line(f"{step.outcome:8} {step.step}: {step.detail}")

    def on_ai_access_screen_finished(self, message: Finished) -> None:
        self.switching = None
        self.app.notify(message.text, severity="information" if message.ok else "error", markup=False)
        self.read_holder()

    def action_back(self) -> None:
        if self.switching is None:
            self.app.pop_screen()
