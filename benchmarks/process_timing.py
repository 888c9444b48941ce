"""Wall-clock timing of whole processes, as a user runs them, and the one table the whole-process benchmark prints."""

from __future__ import annotations

import statistics
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path


class CommandFailed(RuntimeError):
    pass


def run_once(cmd: Sequence[str], env: dict[str, str], cwd: Path | None = None, timeout: float = 600) -> float:
    """Seconds from spawning `cmd` to its exit (its output read whole, as a caller would); raises on failure."""
    t0 = time.perf_counter()
    done = subprocess.run(list(cmd), env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-8:]
        raise CommandFailed(f"{' '.join(cmd)} exited {done.returncode}:\n    " + "\n    ".join(tail))
    return seconds


def repeat(measure: Callable[[], float], runs: int, before: Callable[[], None] | None = None) -> list[float]:
    """`runs` figures of `measure`, each preceded by `before` (not timed)."""
    figures = []
    for _ in range(runs):
        if before is not None:
            before()
        figures.append(measure())
    return figures


@dataclass
class Line:
    """One line of the table: our command against a floor (or anchor) measured in the same run.

    `target` is the ratio floor/ours must reach, as the issue writes it: `at_most` x the floor (ours / floor <=
    at_most) or `faster` x (floor / ours >= faster); `absolute` is a ceiling in seconds with no floor."""

    command: str
    ours: list[float] = field(default_factory=list)
    floor_name: str = ""
    floor: list[float] = field(default_factory=list)
    at_most: float | None = None
    faster: float | None = None
    absolute: float | None = None
    skipped: str = ""

    def verdict(self) -> tuple[str, str, str]:
        """(ratio text, target text, pass/fail/skip)."""
        if self.skipped or not self.ours:
            return "-", self.target_text(), "skip"
        ours = statistics.median(self.ours)
        if self.absolute is not None:
            return "-", self.target_text(), "pass" if ours <= self.absolute else "FAIL"
        if not self.floor:
            return "-", self.target_text(), "skip"
        floor = statistics.median(self.floor)
        if self.at_most is not None:
            ratio = ours / floor
            return f"ours {ratio:.2f}x", self.target_text(), "pass" if ratio <= self.at_most else "FAIL"
        assert self.faster is not None
        ratio = floor / ours
        return f"{ratio:.2f}x faster", self.target_text(), "pass" if ratio >= self.faster else "FAIL"

    def target_text(self) -> str:
        if self.absolute is not None:
            return f"<= {self.absolute:g} s"
        if self.at_most is not None:
            return f"ours <= {self.at_most:g}x"
        return f">= {self.faster:g}x faster"


def seconds(figures: list[float]) -> str:
    if not figures:
        return "-"
    return f"{statistics.median(figures):.3f} s (n={len(figures)})"


def print_table(lines: list[Line]) -> None:
    rows = [("command", "ours (median)", "floor / anchor", "floor (median)", "ratio", "target", "result")]
    for line in lines:
        ratio, target, result = line.verdict()
        rows.append(
            (line.command, seconds(line.ours), line.floor_name or "-", seconds(line.floor), ratio, target, result)
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for index, row in enumerate(rows):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        if index == 0:
            print("  ".join("-" * w for w in widths))
    for line in lines:
        if line.skipped:
            print(f"  skipped: {line.command} vs {line.floor_name}: {line.skipped}")
