"""SPEC §8.2's check once apply (and provisioning) ended: every machine of the applied domains is Running,
read in one listing."""

from __future__ import annotations

from ..psot.model import Infra
from .desired import desired_state
from .incus import IncusClient


async def not_running(client: IncusClient, infra: Infra, limit: str | None) -> list[str]:
    """`project/instance (status)` of each declared machine of the applied domain(s) that is not Running."""
    status = {(i.project, i.name): i.status for i in await client.list_instances()}
    return [
        f"{e.project}/{e.name} ({status.get((e.project, e.name)) or 'missing'})"
        for e in desired_state(infra).instances
        if (limit is None or e.domain == limit) and status.get((e.project, e.name)) != "Running"
    ]
