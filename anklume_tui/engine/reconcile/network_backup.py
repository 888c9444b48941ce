"""SPEC §8.2's network-configuration backup: before apply changes anything, the configuration Incus held for
each bridge of the applied domains when the plan read it, saved as `<state>/network-backups/<apply id>.json`
(the last KEEP kept), so a bridge apply changed can be set back by hand (`incus network edit`)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from ..host.private_files import private_folder, write_private
from ..incus.client import Network

FOLDER = "network-backups"
KEEP = 10


def save_networks(bridges: dict[str, Network], state_dir: Path, apply_id: str) -> Path | None:
    """The file written, None when there is no bridge to save; OSError when it cannot be written."""
    if not bridges:
        return None
    folder = private_folder(state_dir / FOLDER, root=state_dir)
    path = folder / f"{apply_id}.json"
    saved = {
        "taken": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "networks": {
            n.name: {"type": n.type, "description": n.description, "config": n.config} for n in bridges.values()
        },
    }
    write_private(path, json.dumps(saved, indent=2, sort_keys=True) + "\n")
    for old in sorted(folder.glob("*.json"))[:-KEEP]:
        old.unlink(missing_ok=True)
    return path
