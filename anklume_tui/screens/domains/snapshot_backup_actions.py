"""The snapshot timeline, backup and restore-backup, opened from the domains screen (key T, the row menu, the
palette, `:snapshots`, `:backup`, `:restore FILE`)."""

from __future__ import annotations

from textual.binding import Binding

from .host import DomainsHost

SNAPSHOT_BACKUP_BINDINGS = [
    Binding("T", "snapshot_timeline", "Snapshot timeline", show=False, id="domains.snapshot_timeline")
]


class SnapshotBackupActions(DomainsHost):
    """Mixed into the domains screen after MachineActions: needs `_targets()`, `_allowed()`, `result`,
    `incus_url`."""

    # The screens are imported when first opened: they bring gzip, tarfile, gpg and the backup engine,
    # which the first paint of the app does not need.
    def action_snapshot_timeline(self) -> None:
        from ..snapshot_timeline import SnapshotTimelineScreen

        what, targets = self._targets()
        if not targets:
            self.app.notify("Select a machine or a domain first.", severity="warning")
            return
        self.app.push_screen(SnapshotTimelineScreen(what, targets, self.incus_url, read_only=self.app.read_only))

    def action_backup(self) -> None:
        from ..backup import BackupScreen

        what, targets = self._targets()
        if not targets:
            self.app.notify("Select a machine or a domain first.", severity="warning")
            return
        if self._allowed():
            assert self.result is not None  # _targets found the selection in it
            loaded = self.result.loaded
            self.app.push_screen(
                BackupScreen(
                    what,
                    [target for _name, target in targets],
                    self.incus_url,
                    infra_files=loaded.files,
                    infra_root=loaded.path,
                )
            )

    def action_restore_backup(self, path: str = "") -> None:
        from ..restore_backup import RestoreBackupScreen

        if self._allowed():
            self.app.push_screen(RestoreBackupScreen(path, self.incus_url))
