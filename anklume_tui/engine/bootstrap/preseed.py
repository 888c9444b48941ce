"""The Incus preseed bootstrap shows before it applies it: only what is missing (a `default` pool, the
default profile's root disk), in the format of `incus admin init --preseed`, so a user can read it, keep it or
apply it by hand. Pure."""

from __future__ import annotations

import yaml

ROOT_DISK = {"type": "disk", "path": "/", "pool": "default"}


def preseed_text(pool_driver: str | None, add_root_disk: bool) -> str | None:
    """None when nothing is missing."""
    document: dict[str, object] = {}
    if pool_driver:
        document["storage_pools"] = [{"name": "default", "driver": pool_driver, "config": {}}]
    if add_root_disk:
        document["profiles"] = [{"name": "default", "devices": {"root": dict(ROOT_DISK)}}]
    if not document:
        return None
    head = (
        "# anklume-tui bootstrap: what it adds to Incus (nothing existing is changed; the default profile's\n"
        "# other devices and settings are kept). The same as `incus admin init --preseed` with this text.\n"
    )
    return head + yaml.safe_dump(document, sort_keys=False, default_flow_style=False)
