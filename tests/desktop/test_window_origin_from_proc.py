"""Which container a window's client runs in or relays for (engine.desktop.window_origin), read off a /proc
laid out as the kernel shows it: a process in a container (its cgroup), incusd's display relay (forkproxy) with
its pidfd readable (root) or not (the session's user: the pid in its arguments), and host processes."""

from __future__ import annotations

from pathlib import Path

from anklume_tui.engine.desktop.window_origin import container_of

RELAY = (
    b"/usr/libexec/incus/incusd\0forkproxy\0--\0%d\x003\0unix:@/tmp/.X11-unix/X0\x007\x004\0unix:/tmp/.X11-unix/X0\0"
)


def process(proc: Path, pid: int, cgroup: str, cmdline: bytes = b"sh\0", fdinfo: dict[str, str] | None = None) -> None:
    folder = proc / str(pid)
    folder.mkdir(parents=True)
    (folder / "cgroup").write_text(cgroup)
    (folder / "cmdline").write_bytes(cmdline)
    for fd, text in (fdinfo or {}).items():
        (folder / "fdinfo").mkdir(exist_ok=True)
        (folder / "fdinfo" / fd).write_text(text)


def test_a_process_in_a_container_is_known_by_its_cgroup_v2_or_v1(tmp_path):
    process(tmp_path, 10, "0::/lxc.payload.work_work-dev/init.scope\n")
    process(tmp_path, 11, "6:freezer:/anklume-incusd-x/lxc.payload.lab_lab-box\n0::/anklume-incusd-x\n")
    process(tmp_path, 12, "0::/lxc.payload.c1\n")
    assert container_of(10, tmp_path) == ("work", "work-dev")
    assert container_of(11, tmp_path) == ("lab", "lab-box")
    assert container_of(12, tmp_path) == ("default", "c1")


def test_the_display_relay_stands_for_the_container_it_listens_in(tmp_path):
    process(tmp_path, 500, "0::/lxc.payload.001-work_001-work-dev\n")  # the container's first process
    process(tmp_path, 900, "0::/system.slice/incus.service\n", RELAY % 57, {"3": "Pid:\t500\nNSpid:\t500\t57\t1\n"})
    assert container_of(900, tmp_path) == ("001-work", "001-work-dev")  # by the pidfd: the pid in our namespace
    process(tmp_path, 57, "0::/lxc.payload.lab_lab-box\n")
    process(tmp_path, 901, "0::/system.slice/incus.service\n", RELAY % 57)  # its fds unreadable to the user
    assert container_of(901, tmp_path) == ("lab", "lab-box")  # by its arguments: incusd's pid, the host's


def test_host_processes_and_what_cannot_be_read_are_no_container(tmp_path):
    process(tmp_path, 20, "0::/user.slice/user-1000.slice\n", b"xterm\0-T\0lxc.payload.work_work-dev\0")
    bogus = b"/usr/libexec/incus/incusd\0forkproxy\0--\0x\0../../20\0unix:@/x\0"
    process(tmp_path, 21, "0::/system.slice/incus.service\n", bogus)
    assert container_of(20, tmp_path) is None
    assert container_of(21, tmp_path) is None
    assert container_of(99, tmp_path) is None
