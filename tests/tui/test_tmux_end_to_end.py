"""One end-to-end run of the installed program in a real terminal (a private tmux server): it starts on a
small infra against the throwaway daemon, the keyboard moves and acts, the screen is read back with
capture-pane, Incus is checked on its own, and `q` ends the process."""

from __future__ import annotations

import os
import re
import shlex
import sys
from collections.abc import Callable
from pathlib import Path

import libtmux
import pytest

from tests.tui.test_live_domains import infra, real_status  # noqa: F401 - `infra` is a fixture
from tests.wait_helpers import wait_until

pytestmark = pytest.mark.incus
CONSOLE_SCRIPT = Path(sys.executable).with_name("anklume-tui")


def table_row(text: str, name: str) -> list[str]:
    """The cells of a machine's row (the table is left of the detail pane's border). Cells stand two spaces
    apart at least; one cell may hold a single space (`10.110.0.1 (declared)`, `not created`)."""
    for line in text.splitlines():
        cells = re.split(r"\s{2,}", line.split("│")[0].strip())
        if cells[:1] == [name]:
            return cells
    return []


def detail_title(text: str) -> str:
    lines = text.splitlines()
    return lines[1].split("│")[-1].strip() if len(lines) > 1 else ""


def test_start_navigate_act_and_quit_in_a_real_tmux(incusd, infra, tmp_path):  # noqa: F811
    assert CONSOLE_SCRIPT.exists(), f"the console script is not installed next to {sys.executable}"
    incusd.incus("init", "busybox", "work-a", "--project", "work")
    env = {
        "ANKLUME_INCUS": incusd.url,
        "ANKLUME_SKIP_HOST_SUBNET_CHECK": "1",
        "ANKLUME_CONTEXT_DIR": str(tmp_path / "ctx"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }
    # COLUMNS and LINES out: a stale pair inherited by the tmux server would override the pane's real size.
    settings = ["-u", "COLUMNS", "-u", "LINES", *(f"{k}={v}" for k, v in env.items())]
    program = shlex.join(["env", *settings, str(CONSOLE_SCRIPT), "--infra", str(infra)])
    # A shell runs the program, then says how it ended and stays (`cat`): a pane whose last process ends can
    # lose its last output, and tmux may leave its own child unreaped for a while.
    command = shlex.join(["sh", "-c", f'{program}; echo "anklume-tui exited with status $?"; exec cat'])
    name = f"anklume-e2e-{os.getpid()}-{tmp_path.name}"
    socket = Path(os.environ.get("TMUX_TMPDIR") or "/tmp") / f"tmux-{os.getuid()}" / name
    server = libtmux.Server(socket_name=name, config_file=os.devnull)
    try:
        pane = server.new_session(session_name="e2e", window_command=command, x=150, y=40).active_window.active_pane
        assert socket.is_socket()
        shell = int(pane.pane_pid)

        def screen() -> str:
            return "\n".join(pane.capture_pane())

        def on_screen(what: str) -> Callable[[], str]:
            return lambda: f"{what}; the screen:\n{screen()}"

        wait_until(lambda: table_row(screen(), "work-a")[4:5] == ["Stopped"], 20, on_screen("work-a stopped"))
        (pid,) = map(int, Path(f"/proc/{shell}/task/{shell}/children").read_text().split())
        assert str(CONSOLE_SCRIPT).encode() in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        assert table_row(screen(), "work-b")[4] == "missing"
        assert detail_title(screen()).startswith("● work")
        for key, selected in (("j", "work-a"), ("j", "work-b"), ("k", "work-a")):
            pane.send_keys(key, enter=False)
            selects = on_screen(f"{key} selects {selected}")
            wait_until(lambda s=selected: detail_title(screen()).startswith(f"{s} "), 20, selects)
        pane.send_keys("s", enter=False)
        # The events turn the row Running, the start worker then writes its line: wait for both.
        wait_until(lambda: table_row(screen(), "work-a")[4:5] == ["Running"], 20, on_screen("work-a running"))
        wait_until(lambda: "start work-a: done" in screen(), 20, on_screen("start work-a: done"))
        assert real_status(incusd, "work-a", "work") == "Running"
        pane.send_keys("q", enter=False)
        wait_until(lambda: "anklume-tui exited with status" in screen(), 10, on_screen("the program ended"))
        assert "anklume-tui exited with status 0" in screen()
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)  # ended and reaped by the shell
        assert "Traceback" not in screen()
    finally:
        server.kill()
        socket.unlink(missing_ok=True)  # kill-server leaves it behind
