"""What every validation family shares: the findings collector, value tests and the name index.

Validation runs on raw YAML values of any shape, so every helper here accepts anything.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..addressing import Subnet, plan_subnets
from ..constants import NAME_RE
from ..findings import Finding, Severity
from ..yaml_nodes import SourceMap

Path = tuple[Any, ...]


def is_int(value: object) -> bool:
    """An integer that is not a boolean (YAML `true` never passes as 1)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_name(value: object) -> bool:
    # fullmatch: NAME_RE ends in `$`, which `match` lets through before a trailing newline.
    return isinstance(value, str) and NAME_RE.fullmatch(value) is not None


def is_absolute(value: object) -> bool:
    return isinstance(value, str) and value.startswith("/")


def mapping(value: object) -> dict[Any, Any]:
    return value if isinstance(value, dict) else {}


def show(value: object) -> str:
    """A value as the user wrote it in YAML, short enough for a one-line message."""
    if isinstance(value, str):
        text = f"'{value}'"
    elif value is None:
        text = "null"
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, dict):
        text = "a mapping"
    elif isinstance(value, list):
        text = "a list"
    else:
        text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def name_hint(value: object) -> str:
    """Why a non-string name fails: YAML read it as a number or boolean."""
    return "" if isinstance(value, str) else " — write it in quotes"


class Collector:
    """Turns (rule, message, path) into findings located through the SourceMap."""

    def __init__(self, source: SourceMap):
        self.source = source
        self.findings: list[Finding] = []

    def error(self, rule: str, message: str, path: Path) -> None:
        """A bad value: located at the value's node."""
        self.findings.append(Finding(rule, Severity.ERROR, message, self.source.at(path)))

    def key_error(self, rule: str, message: str, path: Path) -> None:
        """A bad or misplaced key (names, duplicates): located at the key."""
        self.findings.append(Finding(rule, Severity.ERROR, message, self.source.key_at(path)))

    def warning(self, rule: str, message: str, path: Path, *, at_key: bool = False) -> None:
        loc = self.source.key_at(path) if at_key else self.source.at(path)
        self.findings.append(Finding(rule, Severity.WARNING, message, loc))

    def one_of(self, rule: str, label: str, value: object, allowed: tuple[Any, ...], path: Path) -> bool:
        """Enum check: the message names the key, the bad value and the allowed values."""
        if any(value == a and type(value) is type(a) for a in allowed):
            return True
        choices = ", ".join(show(a) for a in allowed)
        self.error(rule, f"{label} must be one of {choices} (got {show(value)})", path)
        return False

    def boolean(self, rule: str, label: str, value: object, path: Path) -> bool:
        """Optional boolean: null counts as absent."""
        if value is None or isinstance(value, bool):
            return True
        self.error(rule, f"{label} must be true or false (got {show(value)})", path)
        return False


@dataclass
class Inventory:
    """Domains and machines by name, in declaration order, whatever their bodies look like."""

    domains: dict[Any, dict[Any, Any]] = field(default_factory=dict)  # name -> domain mapping ({} when malformed)
    # name -> (domain name, machine mapping), first wins
    machines: dict[Any, tuple[Any, dict[Any, Any]]] = field(default_factory=dict)
    members: dict[Any, list[Any]] = field(default_factory=dict)  # domain name -> [machine names]

    def machine_path(self, name: object) -> Path:
        return ("domains", self.machines[name][0], "machines", name)


def build_inventory(data: dict[str, Any]) -> Inventory:
    inv = Inventory()
    for dname, domain in mapping(data.get("domains")).items():
        body = mapping(domain)
        inv.domains[dname] = body
        names: list[Any] = []
        inv.members[dname] = names
        for mname, machine in mapping(body.get("machines")).items():
            names.append(mname)
            inv.machines.setdefault(mname, (dname, mapping(machine)))
    return inv


def machines_of(inv: Inventory) -> Iterator[tuple[Any, Any, dict[Any, Any], Path]]:
    """Every (domain name, machine name, machine mapping, path), duplicates included."""
    for dname, domain in inv.domains.items():
        for mname, machine in mapping(domain.get("machines")).items():
            yield dname, mname, mapping(machine), ("domains", dname, "machines", mname)


def domain_networks(data: dict[str, Any]) -> dict[str, tuple[Subnet, ipaddress.IPv4Network]]:
    """Each domain's /24 as an IPv4Network, leaving out those that cannot be computed.

    Non-string domain names (already D1 errors) are left out: plan_subnets sorts names.
    """
    domains = {name: body for name, body in mapping(data.get("domains")).items() if isinstance(name, str)}
    subnets, _ = plan_subnets({**data, "domains": domains})
    networks: dict[str, tuple[Subnet, ipaddress.IPv4Network]] = {}
    for dname, subnet in subnets.items():
        try:
            networks[dname] = (subnet, subnet.network)
        except ValueError:
            continue
    return networks
