"""The domain tree as a table: a row per domain, then a row per machine, coloured by trust."""

from __future__ import annotations

from dataclasses import dataclass, replace

from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable

from ..psot.constants import TRUST_COLOURS, TRUST_GLYPHS

COLUMNS = ("name", "trust", "type", "ip", "state", "cpu", "memory", "snaps", "drift")
UNKNOWN = "…"


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

    @property
    def is_domain(self) -> bool:
        return self.key.startswith("d:")

    def cells(self, colour: bool) -> list[Text]:
        bg = TRUST_COLOURS[self.trust][1]
        style = f"on {bg}" if colour else ""
        if self.is_domain:
            style += " bold"
        if not self.enabled:
            style += " dim"
        label = f"{TRUST_GLYPHS[self.trust]} {self.name}" if self.is_domain else f"   {self.name}"
        values = (label, self.trust, self.kind, self.ip, self.state, self.cpu, self.memory, self.snapshots, self.drift)
        return [Text(v, style=style.strip()) for v in values]


class DomainTable(DataTable):
    """Rows are keyed, so live updates change cells in place instead of rebuilding the table."""

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("g", "scroll_top", "Top", show=False),
        Binding("G", "scroll_bottom", "Bottom", show=False),
    ]

    def __init__(self, *, colour: bool = True, **kwargs):
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)
        self.colour = colour
        self.rows_by_key: dict[str, Row] = {}

    def on_mount(self) -> None:
        self._columns([])

    def _columns(self, cells: list[list[Text]]) -> None:
        # Widths are computed here rather than left to DataTable's lazy auto-width, which
        # repaints only at the next idle: the first paint must already be right.
        for i, column in enumerate(COLUMNS):
            width = max([len(column)] + [row[i].cell_len for row in cells])
            self.add_column(column, key=column, width=width)

    def show(self, rows: list[Row]) -> None:
        self.clear(columns=True)
        self.rows_by_key = {row.key: row for row in rows}
        cells = [row.cells(self.colour) for row in rows]
        self._columns(cells)
        for row, row_cells in zip(rows, cells, strict=True):
            self.add_row(*row_cells, key=row.key)

    def update_row(self, key: str, **changes: str) -> None:
        """Change some fields of one row in place (live updates): no rebuild, the cursor stays."""
        old = self.rows_by_key.get(key)
        if old is None:
            return
        new = self.rows_by_key[key] = replace(old, **changes)
        for column, before, after in zip(COLUMNS, old.cells(self.colour), new.cells(self.colour), strict=True):
            if before != after:
                self.update_cell(key, column, after, update_width=True)

    def move_to(self, key: str) -> bool:
        """Put the cursor on the row with that key; False when it is not in view."""
        if key not in self.rows_by_key:
            return False
        self.move_cursor(row=self.get_row_index(key))
        return True

    def selected(self) -> Row | None:
        if not self.rows_by_key or self.cursor_row < 0 or self.cursor_row >= self.row_count:
            return None
        key = self.coordinate_to_cell_key((self.cursor_row, 0)).row_key.value
        return self.rows_by_key.get(key)
