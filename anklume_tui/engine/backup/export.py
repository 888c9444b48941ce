"""Backups (SPEC §2 "backup / restore"): export managed instances and the infra source to archives.

One run writes `<dir>/anklume-backup-YYYYMMDD-HHMMSS/`: `<project>/<instance>.tar.gz` per instance (an Incus
export, snapshots included), `infra.tar.gz` (the infra file or directory as loaded), `manifest.json` and
`SHA256SUMS` (for `sha256sum -c`). With recipients every archive is GPG-encrypted (`.gpg` added) and the
manifest, which holds every archive's checksum, is signed (`manifest.json.sig`, detached) with the user's
default secret key or the one named: anyone can encrypt to a public key, only its owner can sign.

The run is built in a hidden `.partial` folder beside it and renamed into place once complete: a failure
(full disk, Incus error, gpg error, Ctrl-C) leaves nothing, neither there nor as a backup on the server.
The folder is private (0700): an instance's archive holds its whole filesystem.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import os
import secrets
import shutil
import tarfile
import tempfile
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from ... import exitcodes
from ...errors import Failed
from ...transfer_progress import Progress, ProgressFn
from ..host.private_files import private_folder
from ..incus.client import IncusClient
from ..incus.errors import IncusError
from ..incus.models import Instance
from . import gpg

RUN_PREFIX = "anklume-backup-"
MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
SIGNATURE = MANIFEST + ".sig"
SERVER_BACKUP_TTL = timedelta(days=1)  # a server-side backup a crash left behind expires on its own
CHUNK_SIZE = 1 << 20


class BackupError(Failed):
    """A backup could not be written; the message names where and why, and says nothing was kept."""


class ArchiveEntry(BaseModel):
    """One archive of a run, as `manifest.json` lists it."""

    model_config = ConfigDict(extra="ignore")
    file: str  # relative to the run folder
    size: int
    sha256: str
    project: str | None = None  # instance archives
    instance: str | None = None
    type: str | None = None


class Manifest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    format: int = 1
    created_at: str
    tool: str
    encrypted_to: list[str]
    instances: list[ArchiveEntry]
    infra: ArchiveEntry | None


@dataclass(frozen=True)
class BackupRun:
    path: Path
    manifest: Manifest


def run_name(now: datetime) -> str:
    return RUN_PREFIX + now.strftime("%Y%m%d-%H%M%S")


async def backup(
    client: IncusClient,
    targets: Sequence[Instance],
    parent: Path,
    *,
    infra_files: Sequence[Path] = (),
    infra_root: Path | None = None,
    recipients: Sequence[str] = (),
    sign_key: str | None = None,
    recipients_checked: bool = False,
    on_progress: ProgressFn | None = None,
) -> BackupRun:
    """Export `targets` (and the infra files, stored relative to `infra_root`'s folder) into a new run
    folder under `parent`; with recipients or `sign_key` the manifest is signed (with `sign_key`, else
    gpg's default key). GpgError when a recipient names no public key or no secret key can sign (nothing
    written), unless the caller already had `check_recipients` say so (`recipients_checked`)."""
    if not recipients_checked:
        await check_recipients(recipients, sign_key)
    now = datetime.now()
    name = run_name(now)
    try:
        private_folder(parent)  # missing folders 0700; the default one, in the state folder, made private
        staging = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".partial", dir=parent))
    except OSError as exc:
        raise BackupError(f"cannot create a backup folder in {parent}: {exc.strerror or exc}") from None
    writer = _Writer(staging, parent, recipients, sign_key, on_progress)
    try:
        instances = [await writer.instance(client, inst, now) for inst in targets]
        infra = await writer.infra(infra_files, infra_root) if infra_files else None
        manifest = Manifest(
            created_at=now.astimezone().isoformat(timespec="seconds"),
            tool=f"anklume-tui {version('anklume-tui')}",
            encrypted_to=list(recipients),
            instances=instances,
            infra=infra,
        )
        final = await _published(writer, manifest, name)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return BackupRun(final, manifest)


class RecipientRefused(gpg.GpgError):
    """A recipient names no public key, or gpg is missing: the request cannot be met (a usage error)."""

    exit_code = exitcodes.INVALID


async def check_recipients(recipients: Sequence[str], sign_key: str | None = None) -> None:
    """RecipientRefused unless every recipient names a public key of the keyring and, when the backup is
    signed (recipients or `sign_key`), a secret key can sign. gpg runs in a thread: the TUI's event loop
    keeps drawing meanwhile."""
    try:
        if recipients:
            await asyncio.to_thread(gpg.check_recipients, recipients)
        if recipients or sign_key:
            await asyncio.to_thread(gpg.check_signer, sign_key)
    except gpg.GpgError as exc:
        raise RecipientRefused(str(exc)) from exc


async def _published(writer: _Writer, manifest: Manifest, name: str) -> Path:
    """`writer.publish` in a thread (its writes and fsyncs block). Cancelled meanwhile, the thread still
    runs to its end: the run it renamed into place is removed, as a cancelled backup keeps nothing."""
    publishing = asyncio.ensure_future(asyncio.to_thread(writer.publish, manifest, name))
    try:
        return await asyncio.shield(publishing)
    except asyncio.CancelledError:
        with contextlib.suppress(BackupError):
            shutil.rmtree(await publishing, ignore_errors=True)
        raise


class _Writer:
    def __init__(
        self,
        staging: Path,
        parent: Path,
        recipients: Sequence[str],
        sign_key: str | None,
        on_progress: ProgressFn | None,
    ):
        self.staging = staging
        self.parent = parent
        self.recipients = list(recipients)
        self.signed = bool(recipients or sign_key)
        self.sign_key = sign_key  # None: gpg's default key
        self.on_progress = on_progress or (lambda _p: None)
        self.suffix = ".gpg" if recipients else ""

    async def instance(self, client: IncusClient, inst: Instance, now: datetime) -> ArchiveEntry:
        label = f"{inst.project}/{inst.name}"
        relative = f"{inst.project}/{inst.name}.tar.gz{self.suffix}"
        server_name = f"anklume-{now:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"
        try:
            await client.create_backup(
                inst.name,
                server_name,
                expires_at=datetime.now(UTC) + SERVER_BACKUP_TTL,
                on_progress=lambda n: self.on_progress(Progress(f"exporting {label} on the server", n, None)),
                project=inst.project,
            )
            async with client.export_backup(inst.name, server_name, project=inst.project) as download:
                await self._save(relative, label, download.chunks, download.size)
        finally:
            with contextlib.suppress(IncusError):  # else it expires on its own (SERVER_BACKUP_TTL)
                await client.delete_backup(inst.name, server_name, project=inst.project)
        return await self._entry(relative, project=inst.project, instance=inst.name, type=inst.type)

    async def infra(self, files: Sequence[Path], root: Path | None) -> ArchiveEntry:
        relative = f"infra.tar.gz{self.suffix}"
        data = io.BytesIO()
        base = (root or files[0]).resolve().parent
        with tarfile.open(fileobj=data, mode="w:gz") as tar:
            for file in files:
                tar.add(file, arcname=str(file.resolve().relative_to(base)), recursive=False)
        await self._save(relative, "infra", _once(data.getvalue()), len(data.getvalue()))
        return await self._entry(relative)

    async def _save(self, relative: str, label: str, chunks: AsyncIterator[bytes], total: int | None) -> None:
        path = self.staging / relative
        done = 0
        try:
            path.parent.mkdir(exist_ok=True)
            sink = await gpg.Encryptor.start(path, self.recipients) if self.recipients else _PlainFile(path)
            try:
                async for chunk in chunks:
                    await sink.write(chunk)
                    done += len(chunk)
                    self.on_progress(Progress(f"writing {label}", done, total))
                await sink.close()
            except BaseException:
                await sink.abort()
                raise
        except (OSError, gpg.GpgError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            raise BackupError(
                f"cannot write the backup of {label} in {self.parent}: {reason}; nothing was kept"
            ) from None

    async def _entry(self, relative: str, **about: str) -> ArchiveEntry:
        path = self.staging / relative
        digest = await asyncio.to_thread(sha256_of, path)
        return ArchiveEntry(file=relative, size=path.stat().st_size, sha256=digest, **about)

    def publish(self, manifest: Manifest, name: str) -> Path:
        """Write the manifest and checksums, flush everything to disk, and rename the run into place."""
        try:
            entries = [*manifest.instances, *([manifest.infra] if manifest.infra else [])]
            sums = "".join(f"{e.sha256}  {e.file}\n" for e in entries)
            _write_synced(self.staging / SUMS, sums.encode())
            _write_synced(self.staging / MANIFEST, (manifest.model_dump_json(indent=2) + "\n").encode())
            if self.signed:
                gpg.sign(self.staging / MANIFEST, self.staging / SIGNATURE, self.sign_key)
                _fsync_file(self.staging / SIGNATURE)
            for folder in {self.staging, *(p.parent for p in self.staging.rglob("*") if p.is_file())}:
                _fsync_dir(folder)
            final = self.parent / name
            n = 2
            while final.exists():  # two runs in one second
                final, n = self.parent / f"{name}-{n}", n + 1
            self.staging.rename(final)
            _fsync_dir(self.parent)
        except (OSError, gpg.GpgError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            raise BackupError(f"cannot finish the backup in {self.parent}: {reason}; nothing was kept") from None
        return final


class _PlainFile:
    """A new file written off the event loop (a TUI worker's loop keeps running)."""

    def __init__(self, path: Path) -> None:
        self._file = open(path, "xb")  # noqa: SIM115 - closed by close() or abort()

    async def write(self, chunk: bytes) -> None:
        await asyncio.to_thread(self._file.write, chunk)

    async def close(self) -> None:
        await asyncio.to_thread(self._flush_to_disk)
        self._file.close()

    def _flush_to_disk(self) -> None:
        self._file.flush()
        os.fsync(self._file.fileno())

    async def abort(self) -> None:
        with contextlib.suppress(OSError):  # a full disk fails the final flush too
            self._file.close()


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


def sha256_of(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _write_synced(path: Path, data: bytes) -> None:
    with open(path, "xb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as f:
        os.fsync(f.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
