"""Everyday actions on machines: start, stop, restart, freeze, snapshot now, delete.

Each takes the caller's client (the TUI's workers open one with `engine.incus.connect`). Deleting
refuses what the tool did not create and what is
protected (Incus's truth values, through a profile too): it never stops what it may not delete.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ... import errors
from ..incus.client import IncusClient
from ..reconcile.real_state import is_managed

STATE_ACTIONS = ("start", "stop", "restart", "freeze", "unfreeze")


class Refused(errors.Refused):
    """The action would touch something the user has to release first; the message says what."""


@dataclass(frozen=True)
class Target:
    project: str
    instance: str

    def __str__(self) -> str:
        return f"{self.project}/{self.instance}"


def snapshot_name(now: datetime | None = None) -> str:
    return (now or datetime.now()).strftime("snap-%Y%m%d-%H%M%S")


async def change_state(client: IncusClient, target: Target, action: str) -> None:
    if action not in STATE_ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    await client.change_state(target.instance, action, force=action == "stop", timeout=30, project=target.project)


async def snapshot_now(client: IncusClient, target: Target, name: str | None = None) -> str:
    name = name or snapshot_name()
    existing = {s.name for s in await client.list_snapshots(target.instance, project=target.project)}
    if name not in existing:
        await client.create_snapshot(target.instance, name, project=target.project)
    return name


async def delete_machine(client: IncusClient, target: Target) -> None:
    instance = await client.get_instance(target.instance, project=target.project)
    if not is_managed(instance.config):
        raise Refused(f"{target} was not created by anklume-tui (no user.anklume.managed=true): left alone")
    if instance.protected:
        raise Refused(f"{target} is {instance.protection}")
    if instance.running or instance.status == "Frozen":
        await client.change_state(target.instance, "stop", force=True, project=target.project)
    await client.delete_instance(target.instance, project=target.project)
