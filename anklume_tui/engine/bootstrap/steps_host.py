"""Bootstrap's host steps: packages (Incus, nftables, tmux), the root id ranges, br_netfilter, the context
files, the isolation ruleset's boot loading. Each only adds what is missing; nothing existing is changed."""

from __future__ import annotations

import asyncio
import shlex
import subprocess
from pathlib import Path

from ...errors import Failed
from ...psot.generate import write_atomic
from ..host.doctor import IDMAP_MINIMUM, INOTIFY, KEYS, _root_range, sysctl_value
from ..isolation.boot import BootFiles, boot_state, persist_for_boot
from ..isolation.render import empty_host_ruleset
from .host_facts import BootstrapHost, incusd_installed, os_release, virtualisation
from .step import Step, done, todo

ID_RANGE = "root:1000000:1000000000"
# What the containers' systemd needs once a few dozen run (Incus's production guide); Debian's 128 instances
# stop containers at start with "Too many open files".
BACKPORTS = "bookworm-backports"
DEFAULT_MIRROR = "http://deb.debian.org/debian"


async def _run(host: BootstrapHost, command: list[str]) -> None:
    try:
        finished = await asyncio.to_thread(host.run, *command)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise Failed(f"`{shlex.join(command)}` failed: {exc}") from exc
    if finished.returncode != 0:
        last = (finished.stderr or finished.stdout).strip().splitlines()[-1:] or [f"exit code {finished.returncode}"]
        raise Failed(f"`{shlex.join(command)}` failed: {last[0]}")


def _has_backports(host: BootstrapHost) -> bool:
    candidates = [host.root / "etc/apt/sources.list", *sorted(host.apt_sources.glob("*"))]
    for path in candidates:
        try:
            if BACKPORTS in path.read_text(encoding="utf-8", errors="replace"):
                return True
        except OSError:
            continue
    return False


def _mirror(host: BootstrapHost) -> str:
    try:
        text = (host.apt_sources / "debian.sources").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return DEFAULT_MIRROR
    for line in text.splitlines():
        if line.startswith("URIs:") and line.split()[1:]:
            return line.split()[1]
    return DEFAULT_MIRROR


def _backports_source(mirror: str) -> str:
    return (
        f"Types: deb\nURIs: {mirror}\nSuites: {BACKPORTS}\nComponents: main\n"
        "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"
    )


def packages_step(host: BootstrapHost) -> Step:
    """Incus (from bookworm-backports on Debian 12, from the archive on Debian 13), nftables, tmux."""
    missing_tools = [pkg for tool, pkg in (("nft", "nftables"), ("tmux", "tmux")) if host.which(tool) is None]
    incusd = incusd_installed(host)
    if incusd and not missing_tools:
        return done("packages", f"Incus ({incusd}), nftables and tmux are installed")
    release = os_release(host)
    codename = release.get("VERSION_CODENAME", "")
    if release.get("ID") != "debian" or codename not in ("bookworm", "trixie"):
        what = ", ".join((["incus"] if not incusd else []) + missing_tools)
        return Step(
            "packages",
            "manual",
            f"install {what} yourself: bootstrap installs packages on Debian 12 and 13 only "
            f"(this host: {release.get('PRETTY_NAME', 'unknown')})",
        )
    plan: list[list[str]] = [["apt-get", "update"]]
    source = None
    if not incusd and codename == "bookworm" and not _has_backports(host):
        source = host.apt_sources / "anklume-backports.sources"
    install = ["apt-get", "install", "-y", *missing_tools]
    if not incusd:
        install += ["-t", BACKPORTS, "incus"] if codename == "bookworm" else ["incus"]
    plan.append(install)
    shown = "; ".join(shlex.join(c) for c in plan)
    if source:
        shown = f"write {source} ({BACKPORTS}); {shown}"

    async def install_them() -> str:
        if source:
            write_atomic(source, _backports_source(_mirror(host)), mode=0o644)
        for command in plan:
            await _run(host, ["env", "DEBIAN_FRONTEND=noninteractive", *command])
        return f"installed: {' '.join(c for c in install[3:] if c not in ('-t', BACKPORTS))}"

    wanted = ("Incus" if not incusd else "") + (", " if not incusd and missing_tools else "") + ", ".join(missing_tools)
    return todo("packages", f"install {wanted}", shown, install_them)


def idmap_step(host: BootstrapHost, path: Path) -> Step:
    check = path.name
    try:
        count = _root_range(path)
    except (OSError, UnicodeDecodeError) as exc:
        return Step(check, "manual", f"{path} unreadable ({exc}): fix its permissions, then run bootstrap again")
    if count is not None and count >= IDMAP_MINIMUM:
        return done(check, f"{path}: root has {count} ids")
    if count:  # a small range of the user's own: not changed, said
        return Step(check, "left", f"{path}: root has only {count} ids; left as it is (raise it to {IDMAP_MINIMUM}+)")

    async def append() -> str:
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        separator = "" if not text or text.endswith("\n") else "\n"
        write_atomic(path, f"{text}{separator}{ID_RANGE}\n", mode=0o644)
        return f"{path}: {ID_RANGE} added (Incus reads it when it starts)"

    return todo(check, f"{path}: give root {ID_RANGE.split(':', 2)[2]} ids", f"append '{ID_RANGE}' to {path}", append)


def br_netfilter_step(host: BootstrapHost) -> Step:
    loaded = (host.modules / "br_netfilter").is_dir() or not host.live_root  # a private root: files only
    persisted = host.modules_load.is_file()
    if loaded and persisted:
        return done("br_netfilter", f"br_netfilter loaded and loaded at boot ({host.modules_load})")

    async def load() -> str:
        said = []
        if not persisted:
            host.modules_load.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
            write_atomic(host.modules_load, "br_netfilter\n", mode=0o644)
            said.append(f"{host.modules_load} written")
        if not loaded and host.live_root:
            await _run(host, ["modprobe", "br_netfilter"])
            said.append("module loaded")
        return "br_netfilter: " + ", ".join(said)

    command = "; ".join(
        ([f"echo br_netfilter > {host.modules_load}"] if not persisted else [])
        + ([] if loaded else ["modprobe br_netfilter"])
    )
    return todo("br_netfilter", "filter traffic between two ports of one bridge (br_netfilter)", command, load)


def context_step(host: BootstrapHost) -> Step:
    """`vm_nested` from the virtualisation the host runs in, when the file is missing (`false` keeps rule PL1
    enforced: no privileged LXC without a VM between it and the hardware). The levels are left alone: a
    physical host has none (a `0` would give every Incus name a `000-` prefix, SPEC §5.6), and an instance gets
    its own from the anklume that made it."""
    directory = host.context
    path = directory / "vm_nested"
    if path.exists():
        return done("context", f"{path} exists ({_read(path)}): left as it is")
    virt = host.virtualisation or virtualisation(host)
    value = "true" if virt.vm else "false"
    why = f"the host runs under {virt.vm}" if virt.vm else "no hypervisor under the host"
    if virt.container:
        why += f"; it is itself a {virt.container} container"

    async def write() -> str:
        directory.mkdir(mode=0o755, parents=True, exist_ok=True)
        write_atomic(path, f"{value}\n", mode=0o644)
        return f"{path}: {value} ({why})"

    return todo("context", f"{path}: {value} ({why})", f"echo {value} > {path}", write)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()[:20]
    except (OSError, UnicodeDecodeError):
        return "unreadable"


def nft_boot_step(host: BootstrapHost) -> Step:
    """The isolation ruleset loaded at boot (SPEC §9.1). With no ruleset persisted yet (no apply so far), a
    ruleset with no domain is: it already drops traffic between any two bridges named like ours."""
    files = host.nft_boot or BootFiles()
    state = boot_state(files)
    if state.persisted and state.included and state.enabled:
        return done("nft-boot", f"at boot the isolation ruleset {files.ruleset} is loaded")
    if host.which("nft") is None and not state.conf_exists:
        return Step("nft-boot", "manual", "nftables is not installed: install it first (the packages step)")
    keep = state.persisted

    async def persist() -> str:
        text = files.ruleset.read_text(encoding="utf-8") if keep else empty_host_ruleset()
        outcome = persist_for_boot(text, files)
        if outcome.how is None:
            raise Failed("; ".join(outcome.warnings) or "the ruleset could not be arranged for boot")
        return outcome.how + ("; " + "; ".join(outcome.warnings) if outcome.warnings else "")

    what = "the ruleset applied last" if keep else "a ruleset with no domain yet (fail-closed)"
    command = f"install {files.ruleset} ({what}); include it from {files.conf}; systemctl enable nftables.service"
    return todo("nft-boot", f"load the isolation ruleset at boot: {what}", command, persist)


def _sysctl_step(host: BootstrapHost, step_id: str, limits: dict[str, int], why: str) -> Step:
    """Kernel limits raised now and at boot (a sysctl.d file of ours), never lowered."""
    conf = host.root / f"etc/sysctl.d/60-anklume-{step_id}.conf"
    low = {k: v for k, v in limits.items() if host.live_root and (sysctl_value(k) or 0) < v}
    if conf.is_file() and not low:
        return done(step_id, f"{step_id} limits raised, and at boot ({conf})")
    text = "".join(f"{k} = {v}\n" for k, v in limits.items())

    async def raise_them() -> str:
        if not conf.is_file():
            conf.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
            write_atomic(conf, f"# anklume-tui bootstrap: {why}\n" + text, mode=0o644)
        for name, value in low.items():
            await _run(host, ["sysctl", "-q", "-w", f"{name}={value}"])
        return f"{step_id} limits {', '.join(f'{k}={v}' for k, v in limits.items())} (now and at boot: {conf})"

    shown = f"write {conf}" + (f"; sysctl -w {' '.join(f'{k}={v}' for k, v in low.items())}" if low else "")
    return todo(step_id, f"raise the {step_id} limits {why}", shown, raise_them)


def inotify_step(host: BootstrapHost) -> Step:
    """The inotify limits every container's systemd draws from."""
    return _sysctl_step(host, "inotify", INOTIFY, "containers' systemd needs")


def keys_step(host: BootstrapHost) -> Step:
    """The kernel keyring quota all containers share (they map to one host user): each runc start inside one (a
    Docker container in a machine) takes a session key, and at Debian's 200 `docker run` fails."""
    return _sysctl_step(host, "keys", KEYS, "containers running Docker need")
