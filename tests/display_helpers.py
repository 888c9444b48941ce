"""Headless display servers for tests: an X server (Xvfb) and a Wayland compositor (sway, headless backend).

Each is a context manager that starts the server, waits until its socket answers, yields where it listens and
stops it (and removes what it made) on the way out. Xvfb picks a free display number itself (`-displayfd`), so
tests running side by side never collide. sway refuses to run as root, so it runs as `nobody` with its own
XDG_RUNTIME_DIR (0700, owned by nobody; root still reaches the socket), the pixman renderer (no GPU needed)
and no input devices. Installed by CI: `apt-get install xvfb sway` (scripts/install-incus.sh).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.wait_helpers import wait_until

X11_SOCKET_DIR = Path("/tmp/.X11-unix")
NOBODY = 65534
# No Xwayland (not installed, and not wanted: X11 clients go to Xvfb), no bar; a test may add lines.
SWAY_BASE_CONFIG = "xwayland disable\n"


@dataclass
class XServer:
    number: int
    process: subprocess.Popen[bytes]

    @property
    def display(self) -> str:
        """The DISPLAY value, e.g. ':3'."""
        return f":{self.number}"

    @property
    def socket(self) -> Path:
        return X11_SOCKET_DIR / f"X{self.number}"

    def env(self) -> dict[str, str]:
        """The environment for a client run on the host against this server."""
        return {**os.environ, "DISPLAY": self.display}


@dataclass
class WaylandCompositor:
    runtime_dir: Path
    socket_name: str
    process: subprocess.Popen[bytes]
    log: Path
    config: Path
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def socket(self) -> Path:
        return self.runtime_dir / self.socket_name

    @property
    def ipc_socket(self) -> Path | None:
        """sway's IPC socket (for swaymsg: SWAYSOCK), once sway made it."""
        found = sorted(self.runtime_dir.glob("sway-ipc.*.sock"))
        return found[0] if found else None

    def env(self) -> dict[str, str]:
        """The environment for a client run on the host against this compositor (swaymsg included)."""
        env = {**os.environ, "XDG_RUNTIME_DIR": str(self.runtime_dir), "WAYLAND_DISPLAY": self.socket_name}
        ipc = self.ipc_socket
        if ipc is not None:
            env["SWAYSOCK"] = str(ipc)
        env.pop("DISPLAY", None)
        return env


def _answers(path: Path) -> bool:
    if not path.is_socket():
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(str(path))
        except OSError:
            return False
    return True


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def xvfb(size: str = "640x480x24", auth: Path | None = None) -> Iterator[XServer]:
    """A headless X server on a display number it picks; no TCP; access by the local socket only. With `auth`
    (an Xauthority file), only the holders of its cookie get in; -noreset then, or the server would reset (and
    drop the next connection) when its last client leaves."""
    if shutil.which("Xvfb") is None:
        raise RuntimeError("Xvfb missing: apt-get install xvfb (scripts/install-incus.sh installs it)")
    guarded = ["-noreset", "-auth", str(auth)] if auth is not None else []
    read_end, write_end = os.pipe()
    process = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_end), "-nolisten", "tcp", "-screen", "0", size, *guarded],
        pass_fds=(write_end,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    try:
        with os.fdopen(read_end, "rb") as pipe:
            line = pipe.readline().strip()
        if not line:
            raise RuntimeError(f"Xvfb exited ({process.wait(timeout=10)}) before naming its display")
        server = XServer(int(line), process)
        wait_until(lambda: _answers(server.socket), what=f"Xvfb's socket {server.socket}")
        yield server
    finally:
        _stop(process)


@contextmanager
def headless_sway(config: str = "", xwayland: bool = False) -> Iterator[WaylandCompositor]:
    """sway with the headless backend, as `nobody`, in its own runtime folder; `config` is appended to
    SWAY_BASE_CONFIG (with `xwayland`: to `xwayland force`, an Xwayland started at once: xwayland_display()).
    The log is kept in the runtime folder until the end (shown if sway does not start)."""
    if shutil.which("sway") is None:
        raise RuntimeError("sway missing: apt-get install sway (scripts/install-incus.sh installs it)")
    base = Path(tempfile.mkdtemp(prefix="anklume-sway-"))
    runtime = base / "run"
    runtime.mkdir(mode=0o700)
    os.chown(runtime, NOBODY, NOBODY)
    config_path = base / "config"
    config_path.write_text(("xwayland force\n" if xwayland else SWAY_BASE_CONFIG) + config)
    config_path.chmod(0o644)
    base.chmod(0o755)
    log = base / "sway.log"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(runtime),
        "XDG_RUNTIME_DIR": str(runtime),
        "WLR_BACKENDS": "headless",
        "WLR_LIBINPUT_NO_DEVICES": "1",
        "WLR_RENDERER": "pixman",
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "sway", "-c", str(config_path)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=runtime,
        )
    try:

        def ready() -> str | None:
            if process.poll() is not None:
                raise RuntimeError(f"sway exited ({process.returncode}):\n{log.read_text(errors='replace')[-2000:]}")
            for entry in sorted(runtime.glob("wayland-*")):
                if not entry.name.endswith(".lock") and _answers(entry):
                    return entry.name
            return None

        name = wait_until(ready, what=lambda: f"sway's Wayland socket in {runtime}; log: {log.read_text()[-500:]}")
        compositor = WaylandCompositor(runtime, name, process, log, config_path)
        wait_until(lambda: compositor.ipc_socket is not None, what=f"sway's IPC socket in {runtime}")
        yield compositor
    finally:
        _stop(process)
        shutil.rmtree(base, ignore_errors=True)


@dataclass
class I3:
    server: XServer
    ipc_socket: Path
    process: subprocess.Popen[bytes]
    log: Path


@contextmanager
def i3_on(server: XServer, config: str) -> Iterator[I3]:
    """i3 managing X server `server` with `config` (a v4 config: the caller's text after i3's header and an IPC
    socket of its own), until the block ends. i3 runs as root: X servers started by root let it in."""
    if shutil.which("i3") is None:
        raise RuntimeError("i3 missing: apt-get install i3-wm (scripts/install-incus.sh installs it)")
    base = Path(tempfile.mkdtemp(prefix="anklume-i3-"))
    ipc = base / "ipc.sock"
    config_path = base / "config"
    config_path.write_text(f"# i3 config file (v4)\nipc-socket {ipc}\n{config}")
    log = base / "i3.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["i3", "-c", str(config_path)], env=server.env(), stdout=out, stderr=subprocess.STDOUT, cwd=base
        )
    try:

        def ready() -> bool:
            if process.poll() is not None:
                raise RuntimeError(f"i3 exited ({process.returncode}):\n{log.read_text(errors='replace')[-2000:]}")
            return _answers(ipc)

        wait_until(ready, what=lambda: f"i3's IPC socket {ipc}; log: {log.read_text(errors='replace')[-500:]}")
        yield I3(server, ipc, process, log)
    finally:
        _stop(process)
        shutil.rmtree(base, ignore_errors=True)


def xwayland_display(compositor: WaylandCompositor) -> str:
    """The display (':N') of the Xwayland sway started (its config says `xwayland force`), once it listens.
    wlroots double-forks it: it is found by the runtime folder in its environment, not as sway's child."""
    wanted = f"XDG_RUNTIME_DIR={compositor.runtime_dir}".encode()

    def found() -> str | None:
        for proc in Path("/proc").iterdir():
            try:
                argv = (proc / "cmdline").read_bytes().split(b"\0")
                if not argv[0].endswith(b"Xwayland") or wanted not in (proc / "environ").read_bytes().split(b"\0"):
                    continue
            except OSError:
                continue
            display = next((a.decode() for a in argv[1:] if a.startswith(b":")), None)
            if display is not None and _answers(X11_SOCKET_DIR / f"X{display[1:]}"):
                return display
        return None

    return wait_until(found, what=f"sway's Xwayland (log: {compositor.log})")
