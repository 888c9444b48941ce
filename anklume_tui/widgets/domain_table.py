"""The domain tree as a table: a row per domain, then a row per machine, coloured by trust."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.message import Message
from textual.widgets import DataTable

from ..psot.constants import TRUST_COLOURS, TRUST_GLYPHS

COLUMNS = ("name", "trust", "type", "ip", "state", "cpu", "memory", "snaps", "drift")
LOCATION = "location"  # the cluster member a machine runs on: a column only on a cluster
UNKNOWN = "…"
FIRST_ROWS = 80
# Room for what live updates write, so that updating a cell never re-measures a column.
MIN_WIDTHS = {"ip": 15, "state": 8, "cpu": 6, "memory": 8, "snaps": 5, "drift": 7}
CHUNK_ROWS = 200


@dataclass(frozen=True)
class Row:
    """One line of the tree, in the user's words; `key` is "d:<domain>" or "m:<machine>"."""

    key: str
    name: str
    trust: str
    kind: str
    ip: str
    enabled: bool = True
    state: str = UNKNOWN
    cpu: str = ""
    memory: str = ""
    snapshots: str = ""
    drift: str = ""
    location: str = ""

    @property
    def is_domain(self) -> bool:
        return self.key.startswith("d:")

    def texts(self, location: bool = False) -> tuple[str, ...]:
        label = f"{TRUST_GLYPHS[self.trust]} {self.name}" if self.is_domain else f"   {self.name}"
        texts = (label, self.trust, self.kind, self.ip, self.state, self.cpu, self.memory, self.snapshots, self.drift)
        return (*texts, self.location) if location else texts

    def cells(self, colour: bool, location: bool = False) -> list[Text]:
        bg = TRUST_COLOURS[self.trust][1]
        style = f"on {bg}" if colour else ""
        if self.is_domain:
            style += " bold"
        if not self.enabled:
            style += " dim"
        return [Text(v, style=style.strip()) for v in self.texts(location)]


class DomainTable(DataTable):
    """Rows are keyed, so live updates change cells in place instead of rebuilding the table."""

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="table.down"),
        Binding("k", "cursor_up", "Up", show=False, id="table.up"),
        Binding("g", "scroll_top", "Top", show=False, id="table.top"),
        # No vim `G` (bottom) here: on the domains view G opens the GPU screen; ctrl+end goes to the bottom.
    ]

    class MenuRequested(Message):
        """A right click on a row: its menu is wanted (posted, so the click has moved the cursor by then)."""

    def __init__(self, *, colour: bool = True, **kwargs):
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)
        self.colour = colour
        self.with_location = False  # set before show(): the Location column, on a cluster
        self.rows_by_key: dict[str, Row] = {}
        self._order: list[str] = []
        self._added = 0
        self._generation = 0

    def on_mount(self) -> None:
        self._columns([])

    def on_click(self, event: events.Click) -> None:
        if event.button == 3:
            self.post_message(self.MenuRequested())

    def _columns(self, rows: list[Row]) -> None:
        # Widths come from the texts, not from DataTable's auto-width (which measures every cell and repaints
        # only at the next idle): the first paint must already be right, and cheap.
        for i, column in enumerate(self.columns_shown):
            width = max(
                [len(column), MIN_WIDTHS.get(column, 0)] + [cell_len(row.texts(self.with_location)[i]) for row in rows]
            )
            self.add_column(column, key=column, width=width)

    @property
    def columns_shown(self) -> tuple[str, ...]:
        return (*COLUMNS, LOCATION) if self.with_location else COLUMNS

    def show(self, rows: list[Row]) -> None:
        """Replace every row. The first screenful is added at once; the rest follows in chunks after the
        next refreshes, so a thousand machines never hold up the first paint."""
        self._generation += 1
        self.clear(columns=True)
        self.rows_by_key = {row.key: row for row in rows}
        self._order = [row.key for row in rows]
        self._added = 0
        self._columns(rows)
        self._add_until(FIRST_ROWS)
        if self._added < len(self._order):
            self.call_after_refresh(self._add_more, self._generation)

    def _add_more(self, generation: int) -> None:
        if generation != self._generation:
            return  # a newer show() replaced these rows
        self._add_until(self._added + CHUNK_ROWS)
        if self._added < len(self._order):
            self.call_after_refresh(self._add_more, generation)

    def _add_until(self, end: int) -> None:
        for key in self._order[self._added : end]:
            self.add_row(*self.rows_by_key[key].cells(self.colour, self.with_location), key=key)
        self._added = min(end, len(self._order))

    def update_row(self, key: str, **changes: Any) -> None:
        """Change some fields of one row in place (live updates): no rebuild, the cursor stays."""
        old = self.rows_by_key.get(key)
        if old is None:
            return
        new = self.rows_by_key[key] = replace(old, **changes)
        if key not in self.rows:
            return  # not added yet: its chunk will show the new values
        cells = zip(
            self.columns_shown,
            old.cells(self.colour, self.with_location),
            new.cells(self.colour, self.with_location),
            strict=True,
        )
        for column, before, after in cells:
            if before != after:
                self.update_cell(key, column, after)

    def move_to(self, key: str) -> bool:
        """Put the cursor on the row with that key; False when it is not in view."""
        if key not in self.rows_by_key:
            return False
        if key not in self.rows:
            self._add_until(len(self._order))
        self.move_cursor(row=self.get_row_index(key))
        return True

    def selected(self) -> Row | None:
        if not self.rows_by_key or self.cursor_row < 0 or self.cursor_row >= self.row_count:
            return None
        key = self.coordinate_to_cell_key(Coordinate(self.cursor_row, 0)).row_key.value
        return self.rows_by_key.get(key) if key is not None else None
