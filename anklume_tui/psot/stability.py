"""What was applied stays where it is (SPEC §5.1 Stability).

Pure: the engine gathers what was applied (its record of this infra, else Incus's bridges and nics) into a
`PriorAllocation`; `stabilize` writes the allocations the rules keep into a copy of the infra as `subnet_id`
and `ip`, so validation, enrichment and generation all see the same addresses. Only domains and machines
without an allocation take free numbers (skipping every subnet a bridge of the host holds); with no prior
allocation the infra is returned unchanged (v1's result). A move the user did not ask for by name (W9) is
returned as a `Move`: plan shows it as `renumber`, apply carries it out only with `--renumber`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .addressing import is_zone_mode, parse_ipv4, zone_octet
from .constants import AUTO_IP_MAX, effective_trust

MAX_SEQ = 254


@dataclass(frozen=True)
class PriorAllocation:
    """What was applied, as the engine found it.

    `records`: project_name → {"subnets": {domain: "A.B.C.0/24"}, "addresses": {domain: {machine: ip}}}, the
    state directory's record of each infra applied on this host. `bridges`: every bridge Incus holds → its
    IPv4 network (None: Incus was not read). `nics`: (project, instance) → its eth0 `ipv4.address`.
    """

    records: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    bridges: Mapping[str, str] | None = None
    nics: Mapping[tuple[str, str], str] = field(default_factory=dict)


@dataclass(frozen=True)
class Move:
    """An applied subnet (machine None) or address the rules would move without being asked to (W9)."""

    domain: str
    machine: str | None
    before: str
    after: str
    reason: str

    @property
    def message(self) -> str:
        what = f"machine '{self.machine}'" if self.machine else f"domain '{self.domain}'"
        return (
            f"{what}: applied {'address' if self.machine else 'subnet'} {self.before} would move to {self.after} "
            f"({self.reason}); plan shows it as renumber, apply --renumber moves it"
        )


def _mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _network(cidr: object) -> ipaddress.IPv4Network | None:
    try:
        return ipaddress.IPv4Network(str(cidr), strict=False)
    except ValueError:
        return None


def applied_of(
    data: dict[str, Any], prior: PriorAllocation, prefix: str
) -> tuple[dict[str, ipaddress.IPv4Network], dict[str, dict[str, Any]]]:
    """(domain → its applied /24, domain → machine → its applied address): the record of this infra, else
    what Incus holds under this infra's names."""
    project_name = data.get("project_name")
    record = _mapping(prior.records.get(project_name)) if isinstance(project_name, str) else {}
    subnets: dict[str, ipaddress.IPv4Network]
    if record:
        subnets = {d: n for d, cidr in _mapping(record.get("subnets")).items() if (n := _network(cidr)) is not None}
        return subnets, {d: _mapping(a) for d, a in _mapping(record.get("addresses")).items()}
    subnets = {}
    addresses: dict[str, dict[str, Any]] = {}
    for name, domain in _mapping(data.get("domains")).items():
        if not isinstance(name, str):
            continue
        network = _network((prior.bridges or {}).get(f"{prefix}net-{name}"))
        if network is not None:
            subnets[name] = network
        project = f"{prefix}{name}"
        found = {
            m: prior.nics[(project, f"{prefix}{m}")]
            for m in _mapping(_mapping(domain).get("machines"))
            if isinstance(m, str) and (project, f"{prefix}{m}") in prior.nics
        }
        if found:
            addresses[name] = found
    return subnets, addresses


def used_bridges(data: dict[str, Any], prior: PriorAllocation, prefix: str) -> dict[str, ipaddress.IPv4Network]:
    """The host's bridges that are not this infra's (another infra's, or made by hand) → their network."""
    own = {f"{prefix}net-{name}" for name in _mapping(data.get("domains")) if isinstance(name, str)}
    found = {name: _network(cidr) for name, cidr in (prior.bridges or {}).items() if name not in own}
    return {name: n for name, n in found.items() if n is not None}


def used_networks(data: dict[str, Any], prior: PriorAllocation, prefix: str) -> list[ipaddress.IPv4Network]:
    """Networks of the host's bridges that are not this infra's: never allocated."""
    return list(used_bridges(data, prior, prefix).values())


def stabilize(data: object, prior: PriorAllocation | None, prefix: str) -> tuple[object, list[Move]]:
    """`data` with the kept allocations written in (a copy; `data` is never changed), and the W9 moves."""
    if prior is None or not isinstance(data, dict) or not is_zone_mode(data):
        return data, []
    domains = {n: d for n, d in _mapping(data.get("domains")).items() if isinstance(n, str) and isinstance(d, dict)}
    if not domains:
        return data, []
    subnets, addresses = applied_of(data, prior, prefix)
    used = used_networks(data, prior, prefix)
    if not subnets and not used:
        return data, []
    out = {**data, "domains": {**data["domains"]}}
    moves: list[Move] = []
    seqs = _subnet_ids(data, domains, subnets, used, moves)
    for name, domain in domains.items():
        copy = dict(domain)
        if name in seqs:
            copy["subnet_id"] = seqs[name]
        sid = copy.get("subnet_id")
        if isinstance(sid, int) and not isinstance(sid, bool) and 0 <= sid <= MAX_SEQ:
            base = f"10.{zone_octet(data, effective_trust(domain))}.{sid}"
            copy["machines"] = _addresses(name, domain, base, _mapping(addresses.get(name)), moves)
        out["domains"][name] = copy
    return out, moves


def _zone_of(data: dict[str, Any], domain: dict[str, Any]) -> int:
    return zone_octet(data, effective_trust(domain))


def _subnet_ids(
    data: dict[str, Any],
    domains: dict[str, Any],
    subnets: dict[str, ipaddress.IPv4Network],
    used: list[ipaddress.IPv4Network],
    moves: list[Move],
) -> dict[str, int]:
    """The subnet_id of each domain without one: its applied one where kept, else the smallest free one."""
    explicit: dict[int, set[int]] = {}
    for domain in domains.values():
        sid = domain.get("subnet_id")
        if isinstance(sid, int) and not isinstance(sid, bool):
            explicit.setdefault(_zone_of(data, domain), set()).add(sid)
    taken = {zone: set(ids) for zone, ids in explicit.items()}
    result: dict[str, int] = {}
    fresh: list[str] = []
    for name in sorted(n for n, d in domains.items() if d.get("subnet_id") is None):
        zone = _zone_of(data, domains[name])
        before = subnets.get(name)
        octets = str(before.network_address).split(".") if before is not None else []
        if before is not None and octets[:2] == ["10", str(zone)] and int(octets[2]) not in taken.get(zone, set()):
            result[name] = int(octets[2])
            taken.setdefault(zone, set()).add(int(octets[2]))
        else:
            fresh.append(name)
    for name in fresh:
        zone = _zone_of(data, domains[name])
        seq = 0
        while seq <= MAX_SEQ and (seq in taken.get(zone, set()) or _overlaps(f"10.{zone}.{seq}.0/24", used)):
            seq += 1
        if seq > MAX_SEQ:
            continue  # plan_subnets reports X5
        result[name] = seq
        taken.setdefault(zone, set()).add(seq)
        before = subnets.get(name)
        if before is not None and str(before.network_address).split(".")[:2] != ["10", str(zone)]:
            moves.append(Move(name, None, str(before), f"10.{zone}.{seq}.0/24", "its trust zone changed"))
    return result


def _overlaps(cidr: str, used: list[ipaddress.IPv4Network]) -> bool:
    network = ipaddress.IPv4Network(cidr)
    return any(network.overlaps(u) for u in used)


def _addresses(domain: str, body: dict[str, Any], base: str, applied: dict[str, Any], moves: list[Move]) -> object:
    """The machines, those without `ip` keeping their applied host number where it is still theirs."""
    machines = body.get("machines")
    if not isinstance(machines, dict) or not applied:
        return machines
    explicit = set()
    for machine in machines.values():
        ip = parse_ipv4(machine.get("ip")) if isinstance(machine, dict) else None
        if ip is not None and str(ip).rsplit(".", 1)[0] == base:
            explicit.add(int(str(ip).rsplit(".", 1)[1]))
    kept: set[int] = set()
    result = dict(machines)
    for name, machine in machines.items():
        before = parse_ipv4(applied.get(name))
        if not isinstance(machine, dict) or machine.get("ip") is not None or before is None:
            continue
        host = int(str(before).rsplit(".", 1)[1])
        if host in explicit or host in kept:
            continue  # another machine's explicit ip takes it: the user's edit applies
        if not 1 <= host <= AUTO_IP_MAX:
            moves.append(Move(domain, name, str(before), "an automatic address", "its explicit ip was removed"))
            continue
        kept.add(host)
        result[name] = {**machine, "ip": f"{base}.{host}"}
    return result
