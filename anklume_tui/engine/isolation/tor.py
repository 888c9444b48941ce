"""Tor gateway domains (issue 19): which domains have one (what the rulesets confine), what a domain's bridge
tells DHCP clients, and the gateway's fixed MAC.

The clients of a domain with `tor_gateway` learn from the bridge's DHCP that their router and DNS server are
the gateway; the gateway itself, told apart by its MAC, keeps the bridge as its router. This is only how the
clients find the gateway: what confines them is the host ruleset (render.py) and the gateway's own rules.
Pure: no IO.
"""

from __future__ import annotations

import hashlib
from typing import NamedTuple

from ...psot.model import Domain, Infra, Machine

TAG = "anklume-tor-gateway"


def tor_gateway(domain: Domain) -> Machine | None:
    """The domain's gateway machine, when it names one that has an address."""
    for machine in domain.machines:
        if machine.name == domain.tor_gateway and machine.ip:
            return machine
    return None


class TorDomain(NamedTuple):
    bridge: str
    gateway: str | None  # the gateway's IP; None: nothing crosses the bridge
    subnet: str


def tor_domains(infra: Infra) -> list[TorDomain]:
    """Every domain with a `tor_gateway`, disabled ones too (fail closed)."""
    found = []
    for domain in infra.domains:
        if domain.tor_gateway is not None:
            gateway = tor_gateway(domain)
            found.append(TorDomain(domain.network, gateway.ip if gateway else None, domain.subnet))
    return found


def gateway_hwaddr(domain: Domain, machine: Machine) -> str:
    """A stable locally-administered MAC in Incus's 00:16:3e range, from the project and instance names."""
    digest = hashlib.sha256(f"{domain.project}/{machine.instance_name}".encode()).digest()
    return "00:16:3e:" + ":".join(f"{b:02x}" for b in digest[:3])


def dhcp_options(domain: Domain) -> dict[str, str]:
    """The bridge's `raw.dnsmasq` for a Tor domain: router and DNS server = the gateway, except for the gateway."""
    gateway = tor_gateway(domain)
    if gateway is None:
        return {}
    lines = [
        f"dhcp-mac=set:{TAG},{gateway_hwaddr(domain, gateway)}",
        f"dhcp-option=tag:!{TAG},option:router,{gateway.ip}",
        f"dhcp-option=tag:!{TAG},option:dns-server,{gateway.ip}",
    ]
    return {"raw.dnsmasq": "\n".join(lines)}
