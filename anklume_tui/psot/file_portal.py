"""A domain's file portal (issue 21): one host folder every machine of the domain sees, read-only unless
declared writable.

    file_portal: {host: /home/me/portal/pro, path: /portal, writable: false}

Enrichment (after services, before volumes) gives each machine of the domain the disk device `file-portal`
(the user's own device of that name wins, as with the volume devices). Apply creates a missing host folder
0700; flush never touches it or what it holds.
"""

from __future__ import annotations

from typing import Any

from .enrich_volumes import machines_by_name, merge_generated

PORTAL_DEVICE = "file-portal"
DEFAULT_PORTAL_PATH = "/portal"
PORTAL_KEYS = ("host", "path", "writable")


def portal_device(portal: dict[str, Any], machine: dict[str, Any] | None) -> dict[str, str]:
    """The disk device a machine gets. `readonly` is always written ("false" when writable): Incus keeps a key
    nobody writes, so a portal made writable would otherwise stay read-only."""
    device = {
        "type": "disk",
        "source": str(portal["host"]),
        "path": str(portal.get("path") or DEFAULT_PORTAL_PATH),
        "readonly": "false" if portal.get("writable") is True else "true",
    }
    if (machine or {}).get("type") != "vm":
        device["shift"] = "true"  # the host folder is root's: the container's root sees it as its own
    return device


def add_portal_devices(data: dict[str, Any]) -> None:
    """Mutates `data` (the enrichment's own copy)."""
    machines = machines_by_name(data)
    generated: dict[str, dict[str, dict[str, str]]] = {}
    for domain_name, domain in (data.get("domains") or {}).items():
        portal = (domain or {}).get("file_portal")
        if not isinstance(portal, dict):
            continue
        for machine_name, machine in ((domain or {}).get("machines") or {}).items():
            if machines[machine_name][0] == domain_name:
                generated[machine_name] = {PORTAL_DEVICE: portal_device(portal, machine)}
    merge_generated(data, machines, generated)
