"""Which machines use a GPU (SPEC §10.6): `gpu: true`, or a listed profile with a `type: gpu` device."""

from __future__ import annotations

from typing import Any


def _mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _gpu_profiles(domain: dict[str, Any]) -> set[str]:
    return {
        name
        for name, profile in _mapping(domain.get("profiles")).items()
        if any(
            isinstance(device, dict) and device.get("type") == "gpu"
            for device in _mapping(_mapping(profile).get("devices")).values()
        )
    }


def gpu_consumers(data: dict[str, Any]) -> list[tuple[str, str]]:
    """(domain, machine) of every GPU consumer, disabled domains included, in declaration order.

    Tolerates any shape, so structural rules (G1) can use it before the types are known to be right.
    """
    consumers = []
    for domain_name, domain in _mapping(data.get("domains")).items():
        if not isinstance(domain, dict):
            continue
        gpu_profiles = _gpu_profiles(domain)
        for machine_name, machine in _mapping(domain.get("machines")).items():
            if not isinstance(machine, dict):
                continue
            listed = machine.get("profiles")
            via_profile = isinstance(listed, list) and any(isinstance(p, str) and p in gpu_profiles for p in listed)
            if machine.get("gpu") is True or via_profile:
                consumers.append((domain_name, machine_name))
    return consumers
