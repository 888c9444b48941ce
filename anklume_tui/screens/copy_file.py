"""Copy a file from the selected machine to another (`:copy`, the machine's menu): a small form offering the
machines the infra connects to it (and saying, for the others, what would connect them), then the copy in a
worker with its progress in the operations log."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from ..engine import host, incus, machines
from ..transfer_progress import Progress, describe, reading
from ..widgets.domain_table import DomainTable
from .domains.host import DomainsHost

if TYPE_CHECKING:
    from ..psot.model import Infra

PROGRESS_DELAY = 0.5  # quicker copies log only their end
PROGRESS_EVERY = 2.0


@dataclass(frozen=True)
class Choice:
    """A machine the file could go to: what connects it to the source, or why nothing does."""

    machine: str
    domain: str
    link: machines.Link | None
    refusal: str

    @property
    def label(self) -> str:
        return f"{self.machine}  ({self.domain}: {self.link.detail if self.link else 'not connected'})"


@dataclass(frozen=True)
class CopyRequest:
    source: machines.Location
    destination: machines.Location


class CopyFileScreen(ModalScreen[CopyRequest | None]):
    """Dismissed with the copy to make, or None (esc, Cancel)."""

    DEFAULT_CSS = """
    CopyFileScreen { align: center middle; }
    #copy-body { width: 90; height: auto; padding: 1 2; background: $panel; border: round $primary; }
    #copy-why { color: $text-muted; margin-bottom: 1; }
    #copy-why.refused { color: $warning; }
    #copy-buttons { height: auto; margin-top: 1; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="copy_file.cancel")]

    def __init__(self, source: str, choices: list[Choice]) -> None:
        super().__init__()
        self.source = source
        # Connected machines first: the first of them is preselected.
        self.choices = sorted(choices, key=lambda c: c.link is None)

    def compose(self) -> ComposeResult:
        first = self.choices[0].machine if self.choices else Select.BLANK
        with Vertical(id="copy-body"):
            yield Static(f"Copy a file from {self.source}", id="copy-title", markup=False)
            yield Label(f"file in {self.source} (absolute path)", markup=False)
            yield Input(placeholder="/root/notes.txt", id="copy-source")
            yield Label("to machine")
            yield Select([(c.label, c.machine) for c in self.choices], value=first, allow_blank=False, id="copy-target")
            yield Static("", id="copy-why", markup=False)
            yield Label("destination path (empty: the same path; a folder keeps the name)")
            yield Input(placeholder="same path as the source", id="copy-destination")
            with Horizontal(id="copy-buttons"):
                yield Button("Copy", variant="primary", id="copy-go")
                yield Button("Cancel (esc)", id="copy-cancel")

    def on_mount(self) -> None:
        self._explain()
        self.query_one("#copy-source", Input).focus()

    def _chosen(self) -> Choice | None:
        value = self.query_one("#copy-target", Select).value
        return next((c for c in self.choices if c.machine == value), None)

    @on(Select.Changed, "#copy-target")
    def _explain(self) -> None:
        choice = self._chosen()
        why = self.query_one("#copy-why", Static)
        if choice is None:
            why.update("No other machine is declared.")
        elif choice.link is None:
            why.update(f"Refused: {choice.refusal}")
        else:
            why.update(f"Allowed: {choice.link.detail}")
        why.set_class(choice is None or choice.link is None, "refused")
        self.query_one("#copy-go", Button).disabled = choice is None or choice.link is None

    @on(Input.Submitted)
    @on(Button.Pressed, "#copy-go")
    def _go(self) -> None:
        choice = self._chosen()
        if choice is None or choice.link is None:
            self.notify("Choose a machine connected to this one.", severity="warning")
            return
        path = self.query_one("#copy-source", Input).value.strip()
        target = self.query_one("#copy-destination", Input).value.strip() or path
        if not path.startswith("/") or not target.startswith("/"):
            self.notify("Paths are absolute: they start with /.", severity="warning")
            return
        self.dismiss(CopyRequest(machines.Location(self.source, path), machines.Location(choice.machine, target)))

    @on(Button.Pressed, "#copy-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class CopyFileActions(DomainsHost):
    """Mixed into the domains screen: needs `self.result`, `self.incus_url`, `self.report(text)`."""

    def action_copy_file(self) -> None:
        row = self.query_one(DomainTable).selected()
        infra = self.result.infra if self.result is not None else None
        declared = {m.name for m in infra.machines} if infra is not None else set()
        if row is None or infra is None or row.is_domain or row.name not in declared:
            self.app.notify("Select a declared machine to copy a file from it.", severity="warning")
            return
        if not self._allowed():
            return
        choices = [Choice(m.name, m.domain, link, why) for m, link, why in machines.destinations(infra, row.name)]

        def chosen(request: CopyRequest | None) -> None:
            if request is not None:
                self.report(f"copy {request.source} to {request.destination} …")
                self.run_copy(infra, request)

        self.app.push_screen(CopyFileScreen(row.name, choices), chosen)

    @work(group="copy")
    async def run_copy(self, infra: Infra, request: CopyRequest) -> None:
        started, shown = time.monotonic(), [-PROGRESS_EVERY]  # the first line after PROGRESS_DELAY

        def progress(p: Progress) -> None:
            elapsed = time.monotonic() - started
            if elapsed >= PROGRESS_DELAY and elapsed - shown[0] >= PROGRESS_EVERY:
                shown[0] = elapsed
                self.report(describe(reading(p, elapsed)))

        label = f"copy {request.source} to {request.destination}"
        try:
            async with incus.connect(self.incus_url) as client:
                copying = machines.copy_file(client, infra, request.source, request.destination, progress)
                copied = await host.recorded_call("copy-file", None, copying, (machines.TransferRefused,))
        except machines.TransferRefused as exc:
            self.report(f"{label}: refused: {exc}")
            self.app.notify(str(exc), title="copy: refused", severity="warning", markup=False)
        except (machines.TransferFailed, incus.IncusError) as exc:
            self.report(f"{label}: failed: {exc}")
            self.app.notify(str(exc), title="copy: failed", severity="error", markup=False)
        else:
            done = f"copied {copied.source} to {copied.destination} ({copied.size} bytes)"
            self.report(done)
            self.app.notify(done, title="copy", markup=False)
