"""Help: every key of the screen and of the focused panel."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Static


def _key_table(app) -> Table:
    table = Table(title="Keys", show_header=True, header_style="bold", expand=True)
    table.add_column("key")
    table.add_column("does")
    seen = set()
    for node in [app.focused, app.screen, app]:
        if node is None:
            continue
        for binding in getattr(node, "BINDINGS", []):
            if not isinstance(binding, Binding) or binding.key in seen:
                continue
            seen.add(binding.key)
            table.add_row(app.get_key_display(binding), binding.description or binding.action)
    return table


class HelpScreen(ModalScreen):
    BINDINGS = [Binding("escape,q,question_mark,f1", "dismiss", "Close")]

    def __init__(self, app) -> None:
        super().__init__()
        self._table = _key_table(app)

    def compose(self) -> ComposeResult:
        yield Static(self._table, id="help-body")
