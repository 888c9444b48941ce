"""Help: every key of the focused panel, its screen and the app, then the `:` commands; it scrolls."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from ..keymap import as_typed, bound_keys
from .command_line import COMMANDS


def _key_table(app) -> Table:
    """Keys as people type them (`?, F1`), after the user's keymap; a key a nearer panel takes is not repeated."""
    table = Table(title="Keys", show_header=True, header_style="bold", expand=True)
    table.add_column("key")
    table.add_column("does")
    keymap = getattr(app, "keymap", {})
    seen: set[str] = set()
    for node in [app.focused, app.screen, app]:
        if node is None:
            continue
        for binding in getattr(node, "BINDINGS", []):
            if not isinstance(binding, Binding):
                continue
            keys = [key for key in bound_keys(keymap, binding).split(",") if key not in seen]
            if not keys:
                continue
            seen.update(keys)
            table.add_row(Text(as_typed(",".join(keys))), binding.description or binding.action)
    return table


def _command_table() -> Table:
    table = Table(title=": commands (a prefix is enough)", show_header=True, header_style="bold", expand=True)
    table.add_column("command")
    table.add_column("does")
    for verb, known in COMMANDS.items():
        table.add_row(f":{verb}", known.help)
    return table


class HelpScreen(ModalScreen):
    BINDINGS = [
        Binding("escape,q,question_mark,f1", "dismiss", "Close", id="help.close"),
        Binding("j", "scroll('down')", "Scroll down", show=False, id="help.scroll_down"),
        Binding("k", "scroll('up')", "Scroll up", show=False, id="help.scroll_up"),
    ]

    def __init__(self, app) -> None:
        super().__init__()
        self._keys = _key_table(app)
        self._commands = _command_table() if hasattr(app.screen, "action_command_line") else None

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body"):
            yield Static(self._keys)
            if self._commands is not None:
                yield Static(self._commands, id="help-commands")

    def on_mount(self) -> None:
        self.query_one("#help-body").focus()

    def action_scroll(self, direction: str) -> None:
        body = self.query_one("#help-body", VerticalScroll)
        if direction == "down":
            body.scroll_down()
        else:
            body.scroll_up()
