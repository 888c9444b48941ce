"""The snapshot timeline of a few machines, for the TUI: each machine's snapshots with their origin, size
and expiry, its Incus snapshot schedule, and the restore and delete of one snapshot. Each call takes
the caller's client.

What Incus does, checked against the daemon: restoring a (stateless) snapshot of a running container
stops it, restores the snapshot and starts it again (a fresh boot: its processes and memory are lost).
`security.protection.delete` guards the machine only: Incus deletes a protected machine's snapshots.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import parse_qs, unquote, urlparse

from ..incus.client import IncusClient
from ..incus.errors import IncusNotFound
from ..incus.models import Instance
from . import snapshots
from .lifecycle import Target
from .snapshots import DEFAULT_PATTERN, Outcome, SnapshotError, SnapshotInfo


@dataclass(frozen=True)
class MachineLane:
    """One machine's row of the timeline. `exists` is False when Incus has no such instance (yet)."""

    machine: str
    target: Target
    exists: bool = True
    running: bool = False
    protected: bool = False
    schedule: str = ""  # snapshots.schedule (cron, or @daily...), "" when Incus takes none on its own
    expiry: str = ""  # snapshots.expiry, e.g. 7d
    pattern: str = DEFAULT_PATTERN  # snapshots.pattern: how scheduled snapshots are named
    snapshots: list[SnapshotInfo] = field(default_factory=list)  # oldest first


@dataclass(frozen=True)
class SnapshotTimeline:
    lanes: list[MachineLane]
    read_at: datetime  # when Incus was read: the right end of the time axis


async def read_timeline(client: IncusClient, machines: list[tuple[str, Target]]) -> SnapshotTimeline:
    """The lanes of `machines` ((name, target) pairs), read from Incus now."""
    lanes = []
    for name, target in machines:
        try:
            inst = await client.get_instance(target.instance, project=target.project)
        except IncusNotFound:
            lanes.append(MachineLane(name, target, exists=False))
            continue
        config = inst.expanded_config
        timeline = await snapshots.list_snapshots(client, [inst])
        lanes.append(
            MachineLane(
                name,
                target,
                running=inst.running,
                protected=inst.protected,
                schedule=config.get("snapshots.schedule", ""),
                expiry=config.get("snapshots.expiry", ""),
                pattern=config.get("snapshots.pattern") or DEFAULT_PATTERN,
                snapshots=timeline[Target(inst.project, inst.name)],
            )
        )
    return SnapshotTimeline(lanes, datetime.now(UTC))


async def snapshot_changes(client: IncusClient, targets: list[Target]) -> AsyncIterator[Target]:
    """Each target whose snapshots change (taken, by Incus's schedule too; deleted, expired, renamed;
    restored), as Incus's event stream says; raises IncusError when the daemon goes away."""
    wanted = set(targets)
    async with client.events(types=("lifecycle",)) as stream:
        async for event in stream:
            changed = _snapshot_event_target(event)
            if changed in wanted:
                yield changed


def _snapshot_event_target(event: dict) -> Target | None:
    metadata = event.get("metadata") or {}
    action = str(metadata.get("action", ""))
    if not action.startswith("instance-snapshot-") and action != "instance-restored":
        return None
    source = urlparse(str(metadata.get("source", "")))
    parts = source.path.removeprefix("/1.0/instances/").split("/")
    project = parse_qs(source.query).get("project", [event.get("project") or "default"])[0]
    return Target(project, unquote(parts[0])) if parts[0] else None


async def restore_snapshot(client: IncusClient, target: Target, name: str) -> Outcome:
    """Restore `name` on `target`; SnapshotError when either is gone (nothing changed then). A running
    machine is stopped and started again by Incus (Outcome.running says it was)."""
    inst = await _instance(client, target)
    (outcome,) = await snapshots.restore_snapshots(client, [inst], name)
    return outcome


async def delete_snapshot(client: IncusClient, target: Target, name: str) -> Outcome:
    """Delete `name` from `target`; SnapshotError when either is gone."""
    inst = await _instance(client, target)
    (outcome,) = await snapshots.delete_snapshots(client, [inst], name)
    return outcome


async def _instance(client: IncusClient, target: Target) -> Instance:
    try:
        return await client.get_instance(target.instance, project=target.project)
    except IncusNotFound:
        raise SnapshotError(f"{target} does not exist in Incus any more: nothing was changed") from None
