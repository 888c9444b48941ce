"""A failed apply tried again takes no second pre-apply snapshot (SPEC §10.1): the instances snapshotted for a
change (the infra applied, and its scope) are remembered until an apply of it ends with every action done, and
an apply of the same change leaves them out; a different change snapshots them again."""

from __future__ import annotations

import contextlib
import hashlib
import json
from pathlib import Path

from ...psot.model import Infra
from ..host.private_files import write_private
from .pre_apply import DIR

FILE = "pending.json"
Target = tuple[str, str]


def change_key(infra: Infra, limit: str | None) -> str:
    return hashlib.sha256(f"{limit or ''}\n{infra.model_dump_json()}".encode()).hexdigest()


def _file(state_dir: Path) -> Path:
    return Path(state_dir) / DIR / FILE


def _read(state_dir: Path) -> dict:
    with contextlib.suppress(OSError, ValueError):
        found = json.loads(_file(state_dir).read_text(encoding="utf-8"))
        if isinstance(found, dict):
            return found
    return {}


def already_taken(state_dir: Path, change: str) -> set[Target]:
    """The instances a failed apply of this same change already snapshotted."""
    found = _read(state_dir)
    if found.get("change") != change:
        return set()
    return {(p, i) for p, i in found.get("instances", []) if isinstance(p, str) and isinstance(i, str)}


def remember(state_dir: Path, change: str, taken: list[Target]) -> None:
    instances = sorted(already_taken(state_dir, change) | set(taken))
    write_private(_file(state_dir), json.dumps({"change": change, "instances": instances}))


def forget(state_dir: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        _file(state_dir).unlink()
