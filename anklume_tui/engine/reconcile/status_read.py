"""What `status` reads from Incus, apart from how it shows it (status.py): this module imports neither the
check nor the reports, so a caller starts the read before it imports them (issue 17). `start_status_read` sends
the requests with the standard library alone (incus/quick_read.py), before httpx, asyncio and pydantic are
imported; `read_status` sends them through the client, for an Incus that is no local socket."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..incus.quick_read import start_status_reads, status_listings

if TYPE_CHECKING:
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

    import asyncio

    async def projects() -> list[Project]:
        found = await client.list_projects()
        if answered is not None:
            answered()
        return found

    listed, networks, instances = await asyncio.gather(
        projects(), client.list_networks(project="default"), client.list_instances_with_state()
    )
    return StatusListings(listed, networks, instances)


def start_status_read(url: str | None) -> Callable[[], StatusListings | None] | None:
    """`read_status`'s three requests, sent now with the standard library alone (incus/quick_read.py), and
    a call that gives their answers as `StatusListings` once the caller has imported the rest; None from either
    when Incus is not a local socket or did not simply answer: `read_status` then reads, and says why not."""
    reads = start_status_reads(url)
    if reads is None:
        return None

    def answered() -> StatusListings | None:
        found = status_listings(reads)
        return None if found is None else StatusListings(*found)

    return answered
