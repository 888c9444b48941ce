"""Keep a view current from Incus's event stream: one typed change per instance lifecycle event.

No polling: an event names the instance. A start, stop, freeze or unfreeze says the new status itself;
for any other change only that instance is read again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, unquote, urlparse

from ..incus.client import IncusClient
from ..incus.errors import IncusNotFound

if TYPE_CHECKING:
    from ...reports import StatusReport

INSTANCE_PATH = "/1.0/instances/"
STATUS_AFTER = {
    "instance-created": "Stopped",
    "instance-started": "Running",
    "instance-restarted": "Running",
    "instance-resumed": "Running",
    "instance-stopped": "Stopped",
    "instance-shutdown": "Stopped",
    "instance-paused": "Frozen",
}


@dataclass(frozen=True)
class InstanceChange:
    """What changed for one instance; `status` is None when the instance is gone."""

    project: str
    name: str
    action: str
    status: str | None


def instance_of(event: dict) -> tuple[str, str, str] | None:
    """(project, instance, action) of a lifecycle event about an instance (not a snapshot), else None."""
    if event.get("type") != "lifecycle":
        return None
    metadata = event.get("metadata") or {}
    action = str(metadata.get("action", ""))
    source = urlparse(str(metadata.get("source", "")))
    if not action.startswith("instance-") or not source.path.startswith(INSTANCE_PATH):
        return None
    rest = source.path[len(INSTANCE_PATH) :]
    if "/" in rest:  # snapshots, backups, files: the instance itself did not change state
        return None
    project = parse_qs(source.query).get("project", [event.get("project") or "default"])[0]
    return project, unquote(rest), action


async def changes_from(client: IncusClient, stream) -> AsyncIterator[InstanceChange]:
    async for event in stream:
        found = instance_of(event)
        if found is None:
            continue
        project, name, action = found
        if action == "instance-deleted":
            yield InstanceChange(project, name, action, None)
            continue
        if action in STATUS_AFTER:
            yield InstanceChange(project, name, action, STATUS_AFTER[action])
            continue
        try:
            instance = await client.get_instance(name, project=project)
        except IncusNotFound:
            yield InstanceChange(project, name, action, None)
            continue
        yield InstanceChange(project, name, action, instance.status)


async def live_status(url: str | None, infra) -> AsyncIterator[StatusReport | InstanceChange]:
    """The status of every declared machine, then each change as it happens.

    Yields a StatusReport first, then InstanceChange items; raises IncusError (IncusUnreachable
    when the daemon is not there or goes away), leaving retries to the caller.
    """
    from ..reconcile.status import gather_status

    async with IncusClient(url) as client, client.events(types=("lifecycle",)) as stream:
        # Subscribed before reading the status: a change made while it is read still arrives afterwards.
        yield await gather_status(client, infra)
        async for change in changes_from(client, stream):
            yield change
