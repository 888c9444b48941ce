"""Cluster calls of the Incus client: its members, and moving an instance from one member to another (mixed
into `incus.IncusClient`; every request goes through its transport).

A move is Incus's own: `POST /1.0/instances/NAME?target=MEMBER` with `{"name": NAME, "migration": true}` on a
stopped instance. A running one is stopped first and started again afterwards, on the new member when the move
worked, on its old one when it did not: the user's machine is never left stopped by a failed move.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import Field

from ... import errors
from .errors import IncusError, IncusNotFound
from .models import IncusObject, Instance
from .transport import IncusTransport, q

STOP_TIMEOUT = 30  # seconds of a clean stop before the machine is stopped by force


class MoveRefused(errors.Refused):
    """The move cannot be made as asked (not a cluster, an unknown or offline member, another remote); the
    message names the machine and the member, and what to do. Nothing was changed."""


class MoveFailed(errors.Failed):
    """Incus refused or failed the move itself; the message gives its words and where the machine is now."""


class ClusterMember(IncusObject):
    server_name: str
    url: str = ""
    status: str = ""  # Online, Offline, Evacuated, ...
    message: str = ""
    roles: list[str] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)
    failure_domain: str = ""

    @property
    def online(self) -> bool:
        return self.status == "Online"


@dataclass(frozen=True)
class MoveProgress:
    """One step of a move, for a progress line: `step` is stopping, moving, starting or done."""

    project: str
    name: str
    step: str
    text: str


@dataclass(frozen=True)
class Moved:
    """What a move did: from where to where, and whether the machine was (and is again) running."""

    project: str
    name: str
    source: str
    target: str
    was_running: bool
    already_there: bool = False


ProgressFn = Callable[[MoveProgress], None]


class ClusterCalls:
    _t: IncusTransport

    async def is_clustered(self) -> bool:
        found = await self._t.call("GET", "/1.0/cluster")
        return bool((found or {}).get("enabled"))

    async def cluster_members(self) -> list[ClusterMember]:
        """The members of the cluster; [] when this Incus is not one."""
        if not await self.is_clustered():
            return []
        found = await self._t.call("GET", "/1.0/cluster/members", params={"recursion": 1})
        return [ClusterMember.model_validate(m) for m in found]

    async def move_instance(
        self,
        project: str,
        name: str,
        target_member: str | None = None,
        target_remote: str | None = None,
        *,
        on_progress: ProgressFn | None = None,
    ) -> Moved:
        """Move the instance to `target_member` of this cluster: stop (if running), move, start again.
        Raises MoveRefused before touching anything when the move cannot be made, MoveFailed when Incus fails
        it (the machine then runs again where it was, if it ran)."""
        machine = f"{project}/{name}"
        if target_remote is not None:
            raise MoveRefused(
                f"cannot move {machine} to remote {target_remote!r}: anklume-tui moves machines between members of "
                f"one cluster only; between two Incus servers use the incus CLI, which relays the migration "
                f"(`incus move SOURCE:{name} {target_remote}:{name} --project {project}`, the machine stopped), "
                f"then point global.incus at the server that holds it"
            )
        if not target_member:
            raise MoveRefused(f"cannot move {machine}: no member named to move it to")
        members = await self.cluster_members()
        if not members:
            raise MoveRefused(
                f"cannot move {machine} to member {target_member!r}: the Incus at {self._t.endpoint.url} is not a "
                f"cluster (a machine moves between the members of one cluster)"
            )
        member = next((m for m in members if m.server_name == target_member), None)
        names = ", ".join(sorted(m.server_name for m in members))
        if member is None:
            raise MoveRefused(f"cannot move {machine} to member {target_member!r}: no such member (members: {names})")
        if not member.online:
            said = f": {member.message}" if member.message else ""
            raise MoveRefused(
                f"cannot move {machine} to member {target_member!r}: it is {member.status or 'not online'}{said}"
            )
        try:
            found = Instance.model_validate(await self._t.call("GET", f"/1.0/instances/{q(name)}", project=project))
        except IncusNotFound:
            raise MoveRefused(f"cannot move {machine}: it does not exist in Incus (apply creates it)") from None
        if found.location == target_member:
            done = Moved(project, name, found.location, target_member, found.running, already_there=True)
            _say(on_progress, done, "done", f"{machine} is already on {target_member}")
            return done
        return await self._move(found, target_member, on_progress)

    async def _move(self, found: Instance, member: str, on_progress: ProgressFn | None) -> Moved:
        project, name, source = found.project, found.name, found.location
        machine = f"{project}/{name}"
        moved = Moved(project, name, source, member, was_running=found.status != "Stopped")
        if moved.was_running:
            _say(on_progress, moved, "stopping", f"stopping {machine} on {source}")
            await self._stop(name, project)
        _say(on_progress, moved, "moving", f"moving {machine} from {source} to {member}")
        try:
            await self._t.call(
                "POST",
                f"/1.0/instances/{q(name)}",
                project=project,
                params={"target": member},
                json={"name": name, "migration": True},
            )
        except IncusError as exc:
            where = f"it stays on {source}"
            if moved.was_running:
                where = await self._start_again(name, project, source, on_progress, moved)
            raise MoveFailed(f"Incus did not move {machine} to {member}: {exc.message}; {where}") from None
        if moved.was_running:
            _say(on_progress, moved, "starting", f"starting {machine} on {member}")
            try:
                await self._state(name, project, "start")
            except IncusError as exc:
                raise MoveFailed(f"{machine} was moved to {member} but did not start there: {exc.message}") from None
        _say(on_progress, moved, "done", f"{machine} is on {member}" + (" and running" if moved.was_running else ""))
        return moved

    async def _start_again(
        self, name: str, project: str, source: str, on_progress: ProgressFn | None, moved: Moved
    ) -> str:
        _say(on_progress, moved, "starting", f"starting {project}/{name} again on {source}")
        try:
            await self._state(name, project, "start")
        except IncusError as exc:
            return f"it stays on {source}, stopped (starting it again failed: {exc.message})"
        return f"it runs again on {source}"

    async def _stop(self, name: str, project: str) -> None:
        """A clean stop (the machine's init ends its programs), by force when it does not end in time."""
        try:
            await self._state(name, project, "stop", timeout=STOP_TIMEOUT)
        except IncusError:
            await self._state(name, project, "stop", force=True)

    async def _state(self, name: str, project: str, action: str, *, timeout: int = 30, force: bool = False) -> None:
        body: dict[str, Any] = {"action": action, "timeout": timeout, "force": force}
        await self._t.call("PUT", f"/1.0/instances/{q(name)}/state", project=project, json=body, timeout=timeout + 30)


def _say(on_progress: ProgressFn | None, moved: Moved, step: str, text: str) -> None:
    if on_progress is not None:
        on_progress(MoveProgress(moved.project, moved.name, step, text))
