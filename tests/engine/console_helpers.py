"""A tmux server of the test's own (`tmux -L <unique>`, no user config), never the user's, and a small
two-domain setup on the throwaway Incus for the console tests."""

from __future__ import annotations

import contextlib
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import libtmux

from anklume_tui.engine.console.tmux import kill_console
from tests.engine.incus_helpers import make_domain, make_instance
from tests.incusd_helpers import ThrowawayIncus

INFRA = """\
project_name: console-test
global:
  base_subnet: "10.130"
domains:
  work:
    subnet_id: 1
    trust_level: trusted
    machines:
      work-b:
        ip: 10.130.1.12
        os_image: busybox
      work-a:
        ip: 10.130.1.11
        os_image: busybox
  lab:
    subnet_id: 0
    trust_level: untrusted
    machines:
      lab-box:
        ip: 10.130.0.11
        os_image: busybox
  empty:
    subnet_id: 2
  old:
    enabled: false
    subnet_id: 3
    machines:
      old-box: {}
"""


def make_console_setup(incusd: ThrowawayIncus, tmp_path: Path) -> Path:
    """Projects `lab` (untrusted: lab-box running) and `work` (trusted: work-a running, work-b stopped)."""
    make_domain(incusd, "lab", "net-lab", "10.130.0")
    make_domain(incusd, "work", "net-work", "10.130.1")
    make_instance(incusd, "lab", "lab-box", ip="10.130.0.11", running=True, protected=False)
    make_instance(incusd, "work", "work-a", ip="10.130.1.11", running=True, protected=False)
    make_instance(incusd, "work", "work-b", ip="10.130.1.12", protected=False)
    path = tmp_path / "infra.yml"
    path.write_text(INFRA)
    return path


def tmux_env(incusd: ThrowawayIncus) -> dict[str, str]:
    """The daemon's client settings, but INCUS_DIR pointing nowhere: panes reach the throwaway daemon only
    through the environment the console gives them (and never the host's /var/lib/incus)."""
    return {**incusd.env, "INCUS_DIR": str(incusd.dir / "not-a-daemon"), "TERM": "screen-256color"}


@contextlib.contextmanager
def private_tmux(env: dict[str, str]) -> Iterator[libtmux.Server]:
    """A tmux server on a unique socket, started with `env` and no config file; killed with every pane process."""
    name = f"anklume-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    subprocess.run(
        ["tmux", "-L", name, "-f", "/dev/null", "new-session", "-d", "-s", "keepalive", "-x", "160", "-y", "50"],
        env=env,
        check=True,
    )
    server = libtmux.Server(socket_name=name)
    socket = tmux(server, "display-message", "-p", "-t", "keepalive", "#{socket_path}")[0]
    try:
        yield server
    finally:
        with contextlib.suppress(Exception):
            for session in list(server.sessions):
                kill_console(server, session.session_name, grace=0.5)
        subprocess.run(["tmux", "-L", name, "kill-server"], capture_output=True, check=False)
        Path(socket).unlink(missing_ok=True)


def tmux(server: libtmux.Server, *args: str) -> list[str]:
    result = server.cmd(*args)
    assert not result.stderr, result.stderr
    return result.stdout


def pane_text(server: libtmux.Server, target: str, *, escapes: bool = False) -> str:
    return "\n".join(tmux(server, "capture-pane", "-p", *(["-e"] if escapes else []), "-t", target))


def exec_clients(socket: str) -> list[int]:
    """PIDs of `incus exec` clients on this host talking to the daemon at `socket` (read from /proc, as `ps`
    does; other tests' clients on other daemons are not counted)."""
    found = []
    wanted = f"INCUS_SOCKET={socket}".encode()
    for proc in Path("/proc").glob("[0-9]*"):
        with contextlib.suppress(OSError):
            argv = (proc / "cmdline").read_bytes().split(b"\0")
            is_exec = len(argv) > 2 and argv[0].endswith(b"incus") and argv[1] == b"exec"
            if is_exec and wanted in (proc / "environ").read_bytes().split(b"\0"):
                found.append(int(proc.name))
    return found
