"""Backups (export) and restores, with GPG, for the `backup`/`restore-backup` verbs and the TUI alike."""

from __future__ import annotations

from .export import check_recipients
from .jobs import BackupDone, backup_machines, check_restore, import_checked
from .restore import Restored, restore_infra
from .trust import RestoreTrust

__all__ = [
    "BackupDone",
    "RestoreTrust",
    "Restored",
    "backup_machines",
    "check_recipients",
    "check_restore",
    "import_checked",
    "restore_infra",
]
