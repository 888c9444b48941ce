"""`status`: every declared domain and machine next to what Incus really holds (SPEC §2).

One `read_state` (a handful of requests whatever the number of instances), then, only where shown, the
live state of running instances (for the eth0 address) and each instance's snapshot count, fetched
concurrently with a bound.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from ..psot.constants import MANAGED_KEY
from ..psot.model import Domain, Infra, Machine
from ..reports import DomainStatus, MachineStatus, StatusReport
from .incus import IncusClient
from .incus_models import Instance, InstanceState
from .real_state import RealState, read_state

__all__ = ["DomainStatus", "MachineStatus", "StatusReport", "gather_status", "machine_differences"]

CONCURRENCY = 8
PROTECTION_KEY = "security.protection.delete"
INCUS_TYPES = {"lxc": "container", "vm": "virtual-machine"}
OUR_TYPES = {v: k for k, v in INCUS_TYPES.items()}

T = TypeVar("T")


async def gather_status(client: IncusClient, infra: Infra) -> StatusReport:
    """The status of every declared domain and machine (disabled domains included)."""
    real = await read_state(client, projects=[])
    present = [
        (machine, instance)
        for domain in infra.domains
        for machine in domain.machines
        if (instance := real.instance(domain.project, machine.instance_name)) is not None
    ]
    running = [instance for _, instance in present if instance.running]
    limit = asyncio.Semaphore(CONCURRENCY)
    states, snapshot_counts = await asyncio.gather(
        asyncio.gather(*(_bounded(limit, lambda i=i: client.instance_state(i.name, i.project)) for i in running)),
        asyncio.gather(*(_bounded(limit, lambda i=i: _snapshot_count(client, i)) for _, i in present)),
    )
    live = {(i.project, i.name): s for i, s in zip(running, states, strict=True)}
    counts = {(i.project, i.name): c for (_, i), c in zip(present, snapshot_counts, strict=True)}
    return StatusReport(domains=[_domain_status(d, real, live, counts) for d in infra.domains])


async def _bounded(limit: asyncio.Semaphore, call: Callable[[], Awaitable[T]]) -> T:
    async with limit:
        return await call()


async def _snapshot_count(client: IncusClient, instance: Instance) -> int:
    return len(await client.list_snapshots(instance.name, instance.project))


def _domain_status(
    domain: Domain,
    real: RealState,
    live: dict[tuple[str, str], InstanceState],
    counts: dict[tuple[str, str], int],
) -> DomainStatus:
    machines = []
    for machine in domain.machines:
        key = (domain.project, machine.instance_name)
        instance = real.instances.get(key)
        machines.append(_machine_status(machine, domain, instance, live.get(key), counts.get(key)))
    return DomainStatus(
        name=domain.name,
        project=domain.project,
        network=domain.network,
        trust_level=domain.effective_trust,
        enabled=domain.enabled,
        exists=domain.project in real.projects,
        network_exists=domain.network in real.networks,
        machines=machines,
    )


def _machine_status(
    machine: Machine, domain: Domain, instance: Instance | None, state: InstanceState | None, snapshots: int | None
) -> MachineStatus:
    if instance is None:
        return MachineStatus(
            name=machine.name,
            instance=machine.instance_name,
            state="missing",
            type=machine.type,
            ip=None,
            protected=None,
            snapshots=None,
            drift="missing" if domain.enabled else "disabled",
            differences=[],
        )
    differences = machine_differences(machine, instance) if domain.enabled else []
    return MachineStatus(
        name=machine.name,
        instance=machine.instance_name,
        state=instance.status or "unknown",
        type=OUR_TYPES.get(instance.type, machine.type),
        ip=_ip(instance, state),
        protected=instance.expanded_config.get(PROTECTION_KEY, "false").lower() == "true",
        snapshots=snapshots,
        drift="disabled" if not domain.enabled else "drift" if differences else "ok",
        differences=differences,
    )


def _ip(instance: Instance, state: InstanceState | None) -> str | None:
    """The live IPv4 address of eth0 when running, else the static one set on the instance's eth0."""
    if state is not None and state.network:
        eth0 = state.network.get("eth0")
        for address in eth0.addresses if eth0 else []:
            if address.family == "inet" and address.scope == "global":
                return address.address
    return (instance.devices.get("eth0") or {}).get("ipv4.address") or None


def incus_value(value: object) -> str:
    """How a declared config value is stored in Incus (always a string; booleans in lower case)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def declared_config(machine: Machine) -> dict[str, str]:
    """The instance config keys apply sets for this machine (SPEC §8.3 step 5)."""
    config = {key: incus_value(value) for key, value in (machine.config or {}).items()}
    extra = {
        "boot.autostart": machine.boot_autostart,
        "boot.autostart.priority": machine.boot_priority,
        "snapshots.schedule": machine.snapshots_schedule,
        "snapshots.expiry": machine.snapshots_expiry,
    }
    config.update({key: incus_value(value) for key, value in extra.items() if value is not None})
    config[PROTECTION_KEY] = "false" if machine.ephemeral else "true"
    config[MANAGED_KEY] = "true"
    return config


def machine_differences(machine: Machine, instance: Instance) -> list[str]:
    """What apply would change on this existing instance: type, profiles, declared config keys, the
    static IP and declared devices. Running state is not drift (status shows it); extra keys and
    devices are left alone by apply, so they are not drift either."""
    found: list[str] = []
    wanted_type = INCUS_TYPES[machine.type]
    if instance.type != wanted_type:
        found.append(f"type: declared {wanted_type}, real {instance.type}")
    wanted_profiles = machine.profiles or ["default"]
    if set(wanted_profiles) != set(instance.profiles):
        found.append(f"profiles: declared {wanted_profiles}, real {instance.profiles}")
    for key, wanted in declared_config(machine).items():
        real = instance.config.get(key)
        if key == PROTECTION_KEY and real is None:
            real = "false"
        if real != wanted:
            found.append(f"config {key}: declared {wanted!r}, real {real!r}")
    if machine.ip:
        real_ip = (instance.devices.get("eth0") or {}).get("ipv4.address")
        if real_ip != machine.ip:
            found.append(f"ip: declared {machine.ip}, real {real_ip or 'none (DHCP)'}")
    for name, device in _declared_devices(machine).items():
        real_device = instance.expanded_devices.get(name)
        if real_device is None:
            found.append(f"device {name}: missing")
            continue
        changed = sorted(k for k, v in device.items() if real_device.get(k) != incus_value(v))
        if changed:
            found.append(f"device {name}: {', '.join(changed)} differ")
    return found


def _declared_devices(machine: Machine) -> dict[str, dict]:
    devices = {name: dict(device or {}) for name, device in (machine.devices or {}).items()}
    has_gpu = any(d.get("type") == "gpu" for d in devices.values())
    if machine.gpu and "gpu" not in devices and not has_gpu:
        devices["gpu"] = {"type": "gpu"}
    for name, volume in (machine.storage_volumes or {}).items():
        volume = volume or {}
        disk = {"type": "disk", "pool": volume.get("pool", "default"), "source": name, "path": volume.get("path")}
        devices.setdefault(name, disk)
    return {name: {k: v for k, v in device.items() if v is not None} for name, device in devices.items()}
