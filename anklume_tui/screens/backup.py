"""Back up the selected machine or domain (SPEC §2 "backup"): where to (default
$XDG_STATE_HOME/anklume/backups) and an optional GPG recipient, then a progress bar with bytes, rate and
ETA; esc cancels, and a cancelled or failed backup leaves nothing behind (engine/backup/export.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Input, Log, Static
from textual.worker import Worker, WorkerState

from ..engine.backup import BackupDone, backup_machines
from ..engine.host import backups_dir, recorded_call
from ..engine.incus import connect
from ..engine.machines import Target
from ..errors import AnklumeError
from ..widgets.transfer_progress import TransferProgress

TRANSFER_CSS = """
.transfer-form { height: auto; padding: 1 2; }
.transfer-form Input { width: 80; }
.transfer-form Button { margin-top: 1; }
TransferProgress { padding: 0 2; }
.transfer-log { height: 1fr; border-top: solid $accent 40%; }
"""


class BackupScreen(Screen):
    DEFAULT_CSS = TRANSFER_CSS
    BINDINGS = [Binding("escape", "cancel_or_back", "Cancel / back", id="backup.cancel")]

    def __init__(
        self,
        what: str,
        targets: Sequence[Target],
        incus_url: str | None,
        *,
        infra_files: Sequence[Path] = (),
        infra_root: Path | None = None,
    ) -> None:
        super().__init__()
        self.what = what
        self.targets = list(targets)
        self.incus_url = incus_url
        self.infra_files = list(infra_files)
        self.infra_root = infra_root
        self.running: Worker | None = None
        self.done: BackupDone | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(classes="transfer-form"):
            yield Static(
                f"Back up {self.what}: each machine is exported by Incus (snapshots included) with the infra "
                "source, into a new folder anklume-backup-YYYYMMDD-HHMMSS under this one:",
                markup=False,
            )
            yield Input(str(backups_dir()), id="backup-dir")
            yield Input(placeholder="GPG recipient to encrypt to (optional)", id="backup-recipient")
            yield Button("Back up (enter)", variant="primary", id="backup-start")
        yield TransferProgress(id="backup-progress")
        yield Log(classes="transfer-log", id="backup-log")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"Back up {self.what}"
        self.query_one("#backup-dir", Input).focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#backup-start")
    def start(self) -> None:
        if self.running is not None:
            return
        folder = self.query_one("#backup-dir", Input).value.strip()
        if not folder:
            self.app.notify("Say where to write the backup.", severity="warning")
            return
        recipient = self.query_one("#backup-recipient", Input).value.strip()
        self.log_line(f"backing up {self.what} under {folder} …")
        self.query_one(TransferProgress).start("asking Incus for an export …")
        self.running = self.run_backup(Path(folder).expanduser().absolute(), [recipient] if recipient else [])

    @work(exclusive=True, group="backup", exit_on_error=False)
    async def run_backup(self, parent: Path, recipients: list[str]) -> None:
        progress = self.query_one(TransferProgress)
        try:
            async with connect(self.incus_url) as client:
                backing_up = backup_machines(
                    client,
                    self.targets,
                    parent,
                    infra_files=self.infra_files,
                    infra_root=self.infra_root,
                    recipients=recipients,
                    on_progress=progress,
                )
                self.done = await recorded_call("backup", None, backing_up)
        except AnklumeError as exc:
            progress.finish(f"failed: {exc.user_message()}", complete=False)
            self.tell(f"backup failed: {exc.user_message()}", "error")
            return
        for label in progress.completed:
            self.log_line(f"{label}: 100%")
        for target in self.done.missing:
            self.log_line(f"{target} does not exist in Incus: skipped")
        progress.finish(f"done: {self.done.run.path}", complete=True)
        self.tell(f"backup written to {self.done.run.path}", "information")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is not self.running or not event.worker.is_finished:
            return
        if event.state == WorkerState.CANCELLED:
            self.query_one(TransferProgress).finish("cancelled: nothing was kept", complete=False)
            self.tell("backup cancelled: nothing was kept", "warning")
        elif event.state == WorkerState.ERROR:  # not one of the failures the engine names: still no traceback
            self.query_one(TransferProgress).finish(f"failed: {event.worker.error}", complete=False)
            self.tell(f"backup failed: {event.worker.error}", "error")
        self.running = None

    def action_cancel_or_back(self) -> None:
        if self.running is not None:
            self.log_line("cancelling …")
            self.running.cancel()
        else:
            self.app.pop_screen()

    def tell(self, text: str, severity: SeverityLevel) -> None:
        self.log_line(text)
        self.app.notify(text, severity=severity, markup=False)

    def log_line(self, text: str) -> None:
        self.query_one("#backup-log", Log).write_line(f"{datetime.now():%H:%M:%S} {text}")
