"""Snapshot timeline (SPEC §10.1) of the selected machine or of every machine of the selected domain: a time
axis with a lane per machine, the list of snapshots below it, and restore, delete and snapshot-now keys.
Incus is read again after each action and whenever its event stream says a snapshot changed."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Log, Static

from ..engine.host import recorded_call
from ..engine.incus import IncusClient, IncusError, IncusUrlError, connect
from ..engine.machines import (
    MachineLane,
    SnapshotInfo,
    SnapshotTimeline,
    Target,
    delete_snapshot,
    read_timeline,
    restore_snapshot,
    snapshot_changes,
    snapshot_now,
)
from ..errors import AnklumeError
from ..transfer_progress import human_bytes
from ..widgets.snapshot_timeline import GLYPHS, STYLES, TimelineChart, snapshot_key
from .confirm import ConfirmScreen

EVENTS_RETRY_SECONDS = 5.0
Reader = Callable[[], Awaitable[SnapshotTimeline]]


def when(moment: datetime | None) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S") if moment else "?"


class SnapshotTimelineScreen(Screen):
    DEFAULT_CSS = """
    #timeline-summary { height: auto; padding: 0 1; }
    #timeline-chart { margin: 1 0; }
    #timeline-list { height: 1fr; }
    #timeline-log { height: 5; border-top: solid $accent 40%; }
    #timeline-log.empty { display: none; }
    """
    BINDINGS = [
        Binding("r", "restore", "Restore", id="snapshots.restore"),
        Binding("d", "delete", "Delete", id="snapshots.delete"),
        Binding("n", "snapshot_now", "Snapshot now", id="snapshots.snapshot_now"),
        Binding("j", "move(1)", "Next", show=False, id="snapshots.next"),
        Binding("k", "move(-1)", "Previous", show=False, id="snapshots.previous"),
        Binding("right,l", "move(1)", "Later", show=False, priority=True, id="snapshots.later"),
        Binding("left,h", "move(-1)", "Earlier", show=False, priority=True, id="snapshots.earlier"),
        Binding("escape", "back", "Back", id="snapshots.back"),
    ]

    class Loaded(Message):
        def __init__(self, timeline: SnapshotTimeline) -> None:
            super().__init__()
            self.timeline = timeline

    class Failed(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(
        self,
        what: str,
        machines: list[tuple[str, Target]],
        incus_url: str | None,
        *,
        read_only: bool = False,
        reader: Reader | None = None,
    ) -> None:
        """`what` names the selection ("machine pro-dev", "domain pro"); `reader` replaces the Incus read
        (a fixed timeline for tests of looks; no events are watched then)."""
        super().__init__()
        self.what = what
        self.machines = machines
        self.incus_url = incus_url
        self.read_only = read_only
        self.reader = reader
        self.timeline: SnapshotTimeline | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(f"Reading the snapshots of {self.what} …", id="timeline-summary", markup=False)
        yield TimelineChart(id="timeline-chart")
        yield DataTable(id="timeline-list", cursor_type="row", zebra_stripes=True)
        yield Log(id="timeline-log", classes="empty")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"Snapshots of {self.what}"
        table = self.query_one("#timeline-list", DataTable)
        for column in ("machine", "snapshot", "taken at", "size", "origin", "expires"):
            table.add_column(column, key=column)
        table.focus()
        self.refresh_timeline()
        if self.reader is None:
            self.watch_snapshots()

    @work(exclusive=True, group="timeline-read")
    async def refresh_timeline(self) -> None:
        try:
            if self.reader is not None:
                timeline = await self.reader()
            else:
                async with connect(self.incus_url) as client:
                    timeline = await read_timeline(client, self.machines)
        except AnklumeError as exc:
            self.post_message(self.Failed(f"reading snapshots failed: {exc.user_message()}"))
            return
        self.post_message(self.Loaded(timeline))

    @work(exclusive=True, group="timeline-events")
    async def watch_snapshots(self) -> None:
        """Read again whenever Incus says a snapshot of these machines changed (its schedule included)."""
        targets = [target for _name, target in self.machines]
        while True:
            try:
                async with connect(self.incus_url) as client:
                    async for _target in snapshot_changes(client, targets):
                        self.refresh_timeline()
            except IncusUrlError:
                return
            except IncusError:
                pass  # the read reports Incus being away; try the stream again a little later
            await asyncio.sleep(EVENTS_RETRY_SECONDS)

    def on_snapshot_timeline_screen_failed(self, message: Failed) -> None:
        self.note(message.text, severity="error")

    def on_snapshot_timeline_screen_loaded(self, message: Loaded) -> None:
        self.timeline = message.timeline
        table = self.query_one("#timeline-list", DataTable)
        kept = self.selected()
        table.clear()
        for lane in message.timeline.lanes:
            for snap in lane.snapshots:
                table.add_row(*self._cells(lane, snap), key=snapshot_key(snap))
        if kept is not None and snapshot_key(kept) in {k.value for k in table.rows}:
            table.move_cursor(row=table.get_row_index(snapshot_key(kept)))
        selected = self.selected()
        self.query_one(TimelineChart).show(message.timeline, snapshot_key(selected) if selected else None)
        self.query_one("#timeline-summary", Static).update(self._summary(message.timeline))

    @staticmethod
    def _cells(lane: MachineLane, snap: SnapshotInfo) -> tuple[str | Text, ...]:
        size = human_bytes(snap.size) if snap.size is not None else "?"  # Incus gives none on some drivers
        return (
            lane.machine,
            Text(snap.name),  # Incus allows [ and ] in a snapshot name: never markup
            when(snap.created_at),
            Text(size, justify="right"),
            Text(f"{GLYPHS[snap.origin]} {snap.origin}", style=STYLES[snap.origin]),
            when(snap.expires_at) if snap.expires_at else "never",
        )

    def _summary(self, timeline: SnapshotTimeline) -> str:
        count = sum(len(lane.snapshots) for lane in timeline.lanes)
        lines = [f"{self.what}: {count} snapshot(s). r restores, d deletes, n takes one now, esc goes back."]
        lines += [self._lane_note(lane) for lane in timeline.lanes]
        return "\n".join(line for line in lines if line)

    @staticmethod
    def _lane_note(lane: MachineLane) -> str:
        if not lane.exists:
            return f"{lane.machine}: does not exist in Incus yet (p plans and applies it)."
        if not lane.schedule:
            return ""
        expiry = f", kept {lane.expiry}" if lane.expiry else ", kept until deleted"
        return f"{lane.machine}: Incus snapshots it on schedule '{lane.schedule}' as {lane.pattern}{expiry}."

    def selected(self) -> SnapshotInfo | None:
        table = self.query_one("#timeline-list", DataTable)
        if self.timeline is None or not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((s for lane in self.timeline.lanes for s in lane.snapshots if snapshot_key(s) == key), None)

    def lane_of(self, snap: SnapshotInfo) -> MachineLane | None:
        lanes = self.timeline.lanes if self.timeline else []
        return next((lane for lane in lanes if lane.target == Target(snap.project, snap.instance)), None)

    @on(DataTable.RowHighlighted)
    def _highlighted(self) -> None:
        selected = self.selected()
        self.query_one(TimelineChart).select(snapshot_key(selected) if selected else None)

    def action_move(self, step: int) -> None:
        table = self.query_one("#timeline-list", DataTable)
        if table.row_count:
            table.move_cursor(row=max(0, min(table.row_count - 1, table.cursor_row + step)))

    def _allowed(self) -> bool:
        if self.read_only:
            self.app.notify("This is the bundled example, read-only.", severity="warning")
        return not self.read_only

    def action_restore(self) -> None:
        snap = self.selected()
        lane = self.lane_of(snap) if snap else None
        if snap is None or lane is None or not self._allowed():
            return
        question = (
            f"Restore snapshot {snap.name} on {lane.machine} ({lane.target})?\n\n"
            f"Everything {lane.machine} wrote since {when(snap.created_at)} is lost."
        )
        if lane.running:
            question += (
                f"\n\n{lane.machine} is running: Incus stops it, restores the snapshot and starts it again "
                "(its processes restart; what was only in memory is lost)."
            )

        def answered(yes: bool | None) -> None:
            if yes:
                self.note(f"restore {snap.name} on {lane.machine} …")
                self.act(
                    f"restore {snap.name} on {lane.machine}",
                    lambda client: restore_snapshot(client, lane.target, snap.name),
                )

        self.app.push_screen(ConfirmScreen(question, yes="Restore"), answered)

    def action_delete(self) -> None:
        snap = self.selected()
        lane = self.lane_of(snap) if snap else None
        if snap is None or lane is None or not self._allowed():
            return
        question = f"Delete snapshot {snap.name} of {lane.machine} ({lane.target})?\n\nIt cannot be brought back."
        if lane.protected:
            question += (
                f"\n\n{lane.machine} is protected (security.protection.delete=true): that guards the machine "
                "itself; Incus still deletes its snapshots."
            )

        def answered(yes: bool | None) -> None:
            if yes:
                self.note(f"delete {snap.name} of {lane.machine} …")
                self.act(
                    f"delete {snap.name} of {lane.machine}",
                    lambda client: delete_snapshot(client, lane.target, snap.name),
                )

        self.app.push_screen(ConfirmScreen(question, yes="Delete"), answered)

    def action_snapshot_now(self) -> None:
        """A snapshot of the selected snapshot's machine; with no snapshot listed, of every machine shown."""
        if not self._allowed() or self.timeline is None:
            return
        snap = self.selected()
        lanes = [self.lane_of(snap)] if snap else [lane for lane in self.timeline.lanes if lane.exists]
        for lane in lanes:
            assert lane is not None  # a listed snapshot's machine has its lane
            self.note(f"snapshot {lane.machine} …")
            self.act(f"snapshot {lane.machine}", lambda client, target=lane.target: snapshot_now(client, target))

    @work(group="timeline-actions")
    async def act(self, label: str, call: Callable[[IncusClient], Awaitable[object]]) -> None:
        """Run one engine call on a client of its own, recorded in the usage log (when on) as a snapshot
        operation; say how it went (toast and log line), then read Incus again."""
        try:
            async with connect(self.incus_url) as client:
                result = await recorded_call("snapshot", None, call(client))
        except AnklumeError as exc:
            self.note(f"{label}: failed: {exc.user_message()}", severity="error")
        else:
            restarted = getattr(result, "running", False)
            self.note(f"{label}: done" + (" (Incus restarted it)" if restarted else ""))
        self.refresh_timeline()

    def note(self, text: str, severity: SeverityLevel = "information") -> None:
        """One line in the screen's log; failures and results also as a toast."""
        log = self.query_one("#timeline-log", Log)
        log.remove_class("empty")
        log.write_line(f"{datetime.now():%H:%M:%S} {text}")
        if not text.endswith("…"):
            self.app.notify(text, severity=severity, markup=False)

    def action_back(self) -> None:
        self.app.pop_screen()
