"""A throwaway real Incus daemon for the engine tests (images: tests/image_helpers.py).

The daemon gets its own INCUS_DIR (a temp directory) and runs inside fresh mount, network and PID
namespaces (`unshare`): containers, bridges and nft rules stay in a network namespace with only `lo`
and what the tests create, and killing the namespace's first process takes every leftover with it.
The user's own daemon (/var/lib/incus) is never contacted: every CLI call sets INCUS_DIR explicitly.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import httpx

from tests.image_helpers import ImageFiles, build_busybox_image
from tests.incus_exec_helpers import exec_request, recorded_exec
from tests.incusd_host_helpers import (
    DIR_PREFIX,
    alive,
    enter_namespaces_setup,
    make_cgroups,
    own_cgroup_dirs,
    parent_of,
    remove_cgroups,
)
from tests.wait_helpers import wait_until

T = TypeVar("T")
CLONE_NEWNET = 0x40000000

INCUSD = shutil.which("incusd") or "/usr/libexec/incus/incusd"
INCUS = shutil.which("incus") or "/usr/bin/incus"
UNSHARE = ["unshare", "--mount", "--net", "--pid", "--mount-proc", "--fork", "--kill-child"]

PRESEED = """\
storage_pools:
- name: default
  driver: dir
profiles:
- name: default
  devices:
    root:
      type: disk
      path: /
      pool: default
"""

# PID 1 of the namespaces: brings lo up, mounts a sysfs that shows this network namespace's links
# (keeping the cgroup mounts), runs incusd and reaps whatever gets orphaned to it. When incusd exits,
# this shell exits and the kernel kills everything left in the PID namespace.
NAMESPACE_SETUP = """\
set -e
ip link set lo up
mkdir -p "$1"
mount --rbind /sys/fs/cgroup "$1"
mount -t sysfs sysfs /sys
mount --move "$1" /sys/fs/cgroup
"""
NAMESPACE_INIT = (
    NAMESPACE_SETUP
    + """\
set +e
"$0" --group root &
wait
"""
)


def incus_installed() -> bool:
    return os.access(INCUSD, os.X_OK) and os.access(INCUS, os.X_OK) and shutil.which("unshare") is not None


SHM = Path("/dev/shm")
SHM_FREE = 4 << 30


def daemon_base() -> Path:
    """Where throwaway daemons live: /dev/shm (tmpfs) when it has room, else the temp dir. Nothing of a
    throwaway daemon needs to survive it, and on a disk with slow syncs every Incus database write and
    image unpack waits on the disk, which makes timings swing run to run."""
    try:
        room = os.statvfs(SHM)
    except OSError:
        return Path(tempfile.gettempdir())
    return SHM if room.f_bavail * room.f_frsize >= SHM_FREE else Path(tempfile.gettempdir())


def sweep_stale_dirs() -> None:
    """Remove directories left by earlier runs whose daemon no longer exists."""
    for path in [*SHM.glob(f"{DIR_PREFIX}*"), *Path(tempfile.gettempdir()).glob(f"{DIR_PREFIX}*")]:
        try:
            pid = int((path / "unshare.pid").read_text())
        except (OSError, ValueError):
            pid = 0
        if pid and alive(pid):
            continue
        if time.time() - path.stat().st_mtime > 60 or pid:
            with contextlib.suppress(OSError):
                remove_cgroups([d / path.name for d in own_cgroup_dirs() if (d / path.name).exists()])
            shutil.rmtree(path, ignore_errors=True)


@dataclass
class ThrowawayIncus:
    """One private incusd; start() it, stop() it; never the user's daemon."""

    namespace_init: ClassVar[str] = NAMESPACE_INIT
    dir: Path = field(init=False)
    timings: dict[str, float] = field(default_factory=dict)
    _proc: subprocess.Popen | None = field(default=None, init=False)
    _images: dict[tuple[str, str, str], str] = field(default_factory=dict, init=False)
    _ns_pid: int = field(default=0, init=False)
    _cgroups: list[Path] = field(default_factory=list, init=False)

    @property
    def incus_dir(self) -> Path:
        return self.dir / "incus"

    @property
    def socket_path(self) -> str:
        return str(self.incus_dir / "unix.socket")

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}"

    @property
    def env(self) -> dict[str, str]:
        return {
            "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
            "HOME": str(self.dir),
            "INCUS_DIR": str(self.incus_dir),
            "INCUS_CONF": str(self.dir / "client"),
            "LANG": "C.UTF-8",
        }

    @property
    def pid(self) -> int:
        """Host PID of the namespaces' first process (for nsenter and /proc/<pid>/ns/net)."""
        if self._ns_pid:
            return self._ns_pid
        assert self._proc is not None, "daemon not started"
        children = Path(f"/proc/{self._proc.pid}/task/{self._proc.pid}/children")

        def first_child() -> list[str]:
            with contextlib.suppress(OSError):
                return children.read_text().split()
            return []

        self._ns_pid = int(wait_until(first_child, 5, "the namespace's first process", 0.01)[0])
        return self._ns_pid

    @property
    def daemon_pid(self) -> int:
        """Host PID of incusd itself (a child of the namespace's first process)."""
        children = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()
        for pid in children:
            with contextlib.suppress(OSError):
                if Path(f"/proc/{pid}/comm").read_text().strip() == "incusd":
                    return int(pid)
        raise RuntimeError("incusd is not running")

    def start(self, *, with_busybox: bool = True, base: Path | None = None, initialise: bool = True) -> ThrowawayIncus:
        """Start the daemon in a new directory under `base` (default: `daemon_base()`); `initialise=False` leaves
        it as a plain package install does: no storage pool, no root disk (and so no image either)."""
        sweep_stale_dirs()
        t0 = time.monotonic()
        self.dir = Path(tempfile.mkdtemp(prefix=DIR_PREFIX, dir=base or daemon_base()))
        self.dir.chmod(0o711)  # containers' root (a mapped uid) must traverse it
        self.incus_dir.mkdir()
        self._cgroups = make_cgroups(self.dir.name)
        log = open(self.dir / "incusd.log", "wb")  # noqa: SIM115 - handed to the daemon
        self._proc = subprocess.Popen(
            [*UNSHARE, "sh", "-c", self.namespace_init, INCUSD, str(self.dir / "cgroup-hold")],
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=enter_namespaces_setup(self._cgroups),
        )
        log.close()
        (self.dir / "unshare.pid").write_text(str(self._proc.pid))
        try:
            self.incus("admin", "waitready", "--timeout=30")
            self.timings["daemon_ready"] = time.monotonic() - t0
            assert self.pid
            if not initialise:
                self.timings["start_total"] = time.monotonic() - t0
                return self
            self.incus("admin", "init", "--preseed", input=PRESEED)
            self.timings["preseed"] = time.monotonic() - t0 - self.timings["daemon_ready"]
            if with_busybox:
                t1 = time.monotonic()
                self.import_image("default", "busybox")
                self.timings["busybox_import"] = time.monotonic() - t1
        except BaseException:
            self.stop()
            raise
        self.timings["start_total"] = time.monotonic() - t0
        return self

    def log_tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join((self.dir / "incusd.log").read_text(errors="replace").splitlines()[-lines:])
        return ""

    def incus(
        self, *args: str, check: bool = True, input: str | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """Run the incus CLI against this daemon only (`exec … -- CMD` through recorded output: see
        tests/incus_exec_helpers.py for why)."""
        request = exec_request(args) if input is None else None
        if request is not None:
            result = recorded_exec(self.socket_path, [INCUS, *args], *request, timeout=timeout)
        else:
            result = subprocess.run(
                [INCUS, *args], env=self.env, input=input, capture_output=True, text=True, timeout=timeout
            )
        if check and result.returncode != 0:
            raise RuntimeError(
                f"incus {' '.join(args)} failed ({result.returncode}): {result.stderr.strip()}\n"
                f"--- incusd log ---\n{self.log_tail()}"
            )
        return result

    def incus_json(self, *args: str) -> object:
        return json.loads(self.incus(*args, "--format=json").stdout)

    @contextlib.contextmanager
    def nft_inside(self, persist_dir: Path) -> Iterator[None]:
        """While open, the isolation ruleset apply loads goes into this daemon's network namespace (where its
        bridges are), and its copies into `persist_dir`: never the host's nftables, /etc or the user's state."""
        wanted = {
            "ANKLUME_NFT_NETNS": f"/proc/{self.pid}/ns/net",
            "ANKLUME_NFT_PERSIST_DIR": str(persist_dir),
            "XDG_STATE_HOME": str(persist_dir),
        }
        saved = {key: os.environ.get(key) for key in wanted}
        os.environ.update(wanted)
        try:
            yield
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

    def nsenter(self, *cmd: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Run a host command inside the daemon's private network namespace."""
        return subprocess.run(
            ["nsenter", f"--net=/proc/{self.pid}/ns/net", "--", *cmd],
            capture_output=True,
            text=True,
            check=check,
            timeout=timeout,
        )

    def in_netns(self, fn: Callable[[], T]) -> T:
        """Call fn in a thread that joined the daemon's network namespace: its sockets reach the
        daemon's loopback (e.g. core.https_address=127.0.0.1:8443) and nothing outside."""
        outcome: dict[str, Any] = {}

        def run() -> None:
            fd = os.open(f"/proc/{self.pid}/ns/net", os.O_RDONLY)
            try:
                libc = ctypes.CDLL(None, use_errno=True)
                if libc.setns(fd, CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), "setns into the daemon's network namespace failed")
                outcome["value"] = fn()
            except BaseException as exc:  # handed back to the caller's thread
                outcome["error"] = exc
            finally:
                os.close(fd)

        thread = threading.Thread(target=run, name="incusd-netns")
        thread.start()
        thread.join()
        if "error" in outcome:
            raise outcome["error"]
        return outcome["value"]

    def enable_https(self, port: int = 8443) -> dict[str, str]:
        """Listen on the namespace's 127.0.0.1:port (reach it through in_netns) and trust a client
        certificate; returns url, cert, key and server_cert (the certificate to pin). Returns once the
        listener, which Incus starts shortly after the config change, accepts connections."""
        self.incus("config", "set", "core.https_address", f"127.0.0.1:{port}")

        def accepting() -> bool:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
            return False

        wait_until(lambda: self.in_netns(accepting), 10, f"Incus's HTTPS listener on 127.0.0.1:{port}", 0.1)
        conf = self.dir / "client"
        if not (conf / "client.crt").exists():
            self.incus("remote", "generate-certificate")
        self.incus("config", "trust", "add-certificate", str(conf / "client.crt"))
        return {
            "url": f"https://127.0.0.1:{port}",
            "cert": str(conf / "client.crt"),
            "key": str(conf / "client.key"),
            "server_cert": str(self.incus_dir / "server.crt"),
        }

    def import_image(self, project: str = "default", alias: str = "busybox", image: ImageFiles | None = None) -> str:
        """Import a local image into a project's image store (each features.images project has its own)."""
        image = image or build_busybox_image()
        key = (project, alias, image.name)
        if key in self._images:
            return self._images[key]
        # the same image already here under another alias (another test file's name for it, on this session's
        # daemon): Incus refuses a second import of one fingerprint, so the alias is added to it
        same = next((fp for (p, _, name), fp in self._images.items() if p == project and name == image.name), None)
        if same is not None:
            self.incus("image", "alias", "create", alias, same, f"--project={project}")
            self._images[key] = same
            return same
        self.incus(
            "image", "import", str(image.meta), str(image.rootfs), f"--project={project}", f"--alias={alias}", "--quiet"
        )
        found = self.incus_json("image", "alias", "list", f"--project={project}", alias)
        fingerprint = next(a["target"] for a in found if a["name"] == alias)
        self._images[key] = fingerprint
        return fingerprint

    def forget_images(self, project: str) -> None:
        self._images = {k: v for k, v in self._images.items() if k[0] != project}

    def query(self, path: str) -> Any:
        """GET one API path straight over the socket (plain httpx: independent of the client under test)."""
        transport = httpx.HTTPTransport(uds=self.socket_path)
        with httpx.Client(transport=transport, base_url="http://incus", timeout=60) as http:
            response = http.get(path)
            response.raise_for_status()
            return response.json()["metadata"]

    def reset(self, keep_images: bool = True) -> None:
        """Back to the state right after start(): only the default project, profile and pool, and
        (unless keep_images is false) the default project's images; everything else is deleted."""
        for inst in self.query("/1.0/instances?recursion=1&all-projects=true"):
            where = f"--project={inst['project']}"
            if inst["config"].get("security.protection.delete") == "true":
                self.incus("config", "unset", inst["name"], "security.protection.delete", where)
            self.incus("delete", "--force", inst["name"], where)
        projects = self.query("/1.0/projects?recursion=1")
        for project in sorted(projects, key=lambda p: p["name"] == "default"):
            self._reset_project(project["name"], project.get("config") or {}, keep_images)
        if self.query("/1.0")["config"].get("core.https_address"):
            self.incus("config", "unset", "core.https_address")
        for cert in self.query("/1.0/certificates?recursion=1"):
            self.incus("config", "trust", "remove", cert["fingerprint"])
        # Projects deleted by the code under test (flush, restore...) took their images along unseen.
        self._images = {k: v for k, v in self._images.items() if k[0] == "default" and keep_images}

    def _reset_project(self, project: str, config: dict[str, str], keep_images: bool) -> None:
        where, query = f"--project={project}", f"project={project}&recursion=1"
        for vol in self.query(f"/1.0/storage-pools/default/volumes/custom?{query}"):
            self.incus("storage", "volume", "delete", "default", vol["name"], where)
        own_profiles = project == "default" or config.get("features.profiles") == "true"
        for profile in self.query(f"/1.0/profiles?{query}") if own_profiles else ():
            if profile["name"] != "default":
                self.incus("profile", "delete", profile["name"], where)
            elif project == "default" and (profile["config"] or profile["devices"] != DEFAULT_DEVICES):
                self.incus("profile", "edit", "default", where, input=PRESEED_DEFAULT_PROFILE)
            elif project != "default" and (profile["config"] or profile["devices"]):
                self.incus("profile", "edit", "default", where, input="config: {}\ndevices: {}\n")
        # A project without its own image store (features.images=false) lists default's images.
        own_images = project == "default" or config.get("features.images") == "true"
        if own_images and (project != "default" or not keep_images):
            for img in self.query(f"/1.0/images?{query}"):
                self.incus("image", "delete", img["fingerprint"], where)
            self.forget_images(project)
        if project == "default" or config.get("features.networks") == "true":
            for net in self.query(f"/1.0/networks?{query}"):
                if net.get("managed"):
                    self.incus("network", "delete", net["name"], where)
        if project != "default":
            self.incus("project", "delete", project)

    def stop(self, graceful: bool = True) -> None:
        """Delete what remains, shut the daemon down, kill leftovers, remove every file (graceful=False: only
        kill, as for a cluster member, whose reset and shutdown would wait on the other members)."""
        if self._proc is not None:
            if graceful and self._proc.poll() is None:
                with contextlib.suppress(Exception):
                    if self.incus("admin", "waitready", "--timeout=2", check=False).returncode == 0:
                        self.reset(keep_images=False)
                        self.incus("admin", "shutdown", "--timeout=30", check=False, timeout=40)
            if self._ns_pid and parent_of(self._ns_pid) == self._proc.pid:
                # Killing PID 1 of the PID namespace kills every process left inside (containers too).
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self._ns_pid, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError):
                self._proc.kill()
            self._proc.wait(timeout=30)
            self._proc = None
            self._ns_pid = 0
        remove_cgroups(self._cgroups)
        if hasattr(self, "dir"):
            shutil.rmtree(self.dir, ignore_errors=True)


DEFAULT_DEVICES = {"root": {"type": "disk", "path": "/", "pool": "default"}}
PRESEED_DEFAULT_PROFILE = """\
config: {}
description: Default Incus profile
devices:
  root:
    type: disk
    path: /
    pool: default
"""
