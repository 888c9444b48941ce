"""Backup and restore-backup as the `backup`/`restore-backup` verbs and the TUI both call them, on the
caller's client: `backup_machines` exports the machines asked for that exist; a restore comes in its two
phases, so a caller knows when cancelling stops being safe: `check_restore` (reads, changes nothing) then
`import_checked` (Incus imports)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ... import exitcodes
from ...transfer_progress import ProgressFn
from ..incus.client import IncusClient
from ..incus.errors import IncusNotFound
from ..machines.lifecycle import Target
from . import export as backup
from . import restore as backup_restore
from .export import BackupRun
from .restore import Restored, RestoreError, RestoreTarget
from .trust import STRICT, RestoreTrust


class RestoreUsage(RestoreError):
    """The restore asked for cannot be meant (a new name for several archives): a usage error."""

    exit_code = exitcodes.INVALID


@dataclass(frozen=True)
class BackupDone:
    run: BackupRun
    missing: list[Target]  # asked for, but Incus has no such instance: skipped


async def backup_machines(
    client: IncusClient,
    targets: Sequence[Target],
    parent: Path,
    *,
    infra_files: Sequence[Path] = (),
    infra_root: Path | None = None,
    recipients: Sequence[str] = (),
    sign_key: str | None = None,
    recipients_checked: bool = False,
    on_progress: ProgressFn | None = None,
) -> BackupDone:
    """Export the existing `targets` and the infra files into a new run folder under `parent`, encrypted
    to `recipients` and signed (with `sign_key`, else gpg's default key) when there are any. Raises
    BackupError (nothing kept) or GpgError; a cancelled call leaves no folder behind either. A caller that
    had `check_recipients` say yes already (the verb, before it lists instances) passes `recipients_checked`."""
    if not recipients_checked:
        await backup.check_recipients(recipients, sign_key)  # before Incus is asked anything
    instances, missing = [], []
    for target in targets:
        try:
            instances.append(await client.get_instance(target.instance, project=target.project))
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
        sign_key=sign_key,
        recipients_checked=True,
        on_progress=on_progress,
    )
    return BackupDone(run, missing)


async def check_restore(
    client: IncusClient,
    path: Path,
    *,
    project: str | None = None,
    name: str | None = None,
    replace: bool = False,
    trust: RestoreTrust = STRICT,
    on_progress: ProgressFn | None = None,
) -> list[RestoreTarget]:
    """The first phase of a restore: read every instance archive of `path` (a backup folder or one archive)
    to its end, and check it can go back under its own name or `name` (one archive only), into its own
    project or `project`, replacing an existing instance only with `replace`, the backup asking nothing of
    the host that `trust` does not allow. Nothing changes, so it may be cancelled; RestoreError says why not."""
    archives = await asyncio.to_thread(backup_restore.archives_in, path, trust)  # gpg checks its signature
    if name and len(archives) != 1:
        raise RestoreUsage(f"--name needs one archive; {path} holds {len(archives)}")
    return await backup_restore.prepare_restore(
        client, archives, project=project, name=name, replace=replace, trust=trust, on_progress=on_progress
    )


async def import_checked(
    client: IncusClient, targets: list[RestoreTarget], *, on_progress: ProgressFn | None = None
) -> list[Restored]:
    """The second phase: Incus imports what `check_restore` accepted. Cancelled half way, it could leave
    an instance half imported; RestoreError says what failed."""
    return [r async for r in backup_restore.restore_archives(client, targets, on_progress=on_progress)]
