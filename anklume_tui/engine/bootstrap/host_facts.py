"""What bootstrap needs to know about the host before it changes anything: the Debian release, whether systemd
runs, whether Incus is installed, the virtualisation the host runs in. Read-only."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..host import paths
from ..host.doctor import DoctorHost

INCUSD_PATHS = ("/usr/libexec/incus/incusd", "/usr/lib/incus/incusd", "/usr/bin/incusd", "/usr/sbin/incusd")


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)


@dataclass(frozen=True)
class Virtualisation:
    vm: str | None  # the hypervisor the host runs under ("kvm", "microsoft"...), None on bare metal
    container: str | None  # the container manager the host runs in ("lxc", "incus"...), None when not in one


@dataclass(frozen=True)
class BootstrapHost(DoctorHost):
    """Where bootstrap looks and writes; tests point the files at a private root (`ANKLUME_HOST_ROOT`)."""

    root: Path = field(default_factory=paths.host_root)
    systemd_running: bool = field(default_factory=lambda: Path("/run/systemd/system").is_dir())
    run: Callable[..., subprocess.CompletedProcess[str]] = _run
    virtualisation: Virtualisation | None = None  # None: detected (systemd-detect-virt, the CPU flags)

    @property
    def os_release(self) -> Path:
        return self.root / "etc/os-release"

    @property
    def apt_sources(self) -> Path:
        return self.root / "etc/apt/sources.list.d"

    @property
    def modules_load(self) -> Path:
        return self.root / "etc/modules-load.d/br_netfilter.conf"

    @property
    def live_root(self) -> bool:
        """Whether the files written are this running system's: only then are modules loaded and services
        started (a private root is a folder, not a system)."""
        return self.root.resolve() == Path("/")


def os_release(host: BootstrapHost) -> dict[str, str]:
    try:
        text = host.os_release.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return {}
    found = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            found[key.strip()] = value.strip().strip('"')
    return found


def incusd_installed(host: BootstrapHost) -> str | None:
    if found := host.which("incusd"):
        return found
    if host.which is not shutil.which:  # told where to look (tests): only there
        return None
    return next((p for p in INCUSD_PATHS if os.access(p, os.X_OK)), None)


def _detect(host: BootstrapHost, flag: str) -> str | None:
    if host.which("systemd-detect-virt") is None:
        return None
    try:
        done = host.run("systemd-detect-virt", flag)
    except (OSError, subprocess.TimeoutExpired):
        return None
    answer = done.stdout.strip()
    return answer if done.returncode == 0 and answer and answer != "none" else None


def virtualisation(host: BootstrapHost) -> Virtualisation:
    vm = _detect(host, "--vm")
    if vm is None and host.which("systemd-detect-virt") is None:
        try:  # the CPU's `hypervisor` flag: set under any hypervisor
            flags = next((ln for ln in Path("/proc/cpuinfo").read_text().splitlines() if ln.startswith("flags")), "")
        except OSError:
            flags = ""
        vm = "unknown hypervisor" if " hypervisor" in flags else None
    container = _detect(host, "--container")
    if container is None and (Path("/dev/incus").exists() or Path("/dev/lxd").exists()):
        container = "incus"
    return Virtualisation(vm=vm, container=container)
