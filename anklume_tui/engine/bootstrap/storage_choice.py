"""Which storage driver the `default` pool gets (SPEC: the pool on the storage the host has).

`auto` takes the first copy-on-write driver the daemon itself reports it can run (zfs, then btrfs), else
dir. `prod` wants copy-on-write: it refuses dir unless `--storage dir` says so explicitly. Pure."""

from __future__ import annotations

from dataclasses import dataclass

PREFERRED = ("zfs", "btrfs")
DRIVERS = ("zfs", "btrfs", "lvm", "dir")


@dataclass(frozen=True)
class StorageChoice:
    driver: str | None  # None: refused or unavailable, `why` says
    why: str


def choose_driver(asked: str, mode: str, supported: list[str]) -> StorageChoice:
    """`asked`: auto|zfs|btrfs|lvm|dir; `supported`: the local drivers Incus reports (empty: not known yet,
    Incus is not running: then the choice is made once it runs)."""
    if asked != "auto":
        if supported and asked not in supported:
            return StorageChoice(None, f"Incus here cannot use {asked} (it supports {', '.join(supported)})")
        return StorageChoice(asked, f"{asked}, as asked (--storage {asked})")
    for driver in PREFERRED:
        if driver in supported:
            return StorageChoice(driver, f"{driver}: copy-on-write, the first of {', '.join(PREFERRED)} Incus supports")
    if mode == "prod":
        return StorageChoice(
            None,
            "prod mode wants a copy-on-write pool (zfs or btrfs) and Incus here supports neither "
            f"({', '.join(supported) or 'not known yet'}): install zfsutils-linux or btrfs-progs and restart "
            "Incus, or pass --storage dir to accept dir (no copy-on-write: snapshots and copies are full copies)",
        )
    return StorageChoice("dir", "dir: no copy-on-write driver (zfs, btrfs) is available to Incus here")


def local_drivers(environment: dict[str, object]) -> list[str]:
    """The local storage drivers of `GET /1.0`'s `environment.storage_supported_drivers`."""
    found = environment.get("storage_supported_drivers")
    names = []
    for entry in found if isinstance(found, list) else []:
        if isinstance(entry, dict) and not entry.get("Remote") and isinstance(entry.get("Name"), str):
            names.append(entry["Name"])
    return [d for d in DRIVERS if d in names] + sorted(set(names) - set(DRIVERS))
