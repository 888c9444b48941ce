"""Placement on an Incus cluster (issue 20): where a machine is declared (`target:` of the machine, else of its
domain: a member or `@group`), whether it is there, and the move that puts it back.

Off a cluster (no members) a target does nothing (psot warns, W14): nothing is sent, nothing drifts. A machine
declared nowhere is left where Incus's scheduler put it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..incus.models import Instance
from .desired import ExpectedInstance
from .plan_models import Action, Drift

if TYPE_CHECKING:  # not the client's cluster calls, for status (incus/quick_read.py)
    from ..incus.cluster import ClusterMember

Members = Sequence["ClusterMember"]  # empty: Incus is not a cluster


def placed_on(target: str | None, members: Members) -> str | None:
    """The `?target=` to send: the declared one on a cluster, else None."""
    return target if target and members else None


def in_place(target: str, location: str, members: Members) -> bool:
    if not target.startswith("@"):
        return location == target
    return any(m.server_name == location and target[1:] in m.groups for m in members)


def move_destination(target: str, members: Members) -> str:
    """The member a misplaced machine goes to: the one named, or the first online member of the group."""
    if not target.startswith("@"):
        return target
    group = [m for m in members if target[1:] in m.groups]
    online = [m.server_name for m in group if m.status == "Online"] or [m.server_name for m in group]
    return sorted(online)[0] if online else target


def move_action(exp: ExpectedInstance, real: Instance, members: Members) -> tuple[list[Action], list[Drift]]:
    """A machine found on another member than declared: a move (stop, move, start), never delete and create."""
    target = placed_on(exp.target, members)
    if target is None or not real.location or in_place(target, real.location, members):
        return [], []
    to = move_destination(target, members)
    drift = Drift(
        kind="instance", project=exp.project, name=exp.name, field="location", expected=target, actual=real.location
    )
    action = Action(
        op="move",
        kind="instance",
        project=exp.project,
        name=exp.name,
        domain=exp.domain,
        instance=exp.name,
        detail=f"on {real.location}, declared on {target}: stop, move to {to}, start",
        changes={"target": to, "from": real.location},
    )
    return [action], [drift]


def on_member(action: Action) -> str:
    """' on cluster member X' for an action's message when it runs on (or goes to) a known member."""
    member = action.changes.get("target") or action.changes.get("location")
    return f" on cluster member {member}" if member else ""
