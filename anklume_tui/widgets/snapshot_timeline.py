"""A time axis with one lane per machine and a mark per snapshot, glyphed and coloured by origin."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from rich.text import Text
from textual.widget import Widget

if TYPE_CHECKING:  # types only: widgets take values, they never call the engine
    from ..engine.machines import SnapshotInfo, SnapshotTimeline


GLYPHS = {"manual": "●", "pre-apply": "▲", "scheduled": "◆"}
STYLES = {"manual": "bold cyan", "pre-apply": "bold yellow", "scheduled": "bold green"}
EXPIRY_GLYPH = "×"
LATER_GLYPH = "»"  # an expiry beyond the right end of the axis
LABEL_WIDTH = 22
MIN_SPAN = timedelta(hours=1)
TICK_SPACING = 18  # columns between tick labels


def snapshot_key(s: SnapshotInfo) -> str:
    return f"{s.project}/{s.instance}/{s.name}"


def axis_span(timeline: SnapshotTimeline) -> tuple[datetime, datetime]:
    """From the oldest snapshot to now, stretched to the expiries to come (at most the same length again)."""
    now = timeline.read_at
    taken = [s.created_at for lane in timeline.lanes for s in lane.snapshots if s.created_at]
    start = min(taken, default=now - MIN_SPAN)
    start = min(start, now - MIN_SPAN)
    expiries = [s.expires_at for lane in timeline.lanes for s in lane.snapshots if s.expires_at]
    end = max([now, *expiries])
    return start, min(end, now + (now - start))


def tick_label(when: datetime, span: timedelta) -> str:
    local = when.astimezone()
    return local.strftime("%m-%d" if span > timedelta(days=3) else "%m-%d %H:%M")


class TimelineChart(Widget):
    """Rendered from a SnapshotTimeline; `selected` (a snapshot key) is drawn reversed."""

    DEFAULT_CSS = "TimelineChart { height: auto; }"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.timeline: SnapshotTimeline | None = None
        self.selected: str | None = None

    def show(self, timeline: SnapshotTimeline, selected: str | None) -> None:
        self.timeline, self.selected = timeline, selected
        self.refresh(layout=True)

    def select(self, selected: str | None) -> None:
        self.selected = selected
        self.refresh()

    def get_content_height(self, container, viewport, width: int) -> int:
        return 3 + len(self.timeline.lanes) if self.timeline else 1

    def render(self) -> Text:
        if self.timeline is None:
            return Text("Reading snapshots …")
        width = max(20, self.size.width - LABEL_WIDTH)
        start, end = axis_span(self.timeline)
        span = end - start

        def column(when: datetime) -> int:
            return round((when - start) / span * (width - 1))

        lines = [self._ticks(start, span, width, column), self._axis(width, column)]
        lines += [self._lane(lane, width, end, column) for lane in self.timeline.lanes]
        lines.append(self._legend())
        return Text("\n").join(lines)

    def _ticks(self, start: datetime, span: timedelta, width: int, column) -> Text:
        """Tick labels (and "now"), left-aligned on their tick, dropped when they would touch another."""
        assert self.timeline is not None  # drawn by render once a timeline is read
        row = [" "] * width
        wanted = [(column(self.timeline.read_at), "now")]
        wanted += [(col, tick_label(start + span * col / (width - 1), span)) for col in _tick_columns(width)]
        for col, label in wanted:
            col = max(0, min(col, width - len(label)))
            if any(c != " " for c in row[max(0, col - 1) : col + len(label) + 1]):
                continue
            row[col : col + len(label)] = label
        return Text(" " * LABEL_WIDTH + "".join(row).rstrip(), style="dim")

    def _axis(self, width: int, column) -> Text:
        assert self.timeline is not None  # drawn by render once a timeline is read
        axis = ["─"] * width
        for col in _tick_columns(width):
            axis[col] = "┼"
        axis[0], axis[-1] = "├", "┤"
        axis[column(self.timeline.read_at)] = "┃"
        return Text(" " * LABEL_WIDTH + "".join(axis), style="dim")

    def _lane(self, lane, width: int, end: datetime, column) -> Text:
        name = lane.machine if len(lane.machine) < LABEL_WIDTH - 1 else lane.machine[: LABEL_WIDTH - 2] + "…"
        line = Text(f"{name:<{LABEL_WIDTH}}", style="bold" if lane.exists else "dim")
        if not lane.exists:
            return line.append("not created yet", style="dim italic")
        cells: list[tuple[str, str]] = [("·", "dim")] * width
        for snap in lane.snapshots:
            if snap.expires_at is not None:
                if snap.expires_at > end:
                    cells[-1] = (LATER_GLYPH, "dim red")
                else:
                    cells[column(snap.expires_at)] = (EXPIRY_GLYPH, "red")
        for snap in lane.snapshots:
            if snap.created_at is None:
                continue
            style = STYLES[snap.origin]
            if snapshot_key(snap) == self.selected:
                style += " reverse"
            cells[column(snap.created_at)] = (GLYPHS[snap.origin], style)
        for glyph, style in cells:
            line.append(glyph, style=style)
        return line

    def _legend(self) -> Text:
        legend = Text(" " * LABEL_WIDTH)
        for origin, glyph in GLYPHS.items():
            legend.append(glyph, style=STYLES[origin]).append(f" {origin}   ")
        legend.append(EXPIRY_GLYPH, style="red").append(" expires   ")
        legend.append(LATER_GLYPH, style="dim red").append(" expires later   ")
        return legend.append("┃ now", style="dim")


def _tick_columns(width: int) -> list[int]:
    count = max(2, width // TICK_SPACING)
    return [round(i * (width - 1) / (count - 1)) for i in range(count)]
