"""Machines once they exist: lifecycle, snapshots and their timeline, disposables, golden images, copying a
file between machines."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...lazy_exports import exports_on_first_use

if TYPE_CHECKING:
    from .disposable_session import shell_argv, stop_disposable
    from .disposables import Disposable, DisposableError, create_disposable
    from .file_transfer import (
        Link,
        Location,
        TransferFailed,
        TransferRefused,
        check_link,
        copy_file,
        destinations,
        parse_location,
    )
    from .golden import create_golden, derive_golden, list_golden, publish_golden
    from .lifecycle import Refused, Target, change_state, delete_machine, snapshot_now
    from .snapshots import (
        SnapshotInfo,
        create_snapshots,
        delete_snapshots,
        list_snapshots,
        resolve_targets,
        restore_snapshots,
        rollback_pre_apply,
    )
    from .timeline import (
        MachineLane,
        SnapshotTimeline,
        delete_snapshot,
        read_timeline,
        restore_snapshot,
        snapshot_changes,
    )
else:
    __getattr__ = exports_on_first_use(
        __name__,
        {
            "disposable_session": ["shell_argv", "stop_disposable"],
            "disposables": ["Disposable", "DisposableError", "create_disposable"],
            "file_transfer": [
                "Link",
                "Location",
                "TransferFailed",
                "TransferRefused",
                "check_link",
                "copy_file",
                "destinations",
                "parse_location",
            ],
            "golden": ["create_golden", "derive_golden", "list_golden", "publish_golden"],
            "lifecycle": ["Refused", "Target", "change_state", "delete_machine", "snapshot_now"],
            "snapshots": [
                "SnapshotInfo",
                "create_snapshots",
                "delete_snapshots",
                "list_snapshots",
                "resolve_targets",
                "restore_snapshots",
                "rollback_pre_apply",
            ],
            "timeline": [
                "MachineLane",
                "SnapshotTimeline",
                "delete_snapshot",
                "read_timeline",
                "restore_snapshot",
                "snapshot_changes",
            ],
        },
    )

__all__ = [
    "Disposable",
    "DisposableError",
    "Link",
    "Location",
    "MachineLane",
    "Refused",
    "SnapshotInfo",
    "SnapshotTimeline",
    "Target",
    "TransferFailed",
    "TransferRefused",
    "change_state",
    "check_link",
    "copy_file",
    "create_disposable",
    "create_golden",
    "create_snapshots",
    "delete_machine",
    "delete_snapshot",
    "delete_snapshots",
    "derive_golden",
    "destinations",
    "list_golden",
    "list_snapshots",
    "parse_location",
    "publish_golden",
    "read_timeline",
    "resolve_targets",
    "restore_snapshot",
    "restore_snapshots",
    "rollback_pre_apply",
    "shell_argv",
    "snapshot_changes",
    "snapshot_now",
    "stop_disposable",
]
