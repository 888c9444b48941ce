"""Backups (export) and restores, with GPG, for the `backup`/`restore-backup` verbs and the TUI alike."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...lazy_exports import exports_on_first_use

if TYPE_CHECKING:
    from .export import check_recipients
    from .jobs import BackupDone, backup_machines, check_restore, import_checked
    from .restore import Restored, restore_infra
    from .trust import RestoreTrust
else:
    __getattr__ = exports_on_first_use(
        __name__,
        {
            "export": ["check_recipients"],
            "jobs": ["BackupDone", "backup_machines", "check_restore", "import_checked"],
            "restore": ["Restored", "restore_infra"],
            "trust": ["RestoreTrust"],
        },
    )

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
