"""Services between domains (issue 19): who offers what, who consumes it, and how it reaches them.

A machine's `services` names what it offers (a TCP `port` or a unix `socket`); `consumes` at domain or machine
level is the grant. The same resolution feeds enrichment (the auto-created policy, the proxy devices) and the
read model the faces show (`service_map`), so both always agree. Values are assumed valid (rules SV1–SV8).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from .model import Infra

DEFAULT_SOCKET_MODE = "0660"
Via = Literal["policy", "proxy"]
VIA_POLICY: Via = "policy"
VIA_PROXY: Via = "proxy"


@dataclass(frozen=True)
class Offer:
    """One service a machine offers."""

    machine: str
    name: str
    protocol: str  # a label, defaulted: "tcp" for a port, "unix" for a socket
    port: int | None
    socket: str | None
    description: str
    consumers: tuple[str, ...]  # machine names, sorted (domain-level entries expanded)


@dataclass(frozen=True)
class Use:
    """One service a machine consumes."""

    machine: str  # the consumer
    provider: str
    name: str
    protocol: str
    port: int | None
    socket: str | None  # the path inside the consumer (socket services)
    via: Via  # "policy" (TCP, the auto-created rule) or "proxy" (unix socket)


@dataclass(frozen=True)
class Grant:
    """One resolved `consumes` entry for one consumer machine (a domain-level entry gives one per machine)."""

    consumer: str
    domain: str  # the consumer's domain
    domain_level: bool  # from the domain's `consumes`, not overridden by the machine's own entry
    offer: Offer
    socket: str | None  # socket services: the path inside the consumer
    uid: int
    gid: int
    mode: str


# (domain name, domain `consumes`, [(machine name, machine `services`, machine `consumes`)]) as declared
DomainView = tuple[str, Any, Iterable[tuple[str, Any, Any]]]


def parse_offer(machine: str, name: str, body: dict[str, Any]) -> Offer:
    port, socket = body.get("port"), body.get("socket")
    protocol = body.get("protocol") or ("tcp" if port is not None else "unix")
    return Offer(machine, name, protocol, port, socket, body.get("description") or "", ())


def parse_entry(entry: object) -> tuple[str, dict[str, Any]]:
    """A `consumes` item as ("<machine>/<service>", its options): the short form has none."""
    if isinstance(entry, dict):
        return str(entry.get("service")), {k: v for k, v in entry.items() if k != "service"}
    return str(entry), {}


def split_ref(ref: str) -> tuple[str, str]:
    machine, _, service = ref.partition("/")
    return machine, service


def offers_of(domains: Iterable[DomainView]) -> dict[tuple[str, str], Offer]:
    """(machine, service) -> Offer, without consumers, in declaration order."""
    return {
        (mname, sname): parse_offer(mname, sname, body or {})
        for _dname, _dcons, machines in domains
        for mname, services, _mcons in machines
        for sname, body in (services or {}).items()
    }


def resolve_grants(domains: Iterable[DomainView]) -> list[Grant]:
    """Every consumer machine's grants, in declaration order of consumers then entries.

    A machine's own entry for a service overrides its domain's, as shared-volume consumers do.
    Entries naming an unknown machine or service are left out (SV4 says so).
    """
    views = [(d, dc, list(ms)) for d, dc, ms in domains]
    return _grants(views, offers_of(views))


def _grants(views: Sequence[DomainView], offers: dict[tuple[str, str], Offer]) -> list[Grant]:
    grants: list[Grant] = []
    for dname, dcons, machines in views:
        for mname, _services, mcons in machines:
            chosen: dict[tuple[str, str], tuple[bool, dict[str, Any]]] = {}
            for level, entries in ((True, dcons), (False, mcons)):
                for ref, options in map(parse_entry, entries or []):
                    key = split_ref(ref)
                    if key in offers and key[0] != mname:  # a domain's entry skips its own provider (SV5)
                        chosen[key] = (level, options)
            for key, (level, options) in chosen.items():
                grants.append(_grant(mname, dname, level, offers[key], options))
    return grants


def default_consumer_socket(provider: str, name: str) -> str:
    """Where a relayed socket appears in a consumer that does not say: directly in /run, which every container
    has when its proxy devices start (Incus cannot listen in a folder missing then, and the consumer would not
    start: so not the provider's own path, whose folder, like /run/mcp, is rarely there)."""
    return f"/run/{provider}-{name}.sock"


def _grant(consumer: str, domain: str, level: bool, offer: Offer, options: dict[str, Any]) -> Grant:
    socket = None
    if offer.socket is not None:
        socket = options.get("socket") or default_consumer_socket(offer.machine, offer.name)
    uid, gid = options.get("uid"), options.get("gid")
    return Grant(
        consumer,
        domain,
        level,
        offer,
        socket,
        uid if uid is not None else 0,
        gid if gid is not None else 0,
        str(options.get("mode") or DEFAULT_SOCKET_MODE),
    )


class ServiceMap:
    """What each machine offers and uses, for the faces (status --json, the TUI detail pane, plan)."""

    def __init__(self, offers: Iterable[Offer], uses: Iterable[Use]):
        self._offers: dict[str, list[Offer]] = {}
        self._uses: dict[str, list[Use]] = {}
        for offer in offers:
            self._offers.setdefault(offer.machine, []).append(offer)
        for use in uses:
            self._uses.setdefault(use.machine, []).append(use)

    def offers(self, machine: str) -> tuple[Offer, ...]:
        return tuple(self._offers.get(machine, ()))

    def uses(self, machine: str) -> tuple[Use, ...]:
        return tuple(self._uses.get(machine, ()))


def build_service_map(domains: Iterable[DomainView]) -> ServiceMap:
    views = [(d, dc, list(ms)) for d, dc, ms in domains]
    declared = offers_of(views)
    grants = _grants(views, declared)
    consumers: dict[tuple[str, str], set[str]] = {}
    for g in grants:
        consumers.setdefault((g.offer.machine, g.offer.name), set()).add(g.consumer)
    offers = [
        Offer(o.machine, o.name, o.protocol, o.port, o.socket, o.description, tuple(sorted(consumers.get(key, ()))))
        for key, o in declared.items()
    ]
    uses = [
        Use(
            g.consumer,
            g.offer.machine,
            g.offer.name,
            g.offer.protocol,
            g.offer.port,
            g.socket,
            VIA_POLICY if g.offer.port is not None else VIA_PROXY,
        )
        for g in grants
    ]
    return ServiceMap(offers, uses)


def service_map(infra_model: Infra) -> ServiceMap:
    """The services of a validated infra model (disabled domains included, like `Infra.machines`)."""
    return build_service_map(
        (d.name, d.consumes, [(m.name, m.services, m.consumes) for m in d.machines]) for d in infra_model.domains
    )


def data_views(data: dict[str, Any]) -> list[DomainView]:
    """The same view of the infra.yml-shaped mapping enrichment works on."""
    return [
        (
            dname,
            (domain or {}).get("consumes"),
            [
                (mname, (machine or {}).get("services"), (machine or {}).get("consumes"))
                for mname, machine in ((domain or {}).get("machines") or {}).items()
            ],
        )
        for dname, domain in (data.get("domains") or {}).items()
    ]
