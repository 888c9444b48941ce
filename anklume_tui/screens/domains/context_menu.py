"""A menu of the actions that apply to the selected row; choosing one runs the action its key runs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from ...keymap import as_typed, bound_keys
from ...widgets.domain_table import UNKNOWN, Row
from ..move_machine import MOVE_BINDINGS
from .disposable_actions import DISPOSABLE_BINDINGS, is_disposable_row
from .machine_actions import ACTION_BINDINGS
from .snapshot_backup_actions import SNAPSHOT_BACKUP_BINDINGS

KEYS = {
    binding.action: binding
    for binding in [*ACTION_BINDINGS, *SNAPSHOT_BACKUP_BINDINGS, *DISPOSABLE_BINDINGS, *MOVE_BINDINGS]
}
EXISTS = frozenset({"*"})  # any state of a machine that exists
# (label, action, the states of the machine it applies to)
MACHINE_ENTRIES = (
    ("Start", "machine('start')", {"Stopped"}),
    ("Stop", "machine('stop')", {"Running", "Frozen"}),
    ("Restart", "machine('restart')", {"Running"}),
    ("Freeze", "machine('freeze')", {"Running"}),
    ("Unfreeze", "machine('unfreeze')", {"Frozen"}),
    ("Snapshot now", "snapshot", EXISTS),
    ("Console", "console", EXISTS),
    ("Delete…", "delete", EXISTS),
    ("Copy a file to…", "copy_file", EXISTS),
    ("Snapshots…", "snapshot_timeline", EXISTS),
    ("Back up…", "backup", EXISTS),
)
DOMAIN_ENTRIES = (
    ("Start all its machines", "machine('start')"),
    ("Stop all its machines", "machine('stop')"),
    ("Restart all its machines", "machine('restart')"),
    ("Snapshot all its machines", "snapshot"),
    ("Console for the domain", "console"),
    ("New disposable here", "new_disposable"),
    ("Snapshots of its machines…", "snapshot_timeline"),
    ("Back up its machines…", "backup"),
)
DISPOSABLE_ENTRIES = (
    ("Open a shell", "disposable_shell"),
    ("Stop (destroys it)", "stop_disposable"),
)


@dataclass(frozen=True)
class MenuEntry:
    label: str
    key: str  # the key that runs the same action, shown beside the label
    action: str  # an action of the domains screen


def menu_for(row: Row, keymap: Mapping[str, str] | None = None) -> list[MenuEntry]:
    """What can be done to this row: a domain's machines all at once, or one machine in its current state
    (every action while Incus has not said; none for a machine that does not exist). Keys after the keymap."""

    def key(action: str) -> str:
        return as_typed(bound_keys(keymap or {}, KEYS[action])) if action in KEYS else ""

    if row.is_domain:
        return [MenuEntry(label, key(action), action) for label, action in DOMAIN_ENTRIES]
    if is_disposable_row(row):
        return [MenuEntry(label, "", action) for label, action in DISPOSABLE_ENTRIES]
    if row.state == "missing":
        return []
    known = row.state != UNKNOWN
    entries = [
        MenuEntry(label, key(action), action)
        for label, action, states in MACHINE_ENTRIES
        if not known or states is EXISTS or row.state in states
    ]
    if row.location:  # on a cluster: the machine can go to another member
        entries.append(MenuEntry("Move to member…", key("move_machine"), "move_machine"))
    return entries


class ContextMenu(ModalScreen[str | None]):
    """Dismissed with the chosen entry's action, or None (esc)."""

    BINDINGS = [Binding("escape,m", "close", "Close", id="menu.close")]

    def __init__(self, title: str, entries: list[MenuEntry]) -> None:
        super().__init__()
        self.title_text = title
        self.entries = entries

    def compose(self) -> ComposeResult:
        width = max(len(entry.label) for entry in self.entries) + 4
        with Vertical(id="menu-body"):
            yield Static(self.title_text, id="menu-title", markup=False)
            yield OptionList(*(Option(f"{e.label:<{width}}{e.key}") for e in self.entries), id="menu-options")

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.entries[event.option_index].action)

    def action_close(self) -> None:
        self.dismiss(None)
