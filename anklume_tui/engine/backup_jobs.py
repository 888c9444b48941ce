"""Backup and restore-backup for callers that hold no client (the TUI): each opens its own connection and
runs engine/backup.py or engine/backup_restore.py with the caller's progress callback."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from . import backup, backup_restore
from .backup import BackupRun, ProgressFn
from .backup_restore import Restored, RestoreError
from .incus import IncusClient
from .incus_transport import IncusNotFound
from .lifecycle import Target


@dataclass(frozen=True)
class BackupDone:
    run: BackupRun
    missing: list[Target]  # asked for, but Incus has no such instance: skipped


async def back_up(
    url: str | None,
    targets: Sequence[Target],
    parent: Path,
    *,
    infra_files: Sequence[Path] = (),
    infra_root: Path | None = None,
    recipients: Sequence[str] = (),
    on_progress: ProgressFn | None = None,
) -> BackupDone:
    """Export the existing `targets` and the infra files into a new run folder under `parent`. Raises
    BackupError (nothing kept) or GpgError; a cancelled call leaves no folder behind either."""
    async with IncusClient(url) as client:
        instances, missing = [], []
        for target in targets:
            try:
                instances.append(await client.get_instance(target.instance, target.project))
            except IncusNotFound:
                missing.append(target)
        if not instances:
            raise backup.BackupError("none of these machines exists in Incus: apply first; nothing was written")
        run = await backup.backup(
            client,
            instances,
            parent,
            infra_files=infra_files,
            infra_root=infra_root,
            recipients=recipients,
            on_progress=on_progress,
        )
    return BackupDone(run, missing)


async def restore_backup(
    url: str | None, path: Path, *, name: str | None = None, on_progress: ProgressFn | None = None
) -> list[Restored]:
    """Check then import every instance archive of `path` (a backup folder or one archive), under its own
    name or `name` (one archive only), never replacing an existing instance. RestoreError says why not."""
    archives = backup_restore.archives_in(path)
    if name and len(archives) != 1:
        raise RestoreError(f"a new name needs one archive; {path} holds {len(archives)}")
    async with IncusClient(url) as client:
        targets = await backup_restore.prepare(client, archives, name=name, on_progress=on_progress)
        return [r async for r in backup_restore.restore(client, targets, on_progress=on_progress)]
