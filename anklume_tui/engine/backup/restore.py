"""Restore (SPEC §2 "backup / restore"): re-import the instance archives `backup` wrote (or any gzip
`incus export` tarball, plain or GPG-encrypted), and the infra source.

Before anything reaches Incus every archive is read to its end: its checksum against the run's manifest
when there is one (checked, and signed when encrypted: manifest.py), and its whole tar stream, so a
truncated or corrupt file is refused, naming it. The archive's `backup/index.yaml` gives the instance's
name, type and project; it and every `backup.yaml` Incus creates the instance from are checked for what
reaches the host (trust.py) unless the user allowed it. Then every target is checked
(the project exists, the name is free or replaced) before the first import: a refused restore changes
nothing. Replacing imports under a temporary name first; only once that worked is the old instance
stopped, deleted and the new one renamed. A protected instance is never replaced.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import io
import secrets
import shutil
import tarfile
import tempfile
import zlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any

import yaml

from ...psot.yaml_bounds import UnreadableInput, read_bounded, safe_load_bounded
from ...transfer_progress import Progress, ProgressFn
from ..incus.client import IncusClient
from ..incus.errors import IncusError, IncusNotFound
from ..incus.models import Instance
from ..machines.golden import without_static_addresses
from . import gpg
from .export import CHUNK_SIZE, MANIFEST, sha256_of
from .manifest import encrypted, read_manifest
from .trust import (
    INDEX,
    STRICT,
    UNSIGNED_FLAG,
    Malformed,
    RestoreError,
    RestoreRefused,
    RestoreTrust,
    Unsafe,
    config_document,
    entry_refusal,
    refusal,
    unsafe_requests,
)

MAX_INDEX_BYTES = 8 * 1024 * 1024  # Incus writes a few KB per snapshot: a bound, not a limit anyone meets
MAX_CONFIG_BYTES = 4 * MAX_INDEX_BYTES  # every configuration document of one archive together


@dataclass(frozen=True)
class Archive:
    path: Path
    sha256: str | None = None  # expected, from the run's manifest

    @property
    def encrypted(self) -> bool:
        return encrypted(self.path.name)


@dataclass(frozen=True)
class CheckedArchive:
    archive: Archive
    instance: str  # as backed up
    project: str
    type: str


@dataclass(frozen=True)
class Restored:
    path: Path
    project: str
    instance: str
    source_instance: str  # its name in the backup
    replaced: bool  # an existing instance of that name was replaced
    readdressed: bool  # restored under a new name or project: new MAC addresses, static addresses dropped


@dataclass(frozen=True)
class RestoreTarget:
    """A checked archive and where it goes."""

    checked: CheckedArchive
    project: str
    name: str
    existing: Instance | None


def archives_in(path: Path, trust: RestoreTrust = STRICT) -> list[Archive]:
    """The instance archives PATH names: every one of a run folder, or one file (with the expected
    checksum when it sits in a run folder), the manifest checked (manifest.py). A loose encrypted
    archive has no signed manifest to vouch for it: refused unless `trust.unsigned`."""
    if path.is_dir():
        manifest = read_manifest(path, trust)
        if manifest is None:
            raise RestoreError(f"{path}: not a backup folder (no {MANIFEST})")
        return [Archive(path / e.file, e.sha256) for e in manifest.instances]
    if not path.is_file():
        raise RestoreError(f"{path}: no such file or folder")
    for run in (path.parent, path.parent.parent):
        manifest = read_manifest(run, trust)
        for entry in manifest.instances if manifest else ():
            if (run / entry.file).resolve() == path.resolve():
                return [Archive(path, entry.sha256)]
    if encrypted(path.name) and not trust.unsigned:
        raise RestoreRefused(
            f"{path}: an encrypted archive outside its backup folder has no signed manifest to vouch for it: "
            f"anyone holding the public key could have written it; refused ({UNSIGNED_FLAG} restores it anyway)"
        )
    return [Archive(path)]


async def prepare_restore(
    client: IncusClient,
    archives: list[Archive],
    *,
    project: str | None = None,
    name: str | None = None,
    replace: bool = False,
    trust: RestoreTrust = STRICT,
    on_progress: ProgressFn | None = None,
) -> list[RestoreTarget]:
    """Check every archive (read to its end, asking nothing of the host that `trust` does not allow) and
    where each goes: into `project`, else its own; as `name`, else its own. Nothing changes; RestoreError
    (or RestoreRefused) says what stands in the way."""
    report = on_progress or (lambda _p: None)
    checked = [await asyncio.to_thread(check_archive, a, report, trust) for a in archives]
    targets = [await _target(client, c, project, name, replace) for c in checked]
    seen = [(t.project, t.name) for t in targets]
    if len(set(seen)) != len(seen):
        raise RestoreError("two archives would restore the same instance: restore them one by one")
    return targets


async def restore_archives(
    client: IncusClient, targets: list[RestoreTarget], *, on_progress: ProgressFn | None = None
) -> AsyncIterator[Restored]:
    """Import each prepared archive, giving each instance as it is restored (left stopped)."""
    for target in targets:
        yield await _restore_one(client, target, on_progress or (lambda _p: None))


def check_archive(archive: Archive, on_progress: ProgressFn, trust: RestoreTrust = STRICT) -> CheckedArchive:
    """Read the whole archive (in a thread: it blocks): checksum, tar stream, index, and what its
    configuration documents ask of the host (RestoreRefused naming what `trust` does not allow)."""
    path = archive.path
    if archive.sha256 is not None and _sha256(path) != archive.sha256:
        raise RestoreError(f"{path}: checksum differs from the backup's manifest (corrupt or truncated file)")
    try:
        with _plain_stream(archive) as raw:
            size = None if archive.encrypted else path.stat().st_size
            index, unsafe = _documents(_Counting(raw, f"checking {path.name}", size, on_progress), trust)
    except gpg.GpgError as exc:
        raise RestoreError(f"{path}: {exc}") from None
    except (tarfile.TarError, EOFError, zlib.error, OSError, yaml.YAMLError) as exc:
        raise RestoreError(f"{path}: not a readable Incus backup, truncated or corrupt ({_first_line(exc)})") from None
    except Malformed as exc:
        raise RestoreError(f"{path}: {exc}") from None
    if index is None:
        raise RestoreError(f"{path}: not an Incus backup (no {INDEX})")
    if unsafe:
        raise RestoreRefused(f"{path}: {refusal(unsafe)}; nothing was restored")
    config = index.get("config") or {}
    instance = config.get("instance") or config.get("container") or {}
    name, project = index.get("name") or instance.get("name"), instance.get("project") or "default"
    if not isinstance(name, str) or not name:
        raise RestoreError(f"{path}: {INDEX} names no instance")
    return CheckedArchive(archive, name, str(project), str(index.get("type") or instance.get("type") or "container"))


@contextlib.contextmanager
def _plain_stream(archive: Archive) -> Iterator[IO[bytes]]:
    if archive.encrypted:
        with gpg.decrypted_stream(archive.path) as stream:
            yield stream
    else:
        with open(archive.path, "rb") as stream:
            yield stream


def _documents(stream: io.RawIOBase, trust: RestoreTrust) -> tuple[dict | None, list[Unsafe]]:
    """Incus's index of a gzip backup tarball and what its configuration documents (each copy) ask that
    `trust` does not allow, read through to the gzip trailer (its CRC and length catch a file cut short
    anywhere). Malformed for an entry leaving the archive, a link in its structure, a document twice or
    beyond the bounds."""
    index, unsafe, seen, budget = None, [], set(), MAX_CONFIG_BYTES
    with gzip.GzipFile(fileobj=stream, mode="rb") as unzipped:
        with tarfile.open(fileobj=unzipped, mode="r|") as tar:
            for member in tar:
                if (refused := entry_refusal(member)) is not None:
                    raise Malformed(f"{refused}; refused")
                if not config_document(member.name):
                    continue
                name = PurePosixPath(member.name).as_posix()
                if name in seen or not member.isfile():
                    raise Malformed(f"{name} is not one regular file in the archive; refused")
                seen.add(name)
                found = tar.extractfile(member)
                try:
                    data = read_bounded(found, min(MAX_INDEX_BYTES, budget)) if found else b""
                    document = safe_load_bounded(data)
                except UnreadableInput as exc:
                    raise Malformed(f"{name} refused: {exc.message} (line {exc.line})") from None
                budget -= len(data)
                unsafe += unsafe_requests(name, document, trust)
                index = document if name == INDEX else index
        while unzipped.read(CHUNK_SIZE):
            pass
    return (index if isinstance(index, dict) else None), unsafe


class _Counting(io.RawIOBase):
    """A read-only stream that reports how much was read."""

    def __init__(self, inner: IO[bytes], label: str, total: int | None, on_progress: ProgressFn) -> None:
        self._inner, self._label, self._total, self._report = inner, label, total, on_progress
        self._done = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._inner.read(len(buffer))
        buffer[: len(data)] = data
        self._done += len(data)
        self._report(Progress(self._label, self._done, self._total))
        return len(data)


async def _target(
    client: IncusClient, checked: CheckedArchive, project: str | None, name: str | None, replace: bool
) -> RestoreTarget:
    project = project or checked.project
    name = name or checked.instance
    try:
        await client.get_project(project)
    except IncusNotFound:
        raise RestoreError(
            f"project {project!r} does not exist in Incus: apply the infra first (it creates the domain's "
            "project, network and profiles), or name another with --project"
        ) from None
    existing = next((i for i in await client.list_instances(project=project) if i.name == name), None)
    if existing is not None and not replace:
        raise RestoreError(
            f"{project}/{name} already exists: restore under --name NEW, or replace it (--replace --yes)"
        )
    if existing is not None and existing.protected:
        raise RestoreRefused(f"{project}/{name} is {existing.protection}; or restore under --name NEW")
    return RestoreTarget(checked, project, name, existing)


async def _restore_one(client: IncusClient, target: RestoreTarget, on_progress: ProgressFn) -> Restored:
    checked = target.checked
    path = checked.archive.path
    landing = f"{target.name[:48]}-restore-{secrets.token_hex(3)}" if target.existing else target.name
    try:
        await client.import_backup(_chunks(checked.archive, on_progress), name=landing, project=target.project)
    except (IncusError, gpg.GpgError) as exc:
        raise RestoreError(f"{path}: not restored into project {target.project!r}: {exc}") from None
    readdress = (target.project, target.name) != (checked.project, checked.instance)
    if readdress:
        try:
            await _readdress(client, landing, target.project)
        except IncusError as exc:
            with contextlib.suppress(IncusError):
                await client.delete_instance(landing, project=target.project)
            raise RestoreError(f"{path}: imported, but it could not get new addresses ({exc}); removed again") from None
    if target.existing is not None:
        await _swap(client, target, landing)
    return Restored(path, target.project, target.name, checked.instance, target.existing is not None, readdress)


async def _chunks(archive: Archive, on_progress: ProgressFn) -> AsyncIterator[bytes]:
    label = f"restoring {archive.path.name}"
    total = None if archive.encrypted else archive.path.stat().st_size
    source = gpg.decrypted_chunks(archive.path) if archive.encrypted else _file_chunks(archive.path)
    done = 0
    async for chunk in source:
        done += len(chunk)
        on_progress(Progress(label, done, total))
        yield chunk


async def _file_chunks(path: Path) -> AsyncIterator[bytes]:
    with open(path, "rb") as f:
        while chunk := await asyncio.to_thread(f.read, CHUNK_SIZE):
            yield chunk


async def _readdress(client: IncusClient, name: str, project: str) -> None:
    """A copy beside its original could never start with the same MAC or static address: Incus makes new
    MACs, and the copy's NICs take DHCP. Two updates: Incus checks a device change against the MAC the
    instance still has."""
    inst = await client.get_instance(name, project=project)
    config = {k: v for k, v in inst.config.items() if not (k.startswith("volatile.") and k.endswith(".hwaddr"))}
    devices = {**inst.devices, **without_static_addresses(inst)}
    keep: dict[str, Any] = {"profiles": inst.profiles, "ephemeral": inst.ephemeral, "description": inst.description}
    await client.update_instance(name, config=config, devices=inst.devices, **keep, project=project)
    await client.update_instance(name, config=config, devices=devices, **keep, project=project)


async def _swap(client: IncusClient, target: RestoreTarget, landing: str) -> None:
    """Replace the old instance with the imported one; the import is removed again if the old one
    cannot be deleted, and kept (and named) if the rename fails."""
    where = f"{target.project}/{target.name}"
    try:
        current = await client.get_instance(target.name, project=target.project)
        if current.status in ("Running", "Frozen"):
            await client.change_state(target.name, "stop", force=True, project=target.project)
        await client.delete_instance(target.name, project=target.project)
    except IncusError as exc:
        with contextlib.suppress(IncusError):
            await client.delete_instance(landing, project=target.project)
        raise RestoreError(f"{where} could not be removed to make room: {exc}; nothing was replaced") from None
    try:
        await client.rename_instance(landing, target.name, project=target.project)
    except IncusError as exc:
        raise RestoreError(
            f"{where} was deleted but the restored instance could not take its name ({exc}): "
            f"it is {target.project}/{landing}"
        ) from None


def restore_infra(run: Path, dest: Path, trust: RestoreTrust = STRICT) -> list[Path]:
    """Extract the run's infra source into `dest` (never over an existing file); the files written."""
    manifest = read_manifest(run, trust)
    if manifest is None or manifest.infra is None:
        raise RestoreError(f"{run}: this backup holds no infra source")
    archive = Archive(run / manifest.infra.file, manifest.infra.sha256)
    if _sha256(archive.path) != archive.sha256:
        raise RestoreError(f"{archive.path}: checksum differs from the backup's manifest (corrupt or truncated file)")
    try:
        with _plain_stream(archive) as stream:
            data = stream.read()
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            members = tar.getmembers()
            tops = sorted({Path(m.name).parts[0] for m in members})
            clash = next((dest / top for top in tops if (dest / top).exists()), None)
            if clash is not None:
                raise RestoreError(f"{clash} already exists: the infra source is never restored over files")
            dest.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=".infra-restore-", dir=dest))
            try:
                tar.extractall(staging, filter="data")
                for top in tops:
                    (staging / top).rename(dest / top)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
    except gpg.GpgError as exc:
        raise RestoreError(f"{archive.path}: {exc}") from None
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise RestoreError(f"{archive.path}: the infra source could not be restored ({_first_line(exc)})") from None
    return [dest / m.name for m in members if m.isfile()]


def _sha256(path: Path) -> str:
    try:
        return sha256_of(path)
    except OSError as exc:
        raise RestoreError(f"{path}: cannot be read ({exc.strerror or exc})") from None


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
