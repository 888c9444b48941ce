"""Which Incus container a window's client runs in, from the host's /proc (issue 21's window colours).

A window manager knows the process at the other end of a window's connection: sway's tree gives its pid (for X11
windows Xwayland's X-Resource answer, for Wayland ones the socket's peer), and any X server answers the
X-Resource query for it. That process is either in a container (its cgroup is Incus's `lxc.payload.<project>_
<instance>`) or, when the display reached the container through an Incus proxy device (the `dsp-*` relays), the
relay itself: incusd's `forkproxy -- <pid> <pidfd> <listen> ...`, whose listening side is the container's
first process. Neither can be set by a program in the container, unlike what a window says of itself.
"""

from __future__ import annotations

from pathlib import Path

PAYLOAD = "lxc.payload."


def container_of(pid: int, proc: Path = Path("/proc")) -> tuple[str, str] | None:
    """(project, instance) of the container process `pid` runs in, or relays for; None for anything else."""
    found = _payload(pid, proc)
    if found is not None:
        return found
    try:
        argv = (proc / str(pid) / "cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    if len(argv) < 5 or not argv[0].endswith(b"incusd") or argv[1:3] != [b"forkproxy", b"--"]:
        return None
    # The pidfd's fdinfo names the process in our pid namespace, but only root may read a relay's fds (it drops
    # to security.uid, which makes it undumpable); the pid in its arguments is incusd's, the host's own when
    # Incus runs on this host (not a throwaway daemon in a pid namespace of its own, as in the tests).
    held = _pidfd_target(proc / str(pid) / "fdinfo" / argv[4].decode()) if argv[4].isdigit() else None
    if held is None and argv[3].isdigit():
        held = int(argv[3])
    return _payload(held, proc) if held is not None else None


def _pidfd_target(fdinfo: Path) -> int | None:
    try:
        lines = fdinfo.read_text().splitlines()
    except (OSError, ValueError):
        return None
    held = next((line.split()[1] for line in lines if line.startswith("Pid:") and len(line.split()) > 1), "")
    return int(held) if held.isdigit() else None


def _payload(pid: int, proc: Path) -> tuple[str, str] | None:
    try:
        lines = (proc / str(pid) / "cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        for part in line.split(":", 2)[-1].split("/"):  # v2 `0::/path`, v1 `N:controller:/path`
            if part.startswith(PAYLOAD):
                project, _, instance = part[len(PAYLOAD) :].rpartition("_")
                return (project or "default"), instance
    return None
