"""Pre-apply snapshots (SPEC §10.1): `pre-apply-YYYYMMDD-HHMMSS` on every existing instance the plan
changes, their history under `<state>/pre-apply-snapshots/`, and retention after apply."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

from ..host.private_files import private_folder, write_private
from ..incus.client import IncusClient
from ..incus.errors import IncusError, IncusNotFound, IncusUnreachable
from .plan_models import Plan
from .real_state import is_managed

PREFIX = "pre-apply-"
DIR = "pre-apply-snapshots"
KEEP = 3


def snapshot_name(now: float | None = None) -> str:
    return PREFIX + time.strftime("%Y%m%d-%H%M%S", time.localtime(now))


def changed_instances(plan: Plan) -> list[tuple[str, str]]:
    """Existing instances the plan changes: updated or started ones, and those whose volumes change.

    Not an instance a previous apply began creating and never finished (never started:
    killed mid-run): it holds nothing to roll back to, and its half-written rootfs may not snapshot."""
    seen: dict[tuple[str, str], None] = {}
    for action in plan.actions:
        unfinished = action.changes.get("unborn")
        if action.kind == "instance" and action.op in ("update", "start", "renumber") and not unfinished:
            seen[(action.project, action.name)] = None
        elif action.kind == "volume" and action.op == "update" and action.instance:
            seen[(action.project, action.instance)] = None
    return list(seen)


async def take(client: IncusClient, targets: list[tuple[str, str]], name: str) -> dict[tuple[str, str], str]:
    """Snapshot each target; returns the failures (target → message). Unreachable Incus propagates."""

    async def one(project: str, instance: str) -> tuple[tuple[str, str], str | None]:
        try:
            await client.create_snapshot(instance, name, project=project)
        except IncusUnreachable:
            raise
        except IncusError as exc:
            if exc.status == 409 or "already exists" in exc.message.lower():
                return (project, instance), None
            return (project, instance), str(exc)
        return (project, instance), None

    results = await asyncio.gather(*(one(p, i) for p, i in targets))
    return {target: error for target, error in results if error}


def record(state_dir: Path, name: str, scope: str) -> None:
    folder = private_folder(Path(state_dir) / DIR, root=Path(state_dir))
    stamp = name.removeprefix(PREFIX)
    write_private(folder / "latest", stamp + "\n")
    write_private(folder / "latest-scope", scope + "\n")
    history = history_of(state_dir)
    if name not in history:
        history.append(name)
    write_private(folder / "history", "".join(f"{h}\n" for h in history))


def history_of(state_dir: Path) -> list[str]:
    with contextlib.suppress(OSError):
        return [line.strip() for line in (Path(state_dir) / DIR / "history").read_text().splitlines() if line.strip()]
    return []


async def apply_retention(client: IncusClient, state_dir: Path, keep: int = KEEP) -> list[str]:
    """Keep the newest `keep` history entries; delete older pre-apply snapshots from every managed
    instance; trim `history`. Returns `project/instance/snapshot` of what was deleted."""
    history = history_of(state_dir)
    old = set(history[:-keep] if keep > 0 else history)
    if not old:
        return []
    deleted: list[str] = []
    for inst in await client.list_instances():
        if not is_managed(inst.config):
            continue
        for snap in await client.list_snapshots(inst.name, project=inst.project):
            short = snap.name.rsplit("/", 1)[-1]
            if short in old:
                with contextlib.suppress(IncusNotFound):
                    await client.delete_snapshot(inst.name, short, project=inst.project)
                    deleted.append(f"{inst.project}/{inst.name}/{short}")
    write_private(Path(state_dir) / DIR / "history", "".join(f"{h}\n" for h in history if h not in old))
    return deleted


def latest_of(state_dir: Path) -> str | None:
    """The timestamp of the newest pre-apply snapshot set (`latest`), None when none was recorded."""
    with contextlib.suppress(OSError):
        return (Path(state_dir) / DIR / "latest").read_text().strip() or None
    return None
