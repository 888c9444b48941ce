"""The Ansible tree: file contents, managed sections, atomic writes (SPEC §7)."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from .inventory_contract import INVENTORY_VERSION
from .load import default_output_dir as default_output_dir  # where verbs and screens find it
from .model import Domain, Infra, Machine
from .orphans import OrphanFile, delete_orphans, orphans_named
from .yaml_emit import Unsafe, emit

MANAGED_BEGIN = "# === MANAGED BY infra.yml ==="
MANAGED_NOTICE = "# Do not edit this section — it will be overwritten on the next sync"
MANAGED_END = "# === END MANAGED ==="
CUSTOM_NOTICE = "# Your custom variables below:"

# The first block, recognised by its begin and end lines (LF or CRLF line ends).
_MANAGED_BLOCK = re.compile(
    rf"^{re.escape(MANAGED_BEGIN)}(?=\r?$).*?^{re.escape(MANAGED_END)}(?=\r?$)", re.MULTILINE | re.DOTALL
)


class SyncReport(BaseModel):
    """What a sync did (or, in a dry run, would do); paths are relative to the output directory."""

    model_config = ConfigDict(strict=True, frozen=True)

    dry_run: bool
    written: list[str]
    unchanged: list[str]
    orphans: list[OrphanFile]
    deleted: list[str]
    skipped: list[str]


def render_files(infra: Infra) -> dict[str, str]:
    """Relative path → YAML of its managed section, in the order files are written."""
    files = {"group_vars/all.yml": emit(ansible_safe(all_vars(infra)))}
    for domain in infra.enabled_domains:
        files[f"inventory/{domain.name}.yml"] = emit(inventory(domain))
        files[f"group_vars/{domain.name}.yml"] = emit(ansible_safe(group_vars(domain)))
        for machine in domain.machines:
            files[f"host_vars/{machine.name}.yml"] = emit(ansible_safe(host_vars(machine)))
    return files


def _may_be_template(value: object) -> bool:
    """Whether a string somewhere in `value` (key or value) could be read by Ansible as a template: Jinja's
    delimiters ({{, {%, {#) all begin with `{`, and its `#jinja2:` override header with `#`."""
    if isinstance(value, str):
        return "{" in value or "#" in value
    if isinstance(value, dict):
        return any(_may_be_template(k) or _may_be_template(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_may_be_template(item) for item in value)
    return False


def ansible_safe(variables: dict[str, Any]) -> dict[str, Any]:
    """The variables with `!unsafe` on each value holding text Ansible could evaluate (SPEC §7.2): infra text
    is data, never template code; a value without such text is written as before."""
    return {name: Unsafe(value) if _may_be_template(value) else value for name, value in variables.items()}


def _without_nulls(pairs: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in pairs.items() if value is not None}


def all_vars(infra: Infra) -> dict[str, Any]:
    # Images as written in the infra: machines with no image at all are left out, as in v1.
    images = sorted({m.os_image for m in infra.machines if m.os_image is not None})
    return _without_nulls(
        {
            "anklume_inventory_version": INVENTORY_VERSION,
            "project_name": infra.project_name,
            "addressing": infra.addressing if infra.zone_mode else None,
            "base_subnet": None if infra.zone_mode else infra.base_subnet,
            "default_os_image": infra.default_os_image,
            "psot_default_connection": infra.default_connection,
            "psot_default_user": infra.default_user,
            "incus_all_images": images or None,
            "network_policies": [p.as_declared() for p in infra.network_policies] or None,
        }
    )


def inventory(domain: Domain) -> dict[str, Any]:
    hosts = {m.name: ansible_safe({"ansible_host": m.ip}) if m.ip else None for m in domain.machines}
    return {"all": {"children": {domain.name: {"hosts": hosts or None}}}}


def group_vars(domain: Domain) -> dict[str, Any]:
    return _without_nulls(
        {
            "domain_name": domain.name,
            "domain_description": domain.description,
            "domain_ephemeral": domain.ephemeral,
            "domain_trust_level": domain.trust_level,
            "domain_ai_provider": domain.ai_provider,
            "domain_ai_sanitize": domain.ai_sanitize,
            "incus_project": domain.project,
            "incus_network": {"name": domain.network, "subnet": domain.subnet, "gateway": domain.gateway},
            "subnet_id": domain.subnet_id,
            "incus_profiles": domain.profiles or None,
        }
    )


def host_vars(machine: Machine) -> dict[str, Any]:
    return _without_nulls(
        {
            "instance_name": machine.instance_name,
            "instance_type": machine.type,
            "instance_description": machine.description,
            "instance_domain": machine.domain,
            "instance_ephemeral": machine.ephemeral,
            "instance_os_image": machine.os_image,
            "instance_ip": machine.ip,
            "instance_gpu": machine.gpu,
            "instance_profiles": machine.profiles,
            "instance_config": machine.config,
            "instance_devices": machine.devices,
            "instance_storage_volumes": machine.storage_volumes,
            "instance_roles": machine.roles,
            "instance_boot_autostart": machine.boot_autostart,
            "instance_boot_priority": machine.boot_priority,
            "instance_snapshots_schedule": machine.snapshots_schedule,
            "instance_snapshots_expiry": machine.snapshots_expiry,
        }
    )


def managed_block(body: str) -> str:
    """The managed section holding `body`, from its begin line to its end line (no final newline)."""
    return f"{MANAGED_BEGIN}\n{MANAGED_NOTICE}\n{body.rstrip(chr(10))}\n{MANAGED_END}"


def merge_managed(existing: str | None, body: str) -> str:
    """The file text once its managed section holds `body`; every byte outside it is kept."""
    block = managed_block(body)
    if existing is None:
        return f"---\n{block}\n\n{CUSTOM_NOTICE}\n"
    found = _MANAGED_BLOCK.search(existing)
    if found:
        return existing[: found.start()] + block + existing[found.end() :]
    if existing.startswith("---"):
        end = existing.find("\n")
        first, rest = (existing + "\n", "") if end < 0 else (existing[: end + 1], existing[end + 1 :])
    else:
        first, rest = "---\n", existing
    return f"{first}{block}\n\n{rest}"


def write_atomic(path: Path, text: str, *, mode: int | None = None, sync_folder: bool = True) -> Path:
    """Replace `path` with `text` in one step; on failure the old file is intact. The file gets `mode` when
    given (whatever the umask), else keeps its own (a new one: what the umask allows). A symlink stays a
    symlink: the file it points to is replaced. A replaced file or one given a mode reaches the disk, then its
    folder, before this returns; a caller writing many files passes `sync_folder=False` and syncs each folder
    once (`sync_folders`) at the end. Returns the path written (a symlink's target)."""
    if os.path.islink(path):
        path = Path(os.path.realpath(path))
    data = text.encode("utf-8", "surrogateescape")
    # Made durable (file synced before the rename, then its folder): a file that replaces one (it may hold the
    # user's own text) or one given a mode (state files). A brand-new generated file holds nothing a second
    # sync would not recreate: a thousand fsyncs would triple a fresh tree's sync for no gain.
    durable = mode is not None
    if mode is None:
        with contextlib.suppress(FileNotFoundError):
            mode = path.stat().st_mode & 0o7777
            durable = True
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    # A new file without a given mode: 0o666 lets the umask decide, as for any other file the user creates.
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666 if mode is None else 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            if mode is not None:
                os.fchmod(handle.fileno(), mode)
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    if durable and sync_folder:
        _sync_folder(path.parent)
    return path


def sync_folders(folders: Iterable[Path]) -> None:
    """Sync each folder once: the renames made in it are on disk."""
    for folder in sorted(set(folders)):
        _sync_folder(folder)


def _sync_folder(folder: Path) -> None:
    """The rename is durable once the folder holding it is synced."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _read(path: Path) -> str | None:
    try:
        return path.read_bytes().decode("utf-8", "surrogateescape")
    except FileNotFoundError:
        return None


def sync_tree(out_dir: Path, infra: Infra, *, dry_run: bool, clean_orphans: bool) -> SyncReport:
    """Bring the generated tree under `out_dir` up to date; only files whose bytes change are written."""
    domains, machines = known_names(infra)
    return sync_files(out_dir, render_files(infra), domains, machines, dry_run=dry_run, clean_orphans=clean_orphans)


def known_names(infra: Infra) -> tuple[frozenset[str], frozenset[str]]:
    """The domain and machine names no generated file of theirs is an orphan for (disabled ones included)."""
    return frozenset(d.name for d in infra.domains), frozenset(m.name for m in infra.machines)


def sync_files(
    out_dir: Path,
    files: dict[str, str],
    domains: frozenset[str],
    machines: frozenset[str],
    *,
    dry_run: bool,
    clean_orphans: bool,
    seen: dict[str, tuple[os.stat_result, str]] | None = None,
) -> SyncReport:
    """`sync_tree` from the managed sections `render_files` gave (relative path -> body) and the known names.
    With `seen`, each plain file (no symlink) left as it should be: its status, taken before its text was read
    (or once it was written), and that text (what psot/tree_record.py keeps)."""
    written: list[str] = []
    unchanged: list[str] = []
    folders: list[Path] = []  # synced once each at the end: a fresh tree is a thousand files in a few folders
    made: set[Path] = set()
    fresh = _FreshFiles()
    for relative, body in files.items():
        path = out_dir / relative
        found, existing, info = _read_plain(path)
        if not found:
            existing = _read(path)  # a symlink, or not a regular file: read as before
        text = merge_managed(existing, body)
        if text == existing:
            unchanged.append(relative)
            if seen is not None and info is not None:
                seen[relative] = (info, text)
            continue
        written.append(relative)
        if dry_run:
            continue
        if path.parent not in made:
            path.parent.mkdir(parents=True, exist_ok=True)
            made.add(path.parent)
        if found and existing is None:
            fresh.write(path, text)
            folders.append(path.parent)
        else:
            folders.append(write_atomic(path, text, sync_folder=False).parent)
        if seen is not None and found:
            seen[relative] = (os.lstat(path), text)
    sync_folders(folders)
    orphans = orphans_named(out_dir, domains, machines)
    deleted: list[str] = []
    skipped: list[str] = []
    if clean_orphans and not dry_run:
        deleted, skipped = delete_orphans(out_dir, orphans)
    return SyncReport(
        dry_run=dry_run,
        written=written,
        unchanged=unchanged,
        orphans=orphans,
        deleted=deleted,
        skipped=skipped,
    )


def _read_plain(path: Path) -> tuple[bool, str | None, os.stat_result | None]:
    """(True, text, its status) for a regular file that is no symlink, (True, None, None) when nothing at all is
    at `path` (not even a dangling symlink); (False, None, None) for anything else, which the caller reads the
    general way. One open and one read where `_read` and `write_atomic`'s checks took six system calls."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return True, None, None
    except OSError:
        return False, None, None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return False, None, None
        chunks = []
        while chunk := os.read(fd, max(info.st_size + 1, 4096)):
            chunks.append(chunk)
        return True, b"".join(chunks).decode("utf-8", "surrogateescape"), info
    finally:
        os.close(fd)


class _FreshFiles:
    """Writes brand-new generated files: a temporary file in the same folder renamed over the name, as
    `write_atomic` does for them (not synced: a second sync recreates one lost), with fewer system calls."""

    def __init__(self) -> None:
        self.stem = secrets.token_hex(4)
        self.count = 0

    def write(self, path: Path, text: str) -> None:
        data = text.encode("utf-8", "surrogateescape")
        while True:
            self.count += 1
            temp = path.with_name(f".{path.name}.{self.stem}{self.count:x}.tmp")
            try:
                fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
                break
            except FileExistsError:
                continue
        try:
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
            finally:
                os.close(fd)
            os.rename(temp, path)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
