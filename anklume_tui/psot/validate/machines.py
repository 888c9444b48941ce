"""Rules on machines (SPEC §4.4): M1–M13, and the shape (R2) of a machine's parts.

One pass over every machine in declaration order; names and IPs are tracked in
dicts so the whole file costs linear time.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from ..addressing import parse_ipv4
from ..constants import GATEWAY_HOST
from .common import Collector, Inventory, domain_networks, is_int, is_name, mapping, name_hint, show

EXPIRY_RE = re.compile(r"\d+[dhm]")
# A role folder's name, or a Galaxy or collection role (`author.role`, `ns.collection.role`): never a path,
# never template text (it becomes include_role's name).
ROLE_NAME_RE = re.compile(r"[A-Za-z0-9_]+(?:[.-][A-Za-z0-9_]+)*")


def check_machines(data: dict[str, Any], inv: Inventory, out: Collector) -> None:
    networks = {name: network for name, (_, network) in domain_networks(data).items()}
    first_domain: dict[object, object] = {}  # machine name -> domain first declaring it
    ip_owner: dict[object, object] = {}  # IPv4Address -> machine name
    for dname, domain in inv.domains.items():
        machines = domain.get("machines")
        if not isinstance(machines, dict):
            continue
        profiles = domain.get("profiles")
        profile_names = set(profiles) if isinstance(profiles, dict) else set()
        for mname, machine in machines.items():
            path = ("domains", dname, "machines", mname)
            label = f"Machine '{mname}': "
            if not is_name(mname):
                out.key_error(
                    "M1",
                    f"{label}invalid name (lowercase letters, digits, inner hyphens){name_hint(mname)}",
                    path,
                )
            if mname in first_domain:
                out.key_error("M2", f"{label}duplicate (already in '{first_domain[mname]}')", path)
            else:
                first_domain[mname] = dname
            if not isinstance(machine, dict):
                out.error("R2", f"'domains.{dname}.machines.{mname}' must be a mapping (got {show(machine)})", path)
                continue
            _ip(label, machine, path, networks.get(dname), ip_owner, mname, out)
            _fields(label, machine, path, out)
            _profiles(label, machine, path, dname, profile_names, out)
            _shape(label, machine, path, out)
            _roles(label, machine, path, out)


def _ip(
    label: str,
    machine: dict[str, Any],
    path: tuple[Any, ...],
    network: ipaddress.IPv4Network | None,
    ip_owner: dict[object, object],
    mname: object,
    out: Collector,
) -> None:
    value = machine.get("ip")
    if value is None:
        return
    ip = parse_ipv4(value)
    ip_path = path + ("ip",)
    if ip is None:
        out.error("M11", f"{label}ip must be a dotted IPv4 string (got {show(value)})", ip_path)
        return
    if ip in ip_owner:
        out.error("M4", f"{label}IP {ip} already used by '{ip_owner[ip]}'", ip_path)
    else:
        ip_owner[ip] = mname
    if network is not None and ip not in network:
        out.error("M5", f"{label}IP {ip} not in subnet {network}", ip_path)
    host = int(ip) & 0xFF
    if host == 0 or host >= GATEWAY_HOST:
        out.error("M12", f"{label}host number {host} is reserved (use 1-253)", ip_path)


def _fields(label: str, machine: dict[str, Any], path: tuple[Any, ...], out: Collector) -> None:
    if "type" in machine:
        out.one_of("M3", label + "type", machine["type"], ("lxc", "vm"), path + ("type",))
    out.boolean("M6", label + "ephemeral", machine.get("ephemeral"), path + ("ephemeral",))
    out.boolean("M8", label + "boot_autostart", machine.get("boot_autostart"), path + ("boot_autostart",))
    priority = machine.get("boot_priority")
    if priority is not None and not (is_int(priority) and 0 <= priority <= 100):
        out.error(
            "M8",
            f"{label}boot_priority must be an integer 0-100 (got {show(priority)})",
            path + ("boot_priority",),
        )
    schedule = machine.get("snapshots_schedule")
    if schedule is not None and not (isinstance(schedule, str) and len(schedule.split()) == 5):
        out.error(
            "M9",
            f"{label}snapshots_schedule must be a cron expression of 5 fields (got {show(schedule)})",
            path + ("snapshots_schedule",),
        )
    expiry = machine.get("snapshots_expiry")
    if expiry is not None and not (isinstance(expiry, str) and EXPIRY_RE.fullmatch(expiry)):
        out.error(
            "M9",
            f"{label}snapshots_expiry must be digits then d, h or m, e.g. '30d' (got {show(expiry)})",
            path + ("snapshots_expiry",),
        )
    weight = machine.get("weight")
    if weight is not None and not (is_int(weight) and weight >= 1):
        out.error("M10", f"{label}weight must be a positive integer (got {show(weight)})", path + ("weight",))


def _profiles(
    label: str, machine: dict[str, Any], path: tuple[Any, ...], dname: object, defined: set[Any], out: Collector
) -> None:
    profiles = machine.get("profiles")
    if profiles is None:
        return
    if not isinstance(profiles, list):
        out.error(
            "M7",
            f"{label}profiles must be a list of profile names (got {show(profiles)})",
            path + ("profiles",),
        )
        return
    for i, profile in enumerate(profiles):
        if profile == "default" or (isinstance(profile, str) and profile in defined):
            continue
        out.error("M7", f"{label}profile {show(profile)} not defined in domain '{dname}'", path + ("profiles", i))


def _shape(label: str, machine: dict[str, Any], path: tuple[Any, ...], out: Collector) -> None:
    """Parts the generator copies as mappings or lists must have that shape."""
    for key in ("config", "devices", "storage_volumes"):
        value = machine.get(key)
        if value is not None and not isinstance(value, dict):
            out.error("R2", f"{label}{key} must be a mapping (got {show(value)})", path + (key,))
    for key in ("devices", "storage_volumes"):
        for name, entry in mapping(machine.get(key)).items():
            if not isinstance(entry, dict):
                out.error("R2", f"{label}{key}.{name} must be a mapping (got {show(entry)})", path + (key, name))
    roles = machine.get("roles")
    if roles is not None and not (isinstance(roles, list) and all(isinstance(r, str) for r in roles)):
        out.error("R2", f"{label}roles must be a list of role names (got {show(roles)})", path + ("roles",))


def _roles(label: str, machine: dict[str, Any], path: tuple[Any, ...], out: Collector) -> None:
    roles = machine.get("roles")
    if not isinstance(roles, list):
        return
    for i, role in enumerate(roles):
        if isinstance(role, str) and not ROLE_NAME_RE.fullmatch(role):
            out.error(
                "M13",
                f"{label}role {show(role)} is not a role name (letters, digits and _, parts joined by . or -)",
                path + ("roles", i),
            )
