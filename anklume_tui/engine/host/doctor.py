"""`doctor`: check the host anklume-tui runs on; every finding says what to type to fix it.

Incus checks need the daemon; the host checks (files, tools, kernel modules, context files, subnets) run
whether or not Incus answers, so one run shows everything that is wrong.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ...reports import DoctorFinding, DoctorReport
from . import paths as state

if TYPE_CHECKING:
    from ..isolation.boot import BootFiles

IDMAP_MINIMUM = 65536
INCUS_UNREACHABLE = "incus"
CONTEXT_FILES = {"absolute_level": "int", "relative_level": "int", "vm_nested": "bool", "yolo": "bool"}


def ok(check: str, message: str) -> DoctorFinding:
    return DoctorFinding(check=check, status="ok", message=message, fix=None)


def warning(check: str, message: str, fix: str | None) -> DoctorFinding:
    return DoctorFinding(check=check, status="warning", message=message, fix=fix)


def error(check: str, message: str, fix: str | None) -> DoctorFinding:
    return DoctorFinding(check=check, status="error", message=message, fix=fix)


@dataclass(frozen=True)
class DoctorHost:
    """Where the host checks look; tests point these elsewhere."""

    subuid: Path = field(default_factory=state.subuid_file)
    subgid: Path = field(default_factory=state.subgid_file)
    modules: Path = field(default_factory=state.kernel_modules_dir)
    context: Path = field(default_factory=state.context_dir)
    which: Callable[[str], str | None] = shutil.which
    nft_boot: BootFiles | None = None  # where boot loading of the ruleset is arranged (None: this host's)


# Incus


async def incus_findings(client) -> list[DoctorFinding]:
    """Reachability and version, the `default` storage pool, the default profile's root disk."""
    from ..incus.errors import IncusError, IncusNotFound, IncusUnreachable

    try:
        info = await client.server_info()
    except (IncusUnreachable, IncusError) as exc:
        return [unreachable(str(exc))]
    found = [ok(INCUS_UNREACHABLE, f"Incus {info.server_version or '?'} reachable at {client.url}")]
    try:
        pools = await client.storage_pool_names()
        profile = await client.get_profile("default")
    except IncusNotFound as exc:
        return [*found, error("default-profile", f"Incus has no default profile: {exc}", "incus admin init")]
    except IncusError as exc:
        return [*found, error(INCUS_UNREACHABLE, f"Incus answered with an error: {exc}", None)]
    if "default" in pools:
        found.append(ok("storage-pool", "storage pool 'default' exists"))
    else:
        others = f" (pools: {', '.join(pools)})" if pools else " (no pool at all)"
        found.append(error("storage-pool", "no storage pool 'default'" + others, "incus storage create default dir"))
    root = [d for d in profile.devices.values() if d.get("type") == "disk" and d.get("path") == "/"]
    if root:
        found.append(ok("default-profile", f"default profile has a root disk on pool '{root[0].get('pool', '?')}'"))
    else:
        found.append(
            error(
                "default-profile",
                "the default profile has no root disk: new instances cannot start",
                "incus profile device add default root disk path=/ pool=default",
            )
        )
    return found


def unreachable(why: str) -> DoctorFinding:
    return error(
        INCUS_UNREACHABLE,
        f"Incus unreachable: {why}",
        "sudo systemctl start incus   # or --incus URL / $ANKLUME_INCUS; first time: sudo incus admin init",
    )


# Host


def _root_range(path: Path) -> int | None:
    """The largest count of a `root:start:count` line, 0 when no root line, None when unreadable."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return None
    best = 0
    for line in lines:
        parts = line.strip().split(":")
        if len(parts) == 3 and parts[0] in ("root", "0") and parts[2].isdigit():
            best = max(best, int(parts[2]))
    return best


def idmap_findings(host: DoctorHost) -> list[DoctorFinding]:
    found = []
    for path in (host.subuid, host.subgid):
        check, fix = path.name, f"echo root:1000000:1000000000 | sudo tee -a {path}"
        try:
            count = _root_range(path)
        except (OSError, UnicodeDecodeError) as exc:
            found.append(error(check, f"{path} unreadable: {exc}", f"sudo chmod 644 {path}"))
            continue
        if count is None:
            found.append(warning(check, f"{path} missing: Incus falls back to its built-in id range", fix))
        elif count < IDMAP_MINIMUM:
            found.append(
                error(check, f"{path}: root has {count} ids, unprivileged containers need {IDMAP_MINIMUM}", fix)
            )
        else:
            found.append(ok(check, f"{path}: root has {count} ids"))
    return found


def _venv_tool(name: str, host: DoctorHost) -> str | None:
    found = host.which(name)
    if found:
        return found
    beside = Path(sys.executable).parent / name
    return str(beside) if os.access(beside, os.X_OK) else None


def tool_findings(host: DoctorHost) -> list[DoctorFinding]:
    found = []
    if nft := host.which("nft"):
        found.append(ok("nft", f"nft found ({nft})"))
    else:
        found.append(error("nft", "nft not found: the isolation ruleset cannot be loaded", "sudo apt install nftables"))
    if (host.modules / "br_netfilter").is_dir():
        found.append(ok("br_netfilter", "br_netfilter loaded"))
    else:
        found.append(
            warning(
                "br_netfilter",
                "br_netfilter not loaded: traffic between instances on one bridge is not filtered",
                "sudo modprobe br_netfilter && echo br_netfilter | sudo tee /etc/modules-load.d/br_netfilter.conf",
            )
        )
    if tmux := host.which("tmux"):
        found.append(ok("tmux", f"tmux found ({tmux})"))
    else:
        found.append(warning("tmux", "tmux not found: `console` cannot work", "sudo apt install tmux"))
    if playbook := _venv_tool("ansible-playbook", host):
        found.append(ok("ansible-playbook", f"ansible-playbook found ({playbook})"))
    else:
        found.append(
            error("ansible-playbook", "ansible-playbook not found: provisioning cannot run", "pip install ansible-core")
        )
    return found


def boot_finding(host: DoctorHost) -> DoctorFinding:
    """Whether the isolation ruleset would come back at boot (SPEC §9.1: Debian's nftables.service)."""
    from ..isolation.boot import SERVICE, BootFiles, boot_state, include_statement

    files = host.nft_boot or BootFiles()
    found = boot_state(files)
    check = "nft-boot"
    if not found.persisted:
        return warning(
            check,
            f"no isolation ruleset persisted yet ({files.ruleset}): after a reboot none is loaded",
            "anklume-tui --batch nftables   # or apply: it persists the ruleset and arranges its boot loading",
        )
    if not found.conf_exists:
        return error(
            check,
            f"no {files.conf}: nothing loads the isolation ruleset at boot",
            "sudo apt install nftables && anklume-tui --batch nftables",
        )
    if not found.included:
        return error(
            check,
            f"{files.conf} does not include {files.ruleset}: the isolation ruleset is not loaded at boot",
            f"echo '{include_statement(files.ruleset)}' | sudo tee -a {files.conf}",
        )
    if found.enabled is None:
        return warning(
            check,
            f"cannot tell whether {SERVICE} is enabled ({found.why_unknown}); it loads {files.conf} at boot",
            f"sudo systemctl enable {SERVICE}",
        )
    if not found.enabled:
        return error(
            check,
            f"{SERVICE} is not enabled: {files.conf} (and the isolation ruleset) is not loaded at boot",
            f"sudo systemctl enable {SERVICE}",
        )
    return ok(check, f"at boot {SERVICE} loads {files.conf}, which includes {files.ruleset}")


def gpu_finding(host: DoctorHost) -> DoctorFinding:
    from .gpu import NvidiaSmiError, query_nvidia_smi

    smi = host.which("nvidia-smi")
    if smi is None:
        return ok("gpu", "no NVIDIA GPU found (nvidia-smi not present)")
    try:
        gpus = query_nvidia_smi(smi).gpus
    except NvidiaSmiError as exc:
        return error("gpu", f"nvidia-smi fails: {exc}", "sudo modprobe nvidia && nvidia-smi")
    names = ", ".join(g.name for g in gpus) or "none"
    return ok("gpu", f"NVIDIA driver answers: {len(gpus)} GPU(s): {names}")


def _well_formed(text: str, kind: str) -> bool:
    if kind == "int":
        return text.lstrip("-").isdigit()
    return text.lower() in ("true", "false")


def context_findings(host: DoctorHost) -> list[DoctorFinding]:
    directory = host.context
    if not directory.is_dir():
        return [ok("context", f"no context directory {directory}: a physical host is assumed")]
    found = []
    for name, kind in CONTEXT_FILES.items():
        path = directory / name
        if not path.exists():
            continue
        example = "0" if kind == "int" else "false"
        fix = f"echo {example} | sudo tee {path}"
        try:
            text = path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            found.append(error("context", f"{path} unreadable: {exc}", f"sudo chmod 644 {path}"))
            continue
        if _well_formed(text, kind):
            found.append(ok("context", f"{path}: {text}"))
        else:
            wanted = "an integer" if kind == "int" else "true or false"
            found.append(error("context", f"{path} holds {text[:40]!r}, not {wanted}", fix))
    return found or [ok("context", f"{directory} holds no context file: a physical host is assumed")]


def subnet_findings(infra: str | None) -> list[DoctorFinding]:
    """H1 (SPEC §4.7) on the infra when one is found: a domain /24 overlapping a host interface."""
    from ...psot.load import discover_infra
    from ...psot.pipeline import run_psot
    from .hostinfo import gather_host_context

    try:
        path = discover_infra(infra, Path.cwd())
        result = run_psot(path, gather_host_context())
    except Exception:  # no infra, or one that does not load: `validate` is the place to say why
        return [ok("subnets", "no infra found: host subnet conflicts not checked")]
    conflicts = [f for f in result.findings if f.rule == "H1"]
    if result.infra is None and not conflicts:  # missing, unreadable or invalid: nothing to compare
        return [ok("subnets", f"{path}: no valid infra there: host subnet conflicts not checked (see `validate`)")]
    if not conflicts:
        return [ok("subnets", f"{path}: no domain subnet overlaps a host interface")]
    return [
        error("subnets", f.message, f"edit {path}: change zone_base / base_subnet / subnet_id, then sync")
        for f in conflicts
    ]


# The kernel limits many containers need (Incus's production values); bootstrap raises them, doctor checks them.
INOTIFY = {"fs.inotify.max_user_instances": 1024, "fs.inotify.max_user_watches": 1048576}  # containers' systemd
INOTIFY_INSTANCES = INOTIFY["fs.inotify.max_user_instances"]
KEYS = {"kernel.keys.maxkeys": 2000, "kernel.keys.maxbytes": 2000000}  # a key per Docker container started inside


def sysctl_value(name: str) -> int | None:
    try:
        return int(Path("/proc/sys", *name.split(".")).read_text().strip())
    except (OSError, ValueError):
        return None


def inotify_finding() -> DoctorFinding:
    value = sysctl_value("fs.inotify.max_user_instances")
    if value is None:
        return ok("inotify", "inotify limits not readable here: not checked")
    if value >= INOTIFY_INSTANCES:
        return ok("inotify", f"fs.inotify.max_user_instances is {value}")
    return warning(
        "inotify",
        f"fs.inotify.max_user_instances is {value}: past a few dozen containers, new ones stop at start "
        "(Too many open files)",
        f"sudo sysctl -w fs.inotify.max_user_instances={INOTIFY_INSTANCES}   # or: anklume-tui --batch doctor --fix",
    )


def keys_finding() -> DoctorFinding:
    values = {name: sysctl_value(name) for name in KEYS}
    if None in values.values():
        return ok("keys", "kernel keyring limits not readable here: not checked")
    low = {name: value for name, value in values.items() if (value or 0) < KEYS[name]}
    if not low:
        return ok("keys", ", ".join(f"{name} is {value}" for name, value in values.items()))
    return warning(
        "keys",
        f"{', '.join(f'{name} is {value}' for name, value in low.items())}: every container maps to one host "
        "user, and each Docker container started inside one takes a key from that user's quota; past it "
        "'docker run' fails (unable to create session key: disk quota exceeded)",
        "sudo sysctl -w "
        + " ".join(f"{name}={KEYS[name]}" for name in low)
        + "   # or: anklume-tui --batch doctor --fix",
    )


def host_findings(host: DoctorHost, infra: str | None) -> list[DoctorFinding]:
    return [
        *idmap_findings(host),
        *tool_findings(host),
        inotify_finding(),
        keys_finding(),
        boot_finding(host),
        gpu_finding(host),
        *context_findings(host),
        *subnet_findings(infra),
    ]


def build_report(findings: list[DoctorFinding]) -> DoctorReport:
    reachable = not any(f.check == INCUS_UNREACHABLE and f.status == "error" for f in findings)
    return DoctorReport(ok=not any(f.status == "error" for f in findings), incus_reachable=reachable, findings=findings)


async def run_doctor(url: str | None, infra: str | None = None, host: DoctorHost | None = None) -> DoctorReport:
    from ..incus.client import IncusClient
    from ..incus.errors import IncusUrlError

    try:
        async with IncusClient(url) as client:
            incus = await incus_findings(client)
    except IncusUrlError as exc:
        incus = [unreachable(str(exc))]
    return build_report([*incus, *host_findings(host or DoctorHost(), infra)])
