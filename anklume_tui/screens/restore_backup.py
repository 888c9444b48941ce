"""Restore a backup (SPEC §2 "restore"): a backup folder or one instance archive, under its own name or a new
one, never replacing an existing instance. Every archive is read through before Incus sees it (progress
with bytes, rate and ETA); esc cancels while archives are checked, when nothing has changed yet. What a
backup may ask of the host beyond an ordinary machine is allowed here as restore-backup's flags allow it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widgets import Button, Checkbox, Footer, Header, Input, Log, Static
from textual.worker import Worker, WorkerState

from ..engine.backup import Restored, RestoreTrust, check_restore, import_checked
from ..engine.host import recorded_call
from ..engine.incus import connect
from ..errors import AnklumeError
from ..widgets.transfer_progress import TransferProgress
from .backup import TRANSFER_CSS


class RestoreBackupScreen(Screen):
    DEFAULT_CSS = TRANSFER_CSS
    BINDINGS = [Binding("escape", "cancel_or_back", "Cancel / back", id="restore.cancel")]

    def __init__(self, path: str, incus_url: str | None) -> None:
        super().__init__()
        self.path = path
        self.incus_url = incus_url
        self.running: Worker | None = None
        self.importing = False  # the worker is past the checks: Incus is importing, esc may not cancel
        self.restored: list[Restored] = []

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(classes="transfer-form"):
            yield Static(
                "Restore a backup folder (anklume-backup-…) or one machine archive (.tar.gz, .gpg). Machines come "
                "back stopped, in their own project; an existing machine of that name is never replaced."
            )
            yield Input(self.path, placeholder="backup folder or archive", id="restore-path")
            yield Input(placeholder="restore under a new name (optional, one archive only)", id="restore-name")
            yield Input(
                placeholder="--allow-disk-source: host folders disk devices may take, separated by ':' (optional)",
                id="restore-disk-sources",
            )
            yield Checkbox(
                "--allow-unsafe-config: privileged, raw.*, idmap keys, host devices", id="restore-unsafe-config"
            )
            yield Checkbox("--allow-unsigned: an encrypted backup without a trusted signature", id="restore-unsigned")
            yield Button("Restore (enter)", variant="primary", id="restore-start")
        yield TransferProgress(id="restore-progress")
        yield Log(classes="transfer-log", id="restore-log")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "Restore a backup"
        self.query_one("#restore-name" if self.path else "#restore-path", Input).focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#restore-start")
    def start(self) -> None:
        if self.running is not None:
            return
        path = self.query_one("#restore-path", Input).value.strip()
        if not path:
            self.app.notify("Name the backup folder or archive to restore.", severity="warning")
            return
        name = self.query_one("#restore-name", Input).value.strip() or None
        folders = self.query_one("#restore-disk-sources", Input).value.split(":")
        trust = RestoreTrust(
            unsafe_config=self.query_one("#restore-unsafe-config", Checkbox).value,
            disk_sources=tuple(Path(f.strip()).expanduser().absolute() for f in folders if f.strip()),
            unsigned=self.query_one("#restore-unsigned", Checkbox).value,
        )
        self.log_line(f"restoring {path}" + (f" as {name}" if name else "") + " …")
        self.query_one(TransferProgress).start("checking the archives …")
        self.importing = False
        self.running = self.run_restore(Path(path).expanduser().absolute(), name, trust)

    @work(exclusive=True, group="restore-backup", exit_on_error=False)
    async def run_restore(self, path: Path, name: str | None, trust: RestoreTrust) -> None:
        progress = self.query_one(TransferProgress)
        try:
            restoring = self._restore(path, name, trust, progress)
            self.restored = await recorded_call("restore-backup", None, restoring)
        except AnklumeError as exc:
            progress.finish(f"failed: {exc.user_message()}", complete=False)
            self.tell(f"restore failed: {exc.user_message()}", "error")
            return
        for r in self.restored:
            was = f" (was {r.source_instance})" if r.source_instance != r.instance else ""
            self.log_line(f"restored {r.project}/{r.instance}{was}, stopped")
        progress.finish(f"done: {len(self.restored)} machine(s) restored, stopped", complete=True)
        self.tell(f"{len(self.restored)} machine(s) restored from {path}", "information")

    async def _restore(
        self, path: Path, name: str | None, trust: RestoreTrust, progress: TransferProgress
    ) -> list[Restored]:
        async with connect(self.incus_url) as client:
            targets = await check_restore(client, path, name=name, trust=trust, on_progress=progress)
            self.importing = True
            return await import_checked(client, targets, on_progress=progress)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is not self.running or not event.worker.is_finished:
            return
        if event.state == WorkerState.CANCELLED:
            self.query_one(TransferProgress).finish("cancelled while checking: nothing was restored", complete=False)
            self.tell("restore cancelled: nothing was restored", "warning")
        elif event.state == WorkerState.ERROR:
            self.query_one(TransferProgress).finish(f"failed: {event.worker.error}", complete=False)
            self.tell(f"restore failed: {event.worker.error}", "error")
        self.running = None

    def action_cancel_or_back(self) -> None:
        if self.running is None:
            self.app.pop_screen()
            return
        if self.importing:
            self.app.notify("Incus is importing: cancelling now could leave half a machine; wait for the end.")
            return
        self.log_line("cancelling …")
        self.running.cancel()

    def tell(self, text: str, severity: SeverityLevel) -> None:
        self.log_line(text)
        self.app.notify(text, severity=severity, markup=False)

    def log_line(self, text: str) -> None:
        self.query_one("#restore-log", Log).write_line(f"{datetime.now():%H:%M:%S} {text}")
