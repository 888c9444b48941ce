"""Network policies resolved into allow rules (SPEC §9.2), shared by the host and firewall-VM rulesets.

Pure: no IO. A domain means its whole bridge; a machine means its bridge and its single IP; `host`
means the host's input hook (host output is never filtered).
"""

from __future__ import annotations

from dataclasses import dataclass

from ...psot.constants import AI_TOOLS_DOMAIN
from ...psot.model import Infra, NetworkPolicy

HOST = "host"
AI_OVERRIDE_DESCRIPTION = "AI access override (dynamic)"


@dataclass(frozen=True)
class Endpoint:
    """One side of a rule: a bridge, and an IP when the policy named a machine."""

    domain: str
    bridge: str
    ip: str | None = None


@dataclass(frozen=True)
class ForwardRule:
    """Traffic from one bridge to another (the `isolation` chain)."""

    source: Endpoint
    destination: Endpoint
    protocol: str
    ports: tuple[int, ...] | None  # None: every port and protocol


@dataclass(frozen=True)
class HostRule:
    """Traffic from a bridge to the host itself (the `host-input` chain)."""

    source: Endpoint
    protocol: str
    ports: tuple[int, ...] | None


@dataclass(frozen=True)
class ResolvedPolicy:
    description: str
    forward: tuple[ForwardRule, ...] = ()
    host: tuple[HostRule, ...] = ()
    skipped: str | None = None  # why the policy yields no rule (a machine without a static IP)


class _NoStaticIp(Exception):
    def __init__(self, machine: str) -> None:
        super().__init__(machine)
        self.machine = machine


def _endpoint(infra: Infra, ref: str) -> Endpoint | None:
    """None for `host`; raises _NoStaticIp for a machine without an IP, KeyError for an unknown name."""
    if ref == HOST:
        return None
    for domain in infra.domains:
        if domain.name == ref:
            return Endpoint(domain.name, domain.network)
    for domain in infra.domains:
        for machine in domain.machines:
            if machine.name == ref:
                if not machine.ip:
                    raise _NoStaticIp(ref)
                return Endpoint(domain.name, domain.network, machine.ip)
    raise KeyError(f"network policy names unknown '{ref}' (the infra was not validated)")


def _ports(policy: NetworkPolicy) -> tuple[int, ...] | None:
    if policy.ports == "all":
        return None
    return tuple(dict.fromkeys(policy.ports))


def describe(policy: NetworkPolicy) -> str:
    text = policy.description or f"{policy.from_} -> {policy.to}"
    return " ".join(text.split())  # one line: it becomes an nft comment


def resolve_policy(infra: Infra, policy: NetworkPolicy) -> ResolvedPolicy:
    description = describe(policy)
    try:
        source, destination = _endpoint(infra, policy.from_), _endpoint(infra, policy.to)
    except _NoStaticIp as missing:
        return ResolvedPolicy(description, skipped=f"machine {missing.machine} has no static IP")
    protocol, ports = policy.protocol, _ports(policy)
    if destination is None:
        if source is None:
            return ResolvedPolicy(description, skipped="host to host")
        return ResolvedPolicy(description, host=(HostRule(source, protocol, ports),))
    if source is None:
        host = (HostRule(destination, protocol, ports),) if policy.bidirectional else ()
        return ResolvedPolicy(description, host=host, skipped=None if host else "traffic from the host is not filtered")
    rules = [ForwardRule(source, destination, protocol, ports)]
    if policy.bidirectional:
        rules.append(ForwardRule(destination, source, protocol, ports))
    return ResolvedPolicy(description, forward=tuple(rules))


def _reaches_ai_tools(policy: ResolvedPolicy) -> bool:
    return any(rule.destination.domain == AI_TOOLS_DOMAIN for rule in policy.forward)


def resolve_policies(infra: Infra, ai_override: str | None) -> list[ResolvedPolicy]:
    """Every policy in list order; with an AI override for domain D, the policies letting anything reach
    ai-tools are dropped (whole, both directions: exclusivity leaves no path in either way) and a
    bidirectional all-ports rule D <-> ai-tools is appended. The override has no default: a caller states
    the AI holder (`enforce.live_policies` reads the recorded one), so no decision forgets it."""
    resolved = [resolve_policy(infra, policy) for policy in infra.network_policies]
    if ai_override is None:
        return resolved
    holder = _endpoint(infra, ai_override)
    ai_tools = _endpoint(infra, AI_TOOLS_DOMAIN)
    if holder is None or ai_tools is None or holder.ip is not None:
        raise ValueError(f"AI override needs a domain, got '{ai_override}'")
    override = ResolvedPolicy(
        AI_OVERRIDE_DESCRIPTION,
        forward=(ForwardRule(holder, ai_tools, "tcp", None), ForwardRule(ai_tools, holder, "tcp", None)),
    )
    return [p for p in resolved if not _reaches_ai_tools(p)] + [override]
