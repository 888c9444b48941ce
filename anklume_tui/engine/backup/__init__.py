""""""

from __future__ import annotations

from .export import BackupError, backup, check_recipients
from .gpg import GpgError
from .jobs import BackupDone, back_up, check_restore, import_checked
from .restore import Restored, RestoreError, archives_in, prepare_restore, restore_archives, restore_infra
from .trust import RestoreTrust

__all__ = [
    "BackupDone",
    "BackupError",
    "GpgError",
    "RestoreError",
    "Restored",
    "RestoreTrust",
    "archives_in",
    "back_up",
    "backup",
    "check_recipients",
    "check_restore",
    "import_checked",
    "prepare_restore",
    "restore_archives",
    "restore_infra",
]
