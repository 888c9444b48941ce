"""Enrichment steps 5 and 6 (SPEC §6, §3.8, §3.9): shared volumes and persistent data as disk devices.

Each machine's `devices` becomes `sv-*`, then `pd-*`, then the user's own devices (the user wins on an
equal name). Machines that get no generated device keep `devices` exactly as written (or absent).
"""

from __future__ import annotations

from typing import Any

from .constants import DEFAULT_PERSISTENT_DATA_BASE, DEFAULT_SHARED_VOLUMES_BASE

Devices = dict[str, dict[str, Any]]


def add_volume_devices(data: dict[str, Any]) -> None:
    """Mutates `data` (the enrichment's own copy) in place."""
    settings = data.get("global") or {}
    machines = machines_by_name(data)
    generated: dict[str, Devices] = {}
    shares_base = settings.get("shared_volumes_base") or DEFAULT_SHARED_VOLUMES_BASE
    for volume_name, volume in (data.get("shared_volumes") or {}).items():
        device = _shared_device(volume_name, volume, shares_base)
        for machine_name, access in _resolve_consumers(volume, data, machines).items():
            entry = dict(device, readonly="true") if access == "ro" else dict(device)
            generated.setdefault(machine_name, {})[f"sv-{volume_name}"] = entry
    data_base = settings.get("persistent_data_base") or DEFAULT_PERSISTENT_DATA_BASE
    for machine_name, (domain_name, machine) in machines.items():
        for volume_name, volume in (machine.get("persistent_data") or {}).items():
            device = {
                "type": "disk",
                "source": f"{data_base}/{domain_name}/{machine_name}/{volume_name}",
                "path": volume.get("path"),
                "shift": "true",
            }
            if volume.get("readonly"):
                device["readonly"] = "true"
            generated.setdefault(machine_name, {})[f"pd-{volume_name}"] = device
    merge_generated(data, machines, generated)


def machines_by_name(data: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """machine name -> (its domain's name, its body) in the infra.yml-shaped mapping."""
    return {
        machine_name: (domain_name, machine)
        for domain_name, domain in (data.get("domains") or {}).items()
        for machine_name, machine in ((domain or {}).get("machines") or {}).items()
    }


def merge_generated(
    data: dict[str, Any], machines: dict[str, tuple[str, dict[str, Any]]], generated: dict[str, Devices]
) -> None:
    """Devices the enrichment generates, merged into each machine's own: the user's device wins on an equal
    name (an empty machine body gets a mapping)."""
    for machine_name, devices in generated.items():
        domain_name, machine = machines[machine_name]
        if machine is None:
            machine = data["domains"][domain_name]["machines"][machine_name] = {}
        machine["devices"] = {**devices, **(machine.get("devices") or {})}


def _shared_device(name: str, volume: dict[str, Any], base: str) -> dict[str, Any]:
    device = {
        "type": "disk",
        "source": volume.get("source") or f"{base}/{name}",
        "path": volume.get("path") or f"/shared/{name}",
    }
    if volume.get("shift") is not False:
        device["shift"] = "true"
    return device


def _resolve_consumers(
    volume: dict[str, Any], data: dict[str, Any], machines: dict[str, tuple[str, dict[str, Any]]]
) -> dict[str, str]:
    """Machine → access. A domain expands to its machines; a machine's own entry overrides its domain's.

    A consumer named like both a domain and a machine is taken as the domain.
    """
    domains = data.get("domains") or {}
    consumers = volume.get("consumers") or {}
    resolved: dict[str, str] = {}
    for name, access in consumers.items():
        if name in domains:
            for machine_name in domains[name].get("machines") or {}:
                resolved[machine_name] = access
    for name, access in consumers.items():
        if name not in domains and name in machines:
            resolved[name] = access
    return resolved
