"""Process start to the first machine row on a real terminal: the program runs in a tmux pane and the screen is
polled (`capture-pane`) until the row's text shows. A private tmux server (its own socket) is started first and
kept for the runs, so each run measures the program, not the tmux server's start.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

SIZE = (160, 50)


class Tmux:
    """A tmux server of our own (socket name unique to this process), killed when done."""

    def __init__(self) -> None:
        self.socket = f"anklume-bench-{os.getpid()}"

    def __call__(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=check)

    def screen(self, session: str) -> str:
        return self("capture-pane", "-p", "-t", session, check=False).stdout


@contextlib.contextmanager
def tmux_server() -> Iterator[Tmux]:
    tmux = Tmux()
    tmux("-f", "/dev/null", "new-session", "-d", "-s", "keep", "-x", str(SIZE[0]), "-y", str(SIZE[1]), "sleep 3600")
    try:
        yield tmux
    finally:
        tmux("kill-server", check=False)


def first_row_seconds(tmux: Tmux, cmd: list[str], env: dict[str, str], marker: str, timeout: float = 60) -> float:
    """Seconds from asking tmux to start `cmd` in a new session to `marker` showing on its screen."""
    session = f"run{time.monotonic_ns()}"
    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in sorted(env.items()))
    line = f'exec env -i TERM="$TERM" {exports} {shlex.join(cmd)}'
    t0 = time.perf_counter()
    tmux("new-session", "-d", "-s", session, "-x", str(SIZE[0]), "-y", str(SIZE[1]), line)
    try:
        while marker not in tmux.screen(session):
            if time.perf_counter() - t0 > timeout:
                raise TimeoutError(f"{marker!r} not on screen after {timeout} s:\n{tmux.screen(session)}")
            time.sleep(0.002)
        return time.perf_counter() - t0
    finally:
        tmux("kill-session", "-t", session, check=False)


def minimal_app_command(python: str) -> list[str]:
    return [python, str(Path(__file__).resolve().parent / "minimal_textual_table.py")]
