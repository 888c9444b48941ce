"""What `status` reads from Incus, apart from how it shows it (status.py): this module imports the Incus client
alone, so a caller can start the read before it imports the check, the models and the reports (issue 17)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from ..incus.client import IncusClient
from ..incus.models import InstanceWithState, Network, Project


@dataclass(frozen=True)
class StatusListings:
    """What `status` reads from Incus, in one round of three requests (`read_status`); it also holds what the
    PSOT's stable allocation reads (`allocation.prior_allocation`): the bridges and each instance's eth0."""

    projects: list[Project]
    networks: list[Network]
    instances: list[InstanceWithState]


async def read_status(client: IncusClient, answered: Callable[[], None] | None = None) -> StatusListings:
    """Projects, the bridges, and every instance with its live state and snapshots: three requests at once.
    `answered` is called as the first answer (projects, the quickest) is in: the other two requests are then
    with Incus, which is still working out the instances' state (for a caller with work to do meanwhile)."""

    async def projects() -> list[Project]:
        found = await client.list_projects()
        if answered is not None:
            answered()
        return found

    listed, networks, instances = await asyncio.gather(
        projects(), client.list_networks(project="default"), client.list_instances_with_state()
    )
    return StatusListings(listed, networks, instances)
