"""SPEC §8.2's check once apply (and provisioning) ended: every machine of the applied domains is Running,
read in one listing."""

from __future__ import annotations

from ...psot.model import Infra
from ..incus.client import IncusClient


async def not_running(client: IncusClient, infra: Infra, limit: str | None) -> list[str]:
    """`project/instance (status)` of each declared machine of the applied domain(s) that is not Running."""
    status = {(i.project, i.name): i.status for i in await client.list_instances()}
    wanted = [
        (d.project, m.instance_name)
        for d in infra.enabled_domains
        if limit is None or d.name == limit
        for m in d.machines
    ]
    return [f"{p}/{n} ({status.get((p, n)) or 'missing'})" for p, n in wanted if status.get((p, n)) != "Running"]
