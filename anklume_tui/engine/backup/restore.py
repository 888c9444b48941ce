"""Restore (SPEC §2 "backup / restore"): re-import the instance archives `backup` wrote (or any gzip
`incus export` tarball, plain or GPG-encrypted), and the infra source.

Before anything reaches Incus every archive is read to its end: its checksum against the run's manifest
when there is one, and its whole tar stream, so a truncated or corrupt file is refused, naming it. The
archive's `backup/index.yaml` gives the instance's name, type and project. Then every target is checked
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
from pathlib import Path
from typing import IO

import yaml
from pydantic import ValidationError

from ... import exitcodes
from ...errors import Failed
from ...psot.yaml_bounds import UnreadableInput, read_bounded, safe_load_bounded
from ...transfer_progress import Progress, ProgressFn
from ..incus.client import IncusClient
from ..incus.models import Instance
from ..incus.transport import IncusError, IncusNotFound
from ..machines.golden import without_static_addresses
from . import gpg
from .export import CHUNK_SIZE, MANIFEST, Manifest, sha256_of

ENCRYPTED_SUFFIXES = (".gpg", ".pgp", ".asc")
INDEX = "backup/index.yaml"
MAX_INDEX_BYTES = 8 * 1024 * 1024  # Incus writes a few KB per snapshot: a bound, not a limit anyone meets


class RestoreError(Failed):
    """A restore that cannot go on (corrupt archive, name taken, Incus refused); nothing was changed
    unless the message says otherwise."""


class RestoreRefused(RestoreError):
    """The restore would replace a protected instance."""

    exit_code = exitcodes.REFUSED


@dataclass(frozen=True)
class Archive:
    path: Path
    sha256: str | None = None  # expected, from the run's manifest

    @property
    def encrypted(self) -> bool:
        return self.path.name.endswith(ENCRYPTED_SUFFIXES)


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


def read_manifest(run: Path) -> Manifest | None:
    """The run folder's manifest; None when it has none; RestoreError when it is unreadable."""
    path = run / MANIFEST
    if not path.is_file():
        return None
    try:
        return Manifest.model_validate_json(path.read_bytes())
    except (OSError, ValidationError) as exc:
        raise RestoreError(f"{path}: not a readable backup manifest ({_first_line(exc)})") from None


def archives_in(path: Path) -> list[Archive]:
    """The instance archives PATH names: every one of a run folder, or one file (with the expected
    checksum when it sits in a run folder)."""
    if path.is_dir():
        manifest = read_manifest(path)
        if manifest is None:
            raise RestoreError(f"{path}: not a backup folder (no {MANIFEST})")
        return [Archive(path / e.file, e.sha256) for e in manifest.instances]
    if not path.is_file():
        raise RestoreError(f"{path}: no such file or folder")
    for run in (path.parent, path.parent.parent):
        manifest = read_manifest(run)
        for entry in manifest.instances if manifest else ():
            if (run / entry.file).resolve() == path.resolve():
                return [Archive(path, entry.sha256)]
    return [Archive(path)]


async def prepare_restore(
    client: IncusClient,
    archives: list[Archive],
    *,
    project: str | None = None,
    name: str | None = None,
    replace: bool = False,
    on_progress: ProgressFn | None = None,
) -> list[RestoreTarget]:
    """Check every archive (read to its end) and where each goes: into `project`, else its own; as
    `name`, else its own. Nothing changes; RestoreError (or RestoreRefused) says what stands in the way."""
    report = on_progress or (lambda _p: None)
    checked = [await asyncio.to_thread(check_archive, a, report) for a in archives]
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


def check_archive(archive: Archive, on_progress: ProgressFn) -> CheckedArchive:
    """Read the whole archive (in a thread: it blocks): checksum, tar stream, index."""
    path = archive.path
    if archive.sha256 is not None and _sha256(path) != archive.sha256:
        raise RestoreError(f"{path}: checksum differs from the backup's manifest (corrupt or truncated file)")
    try:
        with _plain_stream(archive) as raw:
            index = _index_of(
                _Counting(raw, f"checking {path.name}", None if archive.encrypted else path.stat().st_size, on_progress)
            )
    except gpg.GpgError as exc:
        raise RestoreError(f"{path}: {exc}") from None
    except (tarfile.TarError, EOFError, zlib.error, OSError, yaml.YAMLError) as exc:
        raise RestoreError(f"{path}: not a readable Incus backup, truncated or corrupt ({_first_line(exc)})") from None
    except UnreadableInput as exc:
        raise RestoreError(f"{path}: {INDEX} refused: {exc.message} (line {exc.line})") from None
    if index is None:
        raise RestoreError(f"{path}: not an Incus backup (no {INDEX})")
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


def _index_of(stream: IO[bytes]) -> dict | None:
    """Incus's index of a gzip backup tarball, read through to the gzip trailer (its CRC and length
    catch a file cut short anywhere)."""
    index = None
    with gzip.GzipFile(fileobj=stream, mode="rb") as unzipped:
        with tarfile.open(fileobj=unzipped, mode="r|") as tar:
            for member in tar:
                if member.name == INDEX and member.isfile():
                    found = tar.extractfile(member)
                    index = safe_load_bounded(read_bounded(found, MAX_INDEX_BYTES)) if found else None
        while unzipped.read(CHUNK_SIZE):
            pass
    return index if isinstance(index, dict) else None


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
    existing = next((i for i in await client.list_instances(project) if i.name == name), None)
    if existing is not None and not replace:
        raise RestoreError(
            f"{project}/{name} already exists: restore under --name NEW, or replace it (--replace --yes)"
        )
    if existing is not None and existing.protected:
        raise RestoreRefused(
            f"{project}/{name} is {existing.protection}; or restore under --name NEW"
        )
    return RestoreTarget(checked, project, name, existing)


async def _restore_one(client: IncusClient, target: RestoreTarget, on_progress: ProgressFn) -> Restored:
    checked = target.checked
    path = checked.archive.path
    landing = f"{target.name[:48]}-restore-{secrets.token_hex(3)}" if target.existing else target.name
    try:
        await client.import_backup(target.project, _chunks(checked.archive, on_progress), name=landing)
    except (IncusError, gpg.GpgError) as exc:
        raise RestoreError(f"{path}: not restored into project {target.project!r}: {exc}") from None
    readdress = (target.project, target.name) != (checked.project, checked.instance)
    if readdress:
        try:
            await _readdress(client, landing, target.project)
        except IncusError as exc:
            with contextlib.suppress(IncusError):
                await client.delete_instance(landing, target.project)
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
    inst = await client.get_instance(name, project)
    config = {k: v for k, v in inst.config.items() if not (k.startswith("volatile.") and k.endswith(".hwaddr"))}
    devices = {**inst.devices, **without_static_addresses(inst)}
    keep = {"profiles": inst.profiles, "ephemeral": inst.ephemeral, "description": inst.description}
    await client.update_instance(name, project, config=config, devices=inst.devices, **keep)
    await client.update_instance(name, project, config=config, devices=devices, **keep)


async def _swap(client: IncusClient, target: RestoreTarget, landing: str) -> None:
    """Replace the old instance with the imported one; the import is removed again if the old one
    cannot be deleted, and kept (and named) if the rename fails."""
    where = f"{target.project}/{target.name}"
    try:
        current = await client.get_instance(target.name, target.project)
        if current.status in ("Running", "Frozen"):
            await client.change_state(target.name, target.project, "stop", force=True)
        await client.delete_instance(target.name, target.project)
    except IncusError as exc:
        with contextlib.suppress(IncusError):
            await client.delete_instance(landing, target.project)
        raise RestoreError(f"{where} could not be removed to make room: {exc}; nothing was replaced") from None
    try:
        await client.rename_instance(landing, target.project, target.name)
    except IncusError as exc:
        raise RestoreError(
            f"{where} was deleted but the restored instance could not take its name ({exc}): "
            f"it is {target.project}/{landing}"
        ) from None


def restore_infra(run: Path, dest: Path) -> list[Path]:
    """Extract the run's infra source into `dest` (never over an existing file); the files written."""
    manifest = read_manifest(run)
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
