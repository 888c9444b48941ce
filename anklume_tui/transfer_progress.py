"""Bytes, rate and ETA of a long transfer (backup, restore-backup), worked out once for both faces: the CLI
prints `describe()` on stderr, the TUI draws a bar from `reading()`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

BYTE_UNITS = ("B", "KiB", "MiB", "GiB", "TiB")


@dataclass(frozen=True)
class Progress:
    """Bytes moved so far by one transfer (`total` when known), for the CLI and TUI to show."""

    label: str
    done: int
    total: int | None


ProgressFn = Callable[[Progress], None]


def human_bytes(n: float, *, compact: bool = False) -> str:
    """`n` bytes in the largest binary unit that keeps it under 1024: "1.5 MiB"; `compact` (table cells)
    drops the space and the decimal from 100 up: "1.5MiB", "812KiB"."""
    step = 0
    while n >= 1024 and step < len(BYTE_UNITS) - 1:
        n, step = n / 1024, step + 1
    unit = BYTE_UNITS[step]
    space = "" if compact else " "
    return f"{n:.0f}{space}{unit}" if step == 0 or (compact and n >= 100) else f"{n:.1f}{space}{unit}"


@dataclass(frozen=True)
class TransferReading:
    """One Progress seen `elapsed` seconds after its label first appeared."""

    label: str
    done: int
    total: int | None
    elapsed: float

    @property
    def started(self) -> bool:
        """Incus has said something (bytes, or a total)."""
        return bool(self.done or self.total)

    @property
    def rate(self) -> float:
        """Bytes a second since the start."""
        return self.done / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def percent(self) -> int | None:
        return min(100, self.done * 100 // self.total) if self.total else None

    @property
    def eta(self) -> int | None:
        """Seconds left, when the total is known and bytes are moving."""
        if self.total and self.rate > 0 and self.done < self.total:
            return round((self.total - self.done) / self.rate)
        return None


def reading(p: Progress, elapsed: float) -> TransferReading:
    return TransferReading(p.label, p.done, p.total, elapsed)


def describe(r: TransferReading) -> str:
    if not r.started:
        return f"{r.label} ({r.elapsed:.0f} s)"
    text = f"{r.label}: {human_bytes(r.done)}"
    if r.total:
        text += f" of {human_bytes(r.total)} ({r.percent}%)"
    text += f", {human_bytes(r.rate)}/s"
    if r.eta is not None:
        text += f", ETA {r.eta} s"
    return text
