"""The YAML change an edit would write, as a coloured unified diff, to confirm or go back."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

STYLES = (("+++", "bold"), ("---", "bold"), ("@@", "cyan"), ("+", "green"), ("-", "red"))


def coloured_diff(diff: str) -> Text:
    text = Text()
    for line in diff.splitlines(keepends=True):
        style = next((style for head, style in STYLES if line.startswith(head)), "")
        text.append(line, style=style)
    return text


class InfraDiffScreen(ModalScreen[bool]):
    """Dismisses True to save, False to go back to the form."""

    BINDINGS = [
        Binding("y,enter", "dismiss(True)", "Save", id="diff.save"),
        Binding("escape,b", "dismiss(False)", "Back", id="diff.back"),
    ]
    DEFAULT_CSS = """
    InfraDiffScreen { align: center middle; }
    #diff-body { width: 100; height: 90%; background: $panel; border: round $primary; padding: 0 1; }
    #diff-title { text-style: bold; }
    #diff-text { height: 1fr; }
    #diff-buttons { height: auto; }
    #diff-buttons Button { margin-right: 2; }
    """

    def __init__(self, diff: str) -> None:
        super().__init__()
        self.diff = diff

    def compose(self) -> ComposeResult:
        with Vertical(id="diff-body"):
            yield Static("What saving writes (nothing is written yet):", id="diff-title")
            with VerticalScroll(id="diff-text"):
                yield Static(coloured_diff(self.diff), id="diff")
            with Horizontal(id="diff-buttons"):
                yield Button("Save (y)", variant="success", id="yes")
                yield Button("Back (esc)", id="no")

    def on_mount(self) -> None:
        self.query_one("#yes", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")
