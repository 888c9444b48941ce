"""Snapshot timelines (SPEC §10.1): create, restore, delete and list snapshots of a machine, a domain or
every declared machine, and roll back to a pre-apply snapshot.

Targets are found across projects from one instance listing. Restore and delete check every target first
and touch nothing when one lacks the snapshot: nothing is lost on a typo.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ... import exitcodes
from ...errors import Failed
from ..incus.client import IncusClient
from ..incus.errors import IncusError
from ..incus.models import Instance, Snapshot
from ..reconcile import pre_apply
from ..reconcile.real_state import is_managed
from .lifecycle import Target, snapshot_name

SELF_INSTANCE = "anklume-instance"
DEFAULT_PATTERN = "snap%d"

UNDATED = datetime.min.replace(tzinfo=UTC)  # Incus dates are UTC-aware; an undated snapshot sorts first


class SnapshotError(Failed):
    """A clear, user-facing failure (missing snapshot, unknown target, nothing to roll back)."""


class UnknownTarget(SnapshotError):
    """TARGET is neither a declared machine or domain nor an instance Incus knows."""

    exit_code = exitcodes.INVALID


@dataclass(frozen=True)
class SnapshotInfo:
    project: str
    instance: str
    name: str
    created_at: datetime | None
    expires_at: datetime | None
    origin: str  # manual | pre-apply | scheduled
    size: int | None


@dataclass(frozen=True)
class Outcome:
    target: Target
    snapshot: str
    outcome: str  # created | skipped | restored | deleted
    running: bool = False  # restore: the instance was running (Incus restarts it in place)


def _by_name(instances: list[Instance]) -> dict[str, list[Instance]]:
    found: dict[str, list[Instance]] = {}
    for inst in instances:
        found.setdefault(inst.name, []).append(inst)
    return found


def resolve_targets(infra, instances: list[Instance], target: str | None) -> tuple[list[Instance], list[str]]:
    """The existing instances TARGET names (a machine, a domain, nothing = every enabled domain's machines,
    or an instance name Incus knows) and the declared machines that do not exist (notes)."""
    by_name = _by_name(instances)
    domains = list(infra.enabled_domains) if infra is not None else []
    if target is not None:
        domain = next((d for d in domains if d.name == target), None)
        machine = next(((d, m) for d in domains for m in d.machines if m.name == target), None)
        if domain is not None:
            wanted = [(domain.project, m.instance_name) for m in domain.machines]
        elif machine is not None:
            wanted = [(machine[0].project, machine[1].instance_name)]
        elif by_name.get(target):
            return sorted(by_name[target], key=lambda i: i.project), []
        else:
            raise UnknownTarget(f"{target!r} is neither a declared machine or domain nor an existing instance")
    else:
        wanted = [(d.project, m.instance_name) for d in domains for m in d.machines]
    found: list[Instance] = []
    missing: list[str] = []
    for project, name in wanted:
        candidates = by_name.get(name, [])
        inst = next((i for i in candidates if i.project == project), candidates[0] if candidates else None)
        if inst is None:
            missing.append(f"{project}/{name}")
        else:
            found.append(inst)
    if target is not None and not found and missing and len(wanted) == 1:
        raise UnknownTarget(f"machine {target!r} does not exist in Incus ({missing[0]}): apply first")
    return found, missing


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    """`snapshots.pattern` as a regex: `%d` is the counter, a pongo2 `{{ ... }}` any text."""
    parts = re.split(r"(%d|\{\{.*?\}\})", pattern)
    rx = "".join(r"\d+" if p == "%d" else ".+" if p.startswith("{{") else re.escape(p) for p in parts)
    return re.compile(rx + r"\Z")


def origin_of(name: str, pattern: str = DEFAULT_PATTERN) -> str:
    if name.startswith(pre_apply.PREFIX):
        return "pre-apply"
    if _pattern_regex(pattern or DEFAULT_PATTERN).match(name):
        return "scheduled"
    return "manual"


def _short(snapshot: Snapshot) -> str:
    return snapshot.name.rsplit("/", 1)[-1]


def _info(inst: Instance, snap: Snapshot) -> SnapshotInfo:
    pattern = inst.expanded_config.get("snapshots.pattern") or inst.config.get("snapshots.pattern", "")
    size = (snap.model_extra or {}).get("size")
    return SnapshotInfo(
        project=inst.project,
        instance=inst.name,
        name=_short(snap),
        created_at=snap.created_at,
        expires_at=snap.expires_at,
        origin=origin_of(_short(snap), pattern),
        size=size if isinstance(size, int) and size >= 0 else None,
    )


async def list_snapshots(client: IncusClient, targets: list[Instance]) -> dict[Target, list[SnapshotInfo]]:
    """Each target's snapshots, oldest first."""
    timeline: dict[Target, list[SnapshotInfo]] = {}
    for inst in targets:
        snaps = [_info(inst, s) for s in await client.list_snapshots(inst.name, project=inst.project)]
        timeline[Target(inst.project, inst.name)] = sorted(snaps, key=lambda s: (s.created_at or UNDATED, s.name))
    return timeline


async def create_snapshots(client: IncusClient, targets: list[Instance], name: str | None = None) -> list[Outcome]:
    """Snapshot each target under `name` (default `snap-YYYYMMDD-HHMMSS`); an existing name is skipped."""
    name = name or snapshot_name()
    outcomes = []
    for inst in targets:
        existing = {_short(s) for s in await client.list_snapshots(inst.name, project=inst.project)}
        if name not in existing:
            await client.create_snapshot(inst.name, name, project=inst.project)
        outcomes.append(Outcome(Target(inst.project, inst.name), name, "skipped" if name in existing else "created"))
    return outcomes


async def _require(client: IncusClient, targets: list[Instance], name: str) -> None:
    missing = []
    for inst in targets:
        if name not in {_short(s) for s in await client.list_snapshots(inst.name, project=inst.project)}:
            missing.append(f"{inst.project}/{inst.name}")
    if missing:
        raise SnapshotError(f"snapshot {name!r} does not exist on {', '.join(missing)}: nothing was changed")


async def restore_snapshots(client: IncusClient, targets: list[Instance], name: str) -> list[Outcome]:
    """Restore `name` on every target (all must have it). Incus restores a running instance in place:
    it is stopped and started again."""
    if not targets:
        raise SnapshotError("no instance to restore")
    await _require(client, targets, name)
    outcomes = []
    for inst in targets:
        await client.restore_snapshot(inst.name, name, project=inst.project)
        outcomes.append(Outcome(Target(inst.project, inst.name), name, "restored", running=inst.running))
    return outcomes


async def delete_snapshots(client: IncusClient, targets: list[Instance], name: str) -> list[Outcome]:
    if not targets:
        raise SnapshotError("no instance to delete a snapshot from")
    await _require(client, targets, name)
    outcomes = []
    for inst in targets:
        await client.delete_snapshot(inst.name, name, project=inst.project)
        outcomes.append(Outcome(Target(inst.project, inst.name), name, "deleted"))
    return outcomes


async def rollback_pre_apply(
    client: IncusClient, state_dir: Path, timestamp: str | None = None, targets: list[Instance] | None = None
) -> list[Outcome]:
    """Restore the latest (or `timestamp`'s) pre-apply snapshot on every managed instance that has it
    (only on `targets` when given); fails when none was restored."""
    stamp = timestamp or pre_apply.latest_of(state_dir)
    if not stamp:
        raise SnapshotError(f"no pre-apply snapshot recorded in {Path(state_dir) / pre_apply.DIR}")
    name = stamp if stamp.startswith(pre_apply.PREFIX) else pre_apply.PREFIX + stamp
    pool = targets if targets is not None else [i for i in await client.list_instances() if is_managed(i.config)]
    outcomes: list[Outcome] = []
    for inst in pool:
        if name not in {_short(s) for s in await client.list_snapshots(inst.name, project=inst.project)}:
            continue
        try:
            await client.restore_snapshot(inst.name, name, project=inst.project)
        except IncusError as exc:
            raise SnapshotError(f"{inst.project}/{inst.name}: restoring {name} failed: {exc}") from None
        outcomes.append(Outcome(Target(inst.project, inst.name), name, "restored", running=inst.running))
    if not outcomes:
        raise SnapshotError(f"no instance holds the pre-apply snapshot {name!r}: nothing was restored")
    return outcomes
