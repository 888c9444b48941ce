"""A progress bar with bytes, rate and ETA under it (the same arithmetic as the CLI's stderr progress)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import ProgressBar, Static

from ..transfer_progress import Progress, TransferReading, describe, reading

REDRAW_SECONDS = 0.1  # at most ten redraws a second, whatever the chunk rate


class TransferProgress(Vertical):
    DEFAULT_CSS = """
    TransferProgress { height: auto; }
    TransferProgress > Static { height: auto; }
    """

    def __init__(self, *, id: str | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(id=id)
        self.clock = clock
        self.last: TransferReading | None = None  # the last reading shown
        self.completed: list[str] = []  # labels that reached their total, in order
        self._label: str | None = None
        self._started = 0.0
        self._shown = 0.0
        self._finished = False

    def compose(self) -> ComposeResult:
        yield ProgressBar(total=None, show_eta=False)
        yield Static("", classes="transfer-text", markup=False)

    def on_mount(self) -> None:
        self._loop = asyncio.get_running_loop()

    def __call__(self, p: Progress) -> None:
        """The engine's on_progress, from the app's loop or from a thread (an archive is checked in one)."""
        now = self.clock()
        if p.label != self._label:
            self._label, self._started, self._shown = p.label, now, 0.0
        finished = bool(p.total) and p.done >= (p.total or 0)
        if now - self._shown < REDRAW_SECONDS and not finished:
            return
        self._shown = now
        self._loop.call_soon_threadsafe(self._show, reading(p, now - self._started))

    def start(self, text: str) -> None:
        self._label, self._finished, self.last, self.completed = None, False, None, []
        self.query_one(ProgressBar).update(total=None, progress=0)
        self.query_one(Static).update(text)

    def _show(self, r: TransferReading) -> None:
        if self._finished:  # a late reading from a thread
            return
        self.last = r
        if r.percent == 100 and r.label not in self.completed:
            self.completed.append(r.label)
        self.query_one(ProgressBar).update(total=r.total, progress=r.done)
        self.query_one(Static).update(describe(r))

    def finish(self, text: str, *, complete: bool) -> None:
        """The end: the bar full (done) or left where it stopped (failed, cancelled), and a last line."""
        self._finished = True
        bar = self.query_one(ProgressBar)
        if complete:
            bar.update(total=100, progress=100)
        elif bar.total is None:
            bar.update(total=100, progress=0)
        self.query_one(Static).update(text)
