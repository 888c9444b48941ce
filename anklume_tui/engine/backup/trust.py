"""What a backup archive may ask of the host before a restore hands it to Incus (issue 15 point 6).

An archive is data from outside: whoever can write the backup folder, or encrypt to the user's public key,
writes it. Incus creates the instance from the archive's `backup/<container|virtual-machine>/backup.yaml`
(index.yaml names it), snapshots and profiles included, so every such document is read and checked, each
copy of it. Refused unless the user allows it by a flag the refusal names:
- `--allow-unsafe-config`: `security.privileged` (any value but a false one), `raw.*` (raw.lxc, raw.idmap,
  raw.apparmor, raw.seccomp, raw.qemu...), `security.idmap.*`, `linux.kernel_modules` (modprobe on the host),
  `security.syscalls.intercept.*`; devices that hand the instance host hardware or sockets (unix-char,
  unix-block, unix-hotplug, usb, pci, infiniband, proxy), a nic on a host interface (`parent` or `nictype`:
  it would bypass the isolation bridges), a device's `raw.*` keys, and a disk source that is not a host path
  (ceph:, cephfs:).
- `--allow-disk-source DIR` (repeatable): a disk device whose host path `source` lies in DIR. None by default:
  a backup of a machine with persistent data or shared volumes names the folder to allow.
Archive entries that leave the archive (`..`, absolute) and links among the archive's own structure (above
a rootfs, where Incus reads its documents and extracts) are refused outright.
"""

from __future__ import annotations

import os
import posixpath
import shlex
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ... import exitcodes
from ...errors import Failed

INDEX = "backup/index.yaml"
UNSAFE_FLAG = "--allow-unsafe-config"
DISK_FLAG = "--allow-disk-source"
UNSIGNED_FLAG = "--allow-unsigned"
FALSE = frozenset({"", "false", "0", "no", "off"})
HOST_DEVICE_TYPES = frozenset({"unix-char", "unix-block", "unix-hotplug", "usb", "pci", "infiniband", "proxy"})


class RestoreError(Failed):
    """A restore that cannot go on (corrupt archive, name taken, Incus refused); nothing was changed
    unless the message says otherwise."""


class RestoreRefused(RestoreError):
    """The restore would replace a protected instance, or the backup asks for what only a flag allows."""

    exit_code = exitcodes.REFUSED


class Malformed(Exception):
    """A configuration document of the archive is not shaped as Incus writes it."""


@dataclass(frozen=True)
class RestoreTrust:
    """What the user allows a backup to ask for, beyond an ordinary machine."""

    unsafe_config: bool = False
    disk_sources: tuple[Path, ...] = ()
    unsigned: bool = False  # an encrypted backup without a trusted signature


STRICT = RestoreTrust()  # nothing beyond an ordinary machine


@dataclass(frozen=True)
class Unsafe:
    where: str  # the document and the part of it
    what: str
    flag: str  # the flag that allows it


def config_document(name: str) -> bool:
    """An archive entry Incus reads as configuration: the index, or a `backup.yaml` above any rootfs."""
    parts = PurePosixPath(name).parts
    if parts == ("backup", "index.yaml"):
        return True
    return len(parts) in (3, 4) and parts[0] == "backup" and parts[-1] == "backup.yaml" and "rootfs" not in parts


def entry_refusal(member: tarfile.TarInfo) -> str | None:
    """Why an archive entry may not reach Incus: it leaves the archive, or it is a link in the archive's
    structure (a `backup.yaml` or a rootfs pointing elsewhere)."""
    parts = PurePosixPath(member.name).parts
    if member.name.startswith("/") or ".." in parts:
        return f"entry {member.name!r} leaves the archive"
    if member.islnk() and (member.linkname.startswith("/") or ".." in PurePosixPath(member.linkname).parts):
        return f"entry {member.name!r} links out of the archive"
    structural = "rootfs" not in parts[:-1]
    if structural and (member.issym() or member.islnk()):
        return f"entry {member.name!r} is a link where Incus expects a file or folder"
    return None


def unsafe_requests(name: str, document: object, trust: RestoreTrust) -> list[Unsafe]:
    """What `document` (the archive entry `name`, parsed) asks that `trust` does not allow."""
    doc = _mapping(document, name)
    if PurePosixPath(name).parts == ("backup", "index.yaml"):
        doc = _mapping(doc.get("config"), f"{name} config")
    found: list[Unsafe] = []
    for key in ("container", "instance"):
        if doc.get(key) is not None:
            found += _instance(f"{name}, instance", doc[key], trust)
    for part, label in (("snapshots", "snapshot"), ("profiles", "profile")):
        for item in _list(doc.get(part), f"{name} {part}"):
            item = _mapping(item, f"{name} {part}")
            found += _instance(f"{name}, {label} {str(item.get('name'))!r}", item, trust)
    return [f for f in found if not (trust.unsafe_config and f.flag == UNSAFE_FLAG)]


def refusal(findings: Iterable[Unsafe]) -> str:
    """One line naming each distinct request, where it was first seen, and the flag that allows it."""
    seen: dict[tuple[str, str], Unsafe] = {}
    for f in findings:
        seen.setdefault((f.what, f.flag), f)
    items = [f"{f.what} ({f.where}; {f.flag} allows it)" for f in seen.values()]
    more = f"; and {len(items) - 6} more" if len(items) > 6 else ""
    return "the backup asks for what reaches the host: " + "; ".join(items[:6]) + more


def _instance(where: str, obj: object, trust: RestoreTrust) -> list[Unsafe]:
    obj = _mapping(obj, where)
    found = []
    for field in ("config", "expanded_config"):
        for key, value in _mapping(obj.get(field), f"{where} {field}").items():
            what = _unsafe_key(str(key), _text(value))
            if what:
                found.append(Unsafe(f"{where} {field}", what, UNSAFE_FLAG))
    for field in ("devices", "expanded_devices"):
        for device, spec in _mapping(obj.get(field), f"{where} {field}").items():
            spec = {str(k): _text(v) for k, v in _mapping(spec, f"{where} {field}").items()}
            found += [Unsafe(f"{where} {field}", what, flag) for what, flag in _device(str(device), spec, trust)]
    return found


def _unsafe_key(key: str, value: str) -> str | None:
    """A key of those the module names, unless its value asks for nothing: empty, or false for a switch
    (`security.idmap.base: "0"` is a request, for host uid 0)."""
    lowered = key.lower()
    switch = lowered in ("security.privileged", "security.idmap.isolated") or lowered.startswith(
        "security.syscalls.intercept."
    )
    risky = switch or lowered == "linux.kernel_modules" or lowered.startswith(("raw.", "security.idmap."))
    off = not value.strip() or (switch and value.strip().lower() in FALSE)
    return f"{key!r} = {value!r}" if risky and not off else None


def _device(name: str, spec: dict[str, str], trust: RestoreTrust) -> list[tuple[str, str]]:
    kind = spec.get("type", "")
    found = [(f"device {name!r} key {k!r}", UNSAFE_FLAG) for k in spec if k.lower().startswith("raw.")]
    if kind in HOST_DEVICE_TYPES:
        found.append((f"device {name!r} of type {kind!r}", UNSAFE_FLAG))
    elif kind == "nic" and (spec.get("parent") or spec.get("nictype")):
        found.append((f"nic {name!r} on host interface {spec.get('parent', '')!r}", UNSAFE_FLAG))
    elif kind == "disk" and spec.get("source") and not spec.get("pool"):
        source = spec["source"]
        if not source.startswith("/"):
            found.append((f"disk {name!r} from {source!r}", UNSAFE_FLAG))
        elif not _allowed(source, trust.disk_sources):
            normal = posixpath.normpath(source)
            found.append((f"disk {name!r} from host path {source!r}", f"{DISK_FLAG} {shlex.quote(normal)}"))
    return found


def _allowed(source: str, folders: tuple[Path, ...]) -> bool:
    """`source` lies in an allowed folder, read as written (`..` collapsed) and with this host's links
    followed (a link inside an allowed folder may not lead out of it)."""
    lexical, real = PurePosixPath(posixpath.normpath(source)), PurePosixPath(os.path.realpath(source))
    return any(
        lexical.is_relative_to(allowed) and real.is_relative_to(allowed)
        for allowed in (PurePosixPath(os.path.realpath(folder)) for folder in folders)
    )


def _text(value: object) -> str:
    """A YAML scalar as Incus reads it into a string (booleans as true/false)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _mapping(value: object, where: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Malformed(f"{where} is not a mapping")
    return value


def _list(value: object, where: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise Malformed(f"{where} is not a list")
    return value
