"""Byte progress of long transfers (backup, restore-backup) on stderr: nothing for the first half second,
then bytes, rate and ETA (transfer_progress.py, shared with the TUI), redrawn in place on a terminal,
a line every few seconds in a log."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

from ..transfer_progress import Progress, describe, reading

DELAY = 0.5  # quicker transfers print nothing


class StderrProgress:
    """Call it with each Progress; `with StderrProgress() as progress:` ends its line on leaving (before
    an error message is printed)."""

    def __init__(
        self, stream: TextIO | None = None, *, clock: Callable[[], float] = time.monotonic, delay: float = DELAY
    ) -> None:
        self.stream = stream or sys.stderr
        self.clock = clock
        self.delay = delay
        self.tty = self.stream.isatty()
        self.interval = 0.2 if self.tty else 2.0
        self._label: str | None = None
        self._started = 0.0
        self._shown: float | None = None
        self._line_open = False

    def __call__(self, p: Progress) -> None:
        now = self.clock()
        if p.label != self._label:
            self.end()
            self._label, self._started, self._shown = p.label, now, None
        if now - self._started < self.delay:
            return
        finished = bool(p.total) and p.done >= (p.total or 0)
        if self._shown is not None and now - self._shown < self.interval and not finished:
            return
        self._shown = now
        line = describe(reading(p, now - self._started))
        if self.tty:
            self.stream.write(f"\r{line}\x1b[K")
            self._line_open = True
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def end(self) -> None:
        if self._line_open:
            self.stream.write("\n")
            self.stream.flush()
            self._line_open = False

    def __enter__(self) -> StderrProgress:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.end()
