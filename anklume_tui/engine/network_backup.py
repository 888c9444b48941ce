"""SPEC §8.2's network-configuration backup: before apply changes anything, the configuration Incus holds for
each bridge the applied domains use, saved as `<state>/network-backups/<apply id>.json` (the last KEEP kept),
so a bridge apply changed can be set back by hand (`incus network edit`)."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from ..psot.generate import write_atomic
from ..psot.model import Infra
from .incus import IncusClient, IncusNotFound, Network

FOLDER = "network-backups"
KEEP = 10


def applied_bridges(infra: Infra, limit: str | None) -> list[str]:
    return [d.network for d in infra.enabled_domains if limit is None or d.name == limit]


async def back_up_networks(client: IncusClient, bridges: list[str], state_dir: Path, apply_id: str) -> Path | None:
    """Save the bridges Incus holds among `bridges`; the file written, None when Incus holds none of them.
    OSError when it cannot be written."""

    async def read(name: str) -> Network | None:
        try:
            return await client.get_network(name)
        except IncusNotFound:
            return None

    found = [n for n in await asyncio.gather(*(read(b) for b in bridges)) if n is not None]
    if not found:
        return None
    folder = state_dir / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{apply_id}.json"
    saved = {
        "taken": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "networks": {n.name: {"type": n.type, "description": n.description, "config": n.config} for n in found},
    }
    write_atomic(path, json.dumps(saved, indent=2, sort_keys=True) + "\n")
    for old in sorted(folder.glob("*.json"))[:-KEEP]:
        old.unlink(missing_ok=True)
    return path
