"""Subnets, gateways and automatic IPs (SPEC §5).

Pure functions over the raw infra mapping. They tolerate invalid input (the
validator reports it) and simply leave out what cannot be computed.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from .constants import (
    AUTO_IP_MAX,
    DEFAULT_BASE_SUBNET,
    DEFAULT_ZONE_BASE,
    DEFAULT_ZONE_STEP,
    GATEWAY_HOST,
    ZONE_MULTIPLIER,
    effective_trust,
)


@dataclass(frozen=True, slots=True)
class Subnet:
    domain: str
    trust: str
    zone: int | None
    seq: int
    explicit: bool
    base: str  # "A.B"

    @property
    def prefix(self) -> str:
        return f"{self.base}.{self.seq}"

    @property
    def cidr(self) -> str:
        return f"{self.prefix}.0/24"

    @property
    def gateway(self) -> str:
        return f"{self.prefix}.{GATEWAY_HOST}"

    @property
    def network(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(self.cidr)

    def host(self, number: int) -> str:
        return f"{self.prefix}.{number}"


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def is_zone_mode(data: dict[str, Any]) -> bool:
    return "addressing" in _mapping(data.get("global"))


def zone_settings(data: dict[str, Any]) -> tuple[int, int]:
    """(zone_base, zone_step), defaults where absent or invalid."""
    addressing = _mapping(_mapping(data.get("global")).get("addressing"))
    base = _int(addressing.get("zone_base"))
    step = _int(addressing.get("zone_step"))
    return (DEFAULT_ZONE_BASE if base is None else base, DEFAULT_ZONE_STEP if step is None or step < 1 else step)


def zone_octet(data: dict[str, Any], trust: str) -> int:
    base, step = zone_settings(data)
    return base + ZONE_MULTIPLIER[trust] * step


def plan_subnets(data: dict[str, Any]) -> tuple[dict[str, Subnet], list[tuple[str, str]]]:
    """Every domain's subnet, plus (domain, zone) pairs whose zone ran out of ids (X5).

    Disabled domains take part. Domains whose subnet cannot be computed are absent.
    """
    domains = {n: d for n, d in _mapping(data.get("domains")).items() if isinstance(d, dict)}
    result: dict[str, Subnet] = {}
    if not is_zone_mode(data):
        base = _mapping(data.get("global")).get("base_subnet", DEFAULT_BASE_SUBNET)
        if not _valid_base(base):
            return {}, []
        for name, dom in domains.items():
            sid = _int(dom.get("subnet_id"))
            if sid is not None and 0 <= sid <= 254:
                result[name] = Subnet(name, effective_trust(dom), None, sid, True, base)
        return result, []

    octet_base = "10"
    zones: dict[int, list[str]] = {}
    for name, dom in domains.items():
        zones.setdefault(zone_octet(data, effective_trust(dom)), []).append(name)
    exhausted: list[tuple[str, str]] = []
    for zone, names in zones.items():
        taken = set()
        for name in names:
            sid = _int(domains[name].get("subnet_id"))
            if sid is not None and 0 <= sid <= 254:
                taken.add(sid)
                result[name] = Subnet(name, effective_trust(domains[name]), zone, sid, True, f"{octet_base}.{zone}")
        seq = 0
        for name in sorted((n for n in names if n not in result and domains[n].get("subnet_id") is None), key=str):
            while seq in taken:
                seq += 1
            if seq > 254:
                exhausted.append((name, effective_trust(domains[name])))
                continue
            taken.add(seq)
            result[name] = Subnet(name, effective_trust(domains[name]), zone, seq, False, f"{octet_base}.{zone}")
    return {n: result[n] for n in domains if n in result}, exhausted


def _valid_base(base: object) -> bool:
    if not isinstance(base, str):
        return False
    parts = base.split(".")
    return len(parts) == 2 and all(p.isdigit() and 0 <= int(p) <= 255 for p in parts)


def parse_ipv4(value: object) -> ipaddress.IPv4Address | None:
    """A dotted IPv4 string (four decimal octets 0–255), else None (rule M11)."""
    if not isinstance(value, str):
        return None
    parts = value.split(".")
    if len(parts) != 4 or not all(p.isdigit() and len(p) <= 3 and int(p) <= 255 for p in parts):
        return None
    return ipaddress.IPv4Address(".".join(str(int(p)) for p in parts))


def auto_ips(machines: dict[str, Any], subnet: Subnet) -> tuple[dict[str, str], list[str]]:
    """Automatic IPs of the machines without `ip`, in declaration order (SPEC §5.1).

    Returns the assignments and the machines that found no free number ≤ .99 (X2).
    """
    used = set()
    for machine in machines.values():
        ip = parse_ipv4(machine.get("ip")) if isinstance(machine, dict) else None
        if ip is not None and ip in subnet.network:
            used.add(int(str(ip).rsplit(".", 1)[1]))
    assigned: dict[str, str] = {}
    overflow: list[str] = []
    number = 1
    for name, machine in machines.items():
        if not isinstance(machine, dict) or machine.get("ip") is not None:
            continue
        while number in used:
            number += 1
        if number > AUTO_IP_MAX:
            overflow.append(name)
            continue
        used.add(number)
        assigned[name] = subnet.host(number)
    return assigned, overflow
