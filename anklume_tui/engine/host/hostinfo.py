"""Read the host context the PSOT needs: context files, host networks, CPUs and memory."""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ...psot.context import HostContext, HostNetwork
from ...psot.load import default_output_dir
from ...psot.stability import PriorAllocation
from . import paths as state


def _read(directory: Path, name: str) -> str | None:
    try:
        return (directory / name).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def _bool(text: str | None) -> bool | None:
    if text is None:
        return None
    lowered = text.lower()
    return True if lowered == "true" else False if lowered == "false" else None


def host_networks() -> tuple[HostNetwork, ...] | None:
    """IPv4 networks of the host's interfaces (`ip -json addr show`), None when unreadable."""
    ip = shutil.which("ip")
    if ip is None:
        return None
    try:
        out = subprocess.run([ip, "-json", "addr", "show"], capture_output=True, text=True, timeout=5, check=True)
        links = json.loads(out.stdout or "[]")
    except (OSError, subprocess.SubprocessError, json.JSONDecodeError):
        return None
    networks = []
    for link in links:
        for addr in link.get("addr_info", []):
            if addr.get("family") == "inet" and addr.get("local"):
                net = ipaddress.IPv4Network(f"{addr['local']}/{addr.get('prefixlen', 32)}", strict=False)
                networks.append(HostNetwork(link.get("ifname", "?"), net))
    return tuple(networks)


def host_cpus() -> float | None:
    count = os.cpu_count()
    return float(count) if count else None


def host_memory_bytes() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def known_roles(infra: Path) -> frozenset[str] | None:
    """The roles found in the role folders of an infra's tree (the folder holding the infra, SPEC §8.5); None
    when the infra's path does not resolve (a symlink loop: loading it says so)."""
    try:
        tree = default_output_dir(infra)
    except (OSError, RuntimeError):
        return None
    found: set[str] = set()
    for folder in state.role_folders(tree):
        try:
            found.update(entry.name for entry in folder.iterdir() if (entry / "tasks").is_dir())
        except OSError:  # a role folder the user has not made
            continue
    return frozenset(found)


def _names_a_remote(infra: Path) -> bool:
    """Whether the infra's `global.incus` names a remote of the incus CLI: only then is its config read (IN2)."""
    from ...psot.incus_target import declared_incus

    declared = declared_incus(infra)
    return declared is not None and isinstance(declared[0], dict) and "remote" in declared[0]


def gather_host_context(
    with_networks: bool = True,
    infra: Path | None = None,
    allocation: PriorAllocation | None = None,
    cluster: tuple[tuple[str, ...], tuple[str, ...]] | None = None,
) -> HostContext:
    """With `with_networks` (the PSOT's own runs), also the host's networks and what was applied (SPEC §5.1
    Stability): the records and Incus's bridges and nics, read here unless the caller gives them
    (`allocation`, from listings it read, with the cluster's members and groups when it read them: `cluster`,
    both empty off a cluster). With `infra`, also the roles its tree can find and the incus CLI's remotes
    (global.incus.remote, IN2)."""
    if with_networks and allocation is None:
        from ..reconcile.allocation import gather_applied  # reconcile imports host: imported when called

        with ThreadPoolExecutor(1) as pool:  # `ip` runs while Incus is read
            asked = pool.submit(host_networks)
            allocation, cluster = gather_applied()
            networks = asked.result()
    else:
        networks = host_networks() if with_networks else None
    directory = state.context_dir()
    remotes = None
    if infra is not None and _names_a_remote(infra):
        from ..incus import incus_remotes

        remotes = frozenset(incus_remotes())
    return HostContext(
        absolute_level=_int(_read(directory, "absolute_level")),
        relative_level=_int(_read(directory, "relative_level")),
        vm_nested=_bool(_read(directory, "vm_nested")),
        yolo=_bool(_read(directory, "yolo")) is True,
        host_networks=networks,
        skip_subnet_check=os.environ.get("ANKLUME_SKIP_HOST_SUBNET_CHECK") == "1",
        host_cpus=host_cpus(),
        host_memory_bytes=host_memory_bytes(),
        allocation=allocation if with_networks else None,
        known_roles=None if infra is None else known_roles(infra),
        cluster_members=None if cluster is None else cluster[0],
        cluster_groups=() if cluster is None else cluster[1],
        incus_remotes=remotes,
    )
