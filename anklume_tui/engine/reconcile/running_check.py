"""SPEC §8.2's check once apply (and provisioning) ended: every machine of the applied domains is Running,
read in one listing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...psot.model import Infra
from ..incus.models import Instance

if TYPE_CHECKING:
    from ..incus.client import IncusClient


async def not_running(
    client: IncusClient, infra: Infra, limit: str | None, instances: list[Instance] | None = None
) -> list[str]:
    """`project/instance (status)` of each declared machine of the applied domain(s) that is not Running;
    `instances`: the listing apply ended with, when nothing ran since."""
    found = instances if instances is not None else await client.list_instances()
    status = {(i.project, i.name): i.status for i in found}
    wanted = [
        (d.project, m.instance_name)
        for d in infra.enabled_domains
        if limit is None or d.name == limit
        for m in d.machines
    ]
    return [f"{p}/{n} ({status.get((p, n)) or 'missing'})" for p, n in wanted if status.get((p, n)) != "Running"]
