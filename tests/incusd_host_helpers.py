"""Host-side plumbing of the throwaway Incus: a cgroup subtree of its own, and process checks."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
from collections.abc import Callable
from pathlib import Path

from tests.wait_helpers import wait_until

DIR_PREFIX = "anklume-incusd-"


def own_cgroup_dirs() -> list[Path]:
    """This process's cgroup directory in every mounted hierarchy (v1 controllers and v2)."""
    mounts = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        left, _, right = line.partition(" - ")
        fields, (fstype, _source, options) = left.split(), right.split()[:3]
        if fstype in ("cgroup", "cgroup2"):
            mounts.append((fields[3], fields[4], fstype, set(options.split(","))))
    dirs = []
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for root, point, fstype, options in mounts:
            fits = (
                fstype == "cgroup2"
                if not controllers
                else (fstype == "cgroup" and set(controllers.split(",")) <= options)
            )
            if fits and (path + "/").startswith(root.rstrip("/") + "/"):
                dirs.append(Path(point) / os.path.relpath(path, root))
                break
    return dirs


def make_cgroups(name: str) -> list[Path]:
    """A child cgroup of ours in each hierarchy: LXC then nests the daemon's containers under it,
    so their cgroups never collide with another daemon's and are removed with it."""
    made: list[Path] = []
    try:
        for parent in own_cgroup_dirs():
            child = parent / name
            child.mkdir()
            made.append(child)
            for knob in ("cpuset.cpus", "cpuset.mems"):
                if (parent / knob).exists():
                    (child / knob).write_text((parent / knob).read_text())
    except OSError:
        remove_cgroups(made)
        return []
    return made


def remove_cgroups(dirs: list[Path]) -> None:
    """Kill whatever is left in these cgroup trees, then remove them, deepest first (best effort: a cleanup
    gives up after a few seconds rather than failing the run)."""
    for top in dirs:
        if not top.name.startswith(DIR_PREFIX):  # never a cgroup this harness did not create
            continue

        def removed(top: Path = top) -> bool:
            for dirpath, _dirs, _files in os.walk(top, topdown=False):
                with contextlib.suppress(OSError, ValueError):
                    for pid in (Path(dirpath) / "cgroup.procs").read_text().split():
                        with contextlib.suppress(ProcessLookupError):
                            os.kill(int(pid), signal.SIGKILL)
                with contextlib.suppress(OSError):
                    os.rmdir(dirpath)
            return not top.exists()

        with contextlib.suppress(AssertionError):
            wait_until(removed, 2.5, f"cgroup {top} to empty and go", 0.05)


def enter_namespaces_setup(cgroups: list[Path]) -> Callable[[], None]:
    def setup() -> None:
        """In the forked unshare: join our cgroups; die (so the namespaces die) if the test process dies."""
        for cgroup in cgroups:
            (cgroup / "cgroup.procs").write_text(str(os.getpid()))
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG

    return setup


def parent_of(pid: int) -> int:
    """The parent PID of a live process, 0 when it is gone (guards against a recycled PID)."""
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return 0


def alive(pid: int) -> bool:
    """Whether a process exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")
