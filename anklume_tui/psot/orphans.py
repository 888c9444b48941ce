"""Generated files that no longer match the infra (SPEC §7.4)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict

from .model import Infra


class OrphanFile(BaseModel):
    """A generated-tree file no domain or machine accounts for; path relative to the output directory."""

    model_config = ConfigDict(strict=True, frozen=True)

    path: str
    protected: bool


def find_orphans(out_dir: Path, infra: Infra) -> list[OrphanFile]:
    """Orphan inventory, group_vars and host_vars files, sorted by folder then name.

    Disabled domains and their machines still count as known names.
    """
    return orphans_named(out_dir, (d.name for d in infra.domains), (m.name for m in infra.machines))


def orphans_named(out_dir: Path, domains: Iterable[str], machines: Iterable[str]) -> list[OrphanFile]:
    """`find_orphans` given every name the infra knows (disabled domains and their machines included)."""
    domain_names = set(domains)
    known = {
        "inventory": domain_names,
        "group_vars": domain_names | {"all"},
        "host_vars": set(machines),
    }
    orphans = []
    for folder, names in known.items():
        try:
            entries = list(os.scandir(out_dir / folder))
        except (FileNotFoundError, NotADirectoryError):
            continue
        for entry in sorted(entries, key=lambda e: e.name):
            name = entry.name
            if name.endswith(".yml") and name[:-4] not in names and entry.is_file():
                orphans.append(OrphanFile(path=f"{folder}/{name}", protected=is_protected(Path(entry.path))))
    return orphans


class _VarsLoader(yaml.CSafeLoader):
    """A safe loader that reads Ansible's local tags (`!unsafe` on generated values, `!vault` in the user's own
    variables) as the plain value beneath, so such a file is still judged by its ephemeral keys."""


def _untagged(loader: yaml.SafeLoader, _suffix: str, node: yaml.Node) -> object:
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    # As Ansible does: the scalar resolves as if untagged (`!unsafe false` is still false).
    resolved = yaml.ScalarNode(loader.resolve(yaml.ScalarNode, node.value, (True, False)), node.value)
    return loader.construct_object(resolved, deep=True)


_VarsLoader.add_multi_constructor("!", _untagged)


def is_protected(path: Path) -> bool:
    """True when the file parses as a mapping saying the domain or instance is not ephemeral."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_VarsLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False
    if not isinstance(data, dict):
        return False
    # The first of the two keys present decides.
    for key in ("domain_ephemeral", "instance_ephemeral"):
        if key in data:
            return data[key] is False
    return False


def delete_orphans(out_dir: Path, orphans: list[OrphanFile]) -> tuple[list[str], list[str]]:
    """Delete the unprotected orphans; returns (deleted, skipped because protected)."""
    deleted: list[str] = []
    skipped: list[str] = []
    for orphan in orphans:
        if orphan.protected:
            skipped.append(orphan.path)
            continue
        (out_dir / orphan.path).unlink(missing_ok=True)
        deleted.append(orphan.path)
    return deleted, skipped


def orphan_messages(
    orphans: list[OrphanFile], deleted: list[str], skipped: list[str], base: Path | None = None
) -> list[str]:
    """The lines sync prints about orphans; paths are shown under `base` when given."""

    def shown(path: str) -> str:
        return str(base / path) if base is not None else path

    lines = [
        f"PROTECTED (ephemeral=false): {shown(o.path)} — manual removal required"
        if o.protected
        else f"ORPHAN: {shown(o.path)}"
        for o in orphans
    ]
    lines += [f"Deleted: {shown(p)}" for p in deleted]
    lines += [f"Skipped (protected): {shown(p)}" for p in skipped]
    return lines
