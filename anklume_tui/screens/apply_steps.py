"""Which steps an apply from the plan screen carries out (`apply --only` in the TUI): a list of the steps, each
ticked or not; space ticks, enter keeps the choice, esc backs out leaving it as it was."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import SelectionList, Static

from ..engine.reconcile import STEPS

STEP_HELP = {
    "projects": "projects (one per domain)",
    "networks": "networks (the domains' bridges)",
    "profiles": "profiles",
    "images": "images (local copies, downloads)",
    "instances": "instances (with the isolation ruleset loaded first)",
    "isolation": "isolation (the host nftables ruleset)",
    "provision": "provision (Ansible roles)",
}


class StepsScreen(ModalScreen[frozenset[str] | None]):
    """Dismissed with the chosen steps (None: every step), or with the choice as it was on esc."""

    DEFAULT_CSS = """
    StepsScreen { align: center middle; }
    #steps-body { width: 64; height: auto; border: round $accent; padding: 0 1; background: $surface; }
    #steps { height: auto; }
    """
    BINDINGS = [
        Binding("enter", "keep", "Keep", id="steps.keep", priority=True),
        Binding("escape", "back", "Back", id="steps.back"),
    ]

    def __init__(self, chosen: frozenset[str] | None) -> None:
        super().__init__()
        self.chosen = chosen

    def compose(self) -> ComposeResult:
        with Vertical(id="steps-body"):
            yield Static("Steps of the next apply: space ticks or unticks, enter keeps, esc backs out", markup=False)
            yield SelectionList[str](
                *((STEP_HELP[s], s, self.chosen is None or s in self.chosen) for s in STEPS), id="steps"
            )

    def on_mount(self) -> None:
        self.query_one("#steps", SelectionList).focus()

    def action_keep(self) -> None:
        picked = frozenset(self.query_one("#steps", SelectionList).selected)
        if not picked:
            self.app.notify("Tick at least one step (or esc to back out).", severity="warning")
            return
        self.dismiss(None if picked == frozenset(STEPS) else picked)

    def action_back(self) -> None:
        self.dismiss(self.chosen)
