"""Field-by-field comparison of expected and real Incus objects: only declared keys and devices count
(extra keys and devices in Incus are left alone, SPEC §8.1)."""

from __future__ import annotations

from typing import Any

from ...psot.constants import INFRA_KEY
from ...psot.desktop import DISPLAY_DEVICE_PREFIX
from ...psot.enrich_services import SERVICE_DEVICE_PREFIX
from ...psot.file_portal import PORTAL_DEVICE
from .desired import Devices
from .plan_models import Action, Drift, Kind
from .real_state import other_infra

# The tool's own relays (service sockets, displays): removed once nothing declares them.
RELAY_PREFIXES = (SERVICE_DEVICE_PREFIX, DISPLAY_DEVICE_PREFIX)


def config_diff(expected: dict[str, str], actual: dict[str, str]) -> dict[str, tuple[str, str | None]]:
    """Declared keys whose real value differs: key → (expected, actual or None when absent)."""
    return {k: (v, actual.get(k)) for k, v in expected.items() if actual.get(k) != v}


def device_differs(expected: dict[str, str], actual: dict[str, str] | None) -> bool:
    return actual is None or any(actual.get(k) != v for k, v in expected.items())


def devices_diff(expected: Devices, actual: Devices) -> dict[str, tuple[dict[str, str], dict[str, str] | None]]:
    return {name: (dev, actual.get(name)) for name, dev in expected.items() if device_differs(dev, actual.get(name))}


def stale_service_devices(expected: Devices, actual: Devices) -> list[str]:
    """The tool's own service relays and file portal that nothing declares any more (a `consumes` entry or a
    `file_portal` removed): unlike other extra devices (SPEC §8.1), they are removed, or the grant would outlive
    its removal."""
    return sorted(
        name
        for name, dev in actual.items()
        if name not in expected
        and (
            (name.startswith(RELAY_PREFIXES) and dev.get("type") == "proxy")
            or (name == PORTAL_DEVICE and dev.get("type") == "disk")
        )
    )


def hot_pluggable(devices: Devices) -> bool:
    """Incus attaches and detaches a container's proxy devices, and the file portal's disk, live: no restart for
    them (a user's own disks keep the restart: what they hold may be in use at boot)."""
    return all(
        dev.get("type") == "proxy" or (name == PORTAL_DEVICE and dev.get("type") == "disk")
        for name, dev in devices.items()
    )


def merged_device(expected: dict[str, str], actual: dict[str, str] | None) -> dict[str, str]:
    """What to write: the real device's extra keys kept, the declared ones set (a device of another
    type is replaced whole)."""
    if actual is None or actual.get("type") != expected.get("type"):
        return dict(expected)
    return {**actual, **expected}


def drift_entries(kind: str, project: str, name: str, prefix: str, diff: dict[str, tuple[Any, Any]]) -> list[Drift]:
    return [
        Drift(kind=kind, project=project, name=name, field=f"{prefix}{key}", expected=exp, actual=act)
        for key, (exp, act) in diff.items()
    ]


def describe(entries: list[Drift]) -> str:
    """`config.limits.cpu: '2' → '1'; devices.gpu: absent → {...}` for the plan's text and JSON detail."""
    parts = []
    for entry in entries:
        actual = "absent" if entry.actual is None else _short(entry.actual)
        parts.append(f"{entry.field}: {actual} → {_short(entry.expected)}")
    return "; ".join(parts)


def _short(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={v}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return repr(value)


def owned_elsewhere(
    kind: Kind, project: str, name: str, domain: str | None, config: dict[str, str], infra: str
) -> Action | None:
    """A conflict when Incus's object is tagged with another infra's name: apply never takes it over."""
    owner = other_infra(config, infra)
    if owner is None:
        return None
    detail = (
        f"belongs to infra {owner!r} ({INFRA_KEY}={owner}), not {infra!r}: apply never takes another infra's "
        "object; rename the domain or machine in one of the two infras"
    )
    return Action(op="conflict", kind=kind, project=project, name=name, domain=domain, detail=detail)
