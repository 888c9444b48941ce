"""Text of the isolation rulesets (SPEC §9.1, §9.3): pure rendering, no IO (loading: `nft.py`).

The host ruleset fails closed: its drops name our bridges by wildcard (`<prefix>net-*`), so a bridge made
after the ruleset was rendered (a half-finished apply, a domain added by hand) is cut off too; only the
accepts need the bridge list."""

from __future__ import annotations

import re

from ...psot.model import Infra
from .policy import ForwardRule, HostRule, ResolvedPolicy, resolve_policies
from .tor import TorDomain, tor_domains

HEADER = "# anklume-tui network isolation (generated from infra.yml; do not edit: it is replaced as a whole)"


_INTERFACE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,14}")  # a Linux interface name nft can quote safely
_PREFIX = re.compile(r"[A-Za-z0-9_.-]{0,8}")


def is_interface_name(name: str) -> bool:
    """Whether a name (a bridge Incus reported) may appear between quotes in an nft statement."""
    return _INTERFACE.fullmatch(name) is not None


def ours(prefix: str) -> str:
    """The quoted wildcard matching every bridge named like ours: `"<prefix>net-*"`."""
    if _PREFIX.fullmatch(prefix) is None:
        raise ValueError(f"unusable nesting prefix for an interface wildcard: {prefix!r}")
    return f'"{prefix}net-*"'


def _quoted(name: str) -> str:
    if not is_interface_name(name):
        raise ValueError(f"not an interface name: {name!r}")
    return f'"{name}"'


def nft_set(names: list[str]) -> str:
    return "{ " + ", ".join(f'"{n}"' for n in names) + " }"


def _match(protocol: str, ports: tuple[int, ...] | None) -> str:
    return "" if ports is None else f" {protocol} dport {{ {', '.join(map(str, ports))} }}"


def _forward_line(rule: ForwardRule, iface: dict[str, str] | None = None) -> str | None:
    """`iifname F oifname T [ip saddr] [ip daddr] [proto dport {...}] accept`; with `iface` (bridge → VM
    interface), None when a side has no interface there."""
    src, dst = rule.source.bridge, rule.destination.bridge
    if iface is not None:
        if src not in iface or dst not in iface:
            return None
        src, dst = iface[src], iface[dst]
    line = f'iifname "{src}" oifname "{dst}"'
    if rule.source.ip:
        line += f" ip saddr {rule.source.ip}"
    if rule.destination.ip:
        line += f" ip daddr {rule.destination.ip}"
    return line + _match(rule.protocol, rule.ports) + " accept"


def _host_line(rule: HostRule) -> str:
    line = f'iifname "{rule.source.bridge}"'
    if rule.source.ip:
        line += f" ip saddr {rule.source.ip}"
    return line + _match(rule.protocol, rule.ports) + " accept"


def forward_block(policy: ResolvedPolicy, iface: dict[str, str] | None = None) -> list[str]:
    """A policy's comment and accept rules for a forward chain (nothing for a host-only policy)."""
    if policy.host and not policy.forward:
        return []
    if policy.skipped:
        return [f"# {policy.description} (no rule: {policy.skipped})"]
    lines = [line for rule in policy.forward if (line := _forward_line(rule, iface)) is not None]
    return [f"# {policy.description}", *lines] if lines else []


def _established(policies: list[ResolvedPolicy]) -> list[str]:
    """Established and related traffic passes only between bridges a policy joins: a flow does not outlive
    the policy that let it start (ai-switch cuts the previous holder's open connections, SPEC §10.5)."""
    ways = {(r.source.bridge, r.destination.bridge) for p in policies for r in p.forward}
    ways |= {(b, a) for a, b in ways}
    lines = [f'ct state established,related iifname "{a}" oifname "{b}" accept' for a, b in sorted(ways) if a != b]
    return ["# established flows: only between bridges a policy joins", *lines] if lines else []


def render_host_ruleset(infra: Infra, bridges: list[str], ai_override: str | None = None) -> str:
    """The host's `table inet anklume` (SPEC §9.1): accepts for these existing bridges and the policies (list
    order), drops for every bridge named like ours, listed or not."""
    return _host_ruleset(infra.prefix, sorted(bridges), resolve_policies(infra, ai_override), tor_domains(infra))


def empty_host_ruleset(prefix: str = "") -> str:
    """The ruleset before any domain exists (what bootstrap persists for boot): no bridge accepted, so traffic
    between any two bridges named like ours is dropped."""
    return _host_ruleset(prefix, [], [], [])


def _tor_forward(tor: TorDomain) -> list[str]:
    """Before anything that accepts: only the gateway's IPv4 crosses a Tor domain's bridge, either way (a client
    that routes around the gateway, or a policy or AI override naming the domain, finds the packet dropped); and a
    client's address is dropped wherever it comes from (the firewall VM has a nic on every bridge)."""
    b, gateway = _quoted(tor.bridge), tor.gateway
    lines = [f"# Tor domain on {b}: only its gateway {gateway or '(none)'} crosses the bridge"]
    lines += [f"iifname {b} meta nfproto != ipv4 drop", f"oifname {b} meta nfproto != ipv4 drop"]
    if gateway is None:
        return [*lines, f"iifname {b} oifname != {b} drop", f"oifname {b} iifname != {b} drop"]
    return [
        *lines,
        f"iifname {b} oifname != {b} ip saddr != {gateway} drop",
        f"oifname {b} iifname != {b} ip daddr != {gateway} drop",
        f"ip saddr {tor.subnet} ip saddr != {gateway} oifname != {b} drop",
    ]


def _tor_input(tor: TorDomain) -> list[str]:
    """A Tor domain's clients send the host nothing but DHCP (their address); no DNS, no ICMP, no policy."""
    b = _quoted(tor.bridge)
    others = f" ip saddr != {tor.gateway}" if tor.gateway else ""
    return [
        f"# Tor domain on {b}: its clients reach the host for DHCP only",
        f"iifname {b} meta nfproto != ipv4 drop",
        f"iifname {b}{others} udp sport 68 udp dport 67 accept",
        f"iifname {b}{others} drop",
    ]


def _host_ruleset(prefix: str, bridges: list[str], policies: list[ResolvedPolicy], tor: list[TorDomain]) -> str:
    every = ours(prefix)
    isolation = [
        "type filter hook forward priority -1; policy accept;",
        "ct state invalid drop",
        *(line for t in tor for line in _tor_forward(t)),
        *(f"iifname {_quoted(b)} oifname {_quoted(b)} accept" for b in bridges),
        *_established(policies),
    ]
    for policy in policies:
        isolation += forward_block(policy)
    isolation.append(f"iifname {every} oifname {every} drop")
    host_input = [
        "type filter hook input priority -1; policy accept;",
        *(line for t in tor for line in _tor_input(t)),
        f"iifname {every} ct state established,related accept",
        f"iifname {every} udp dport {{ 53, 67 }} accept",
        f"iifname {every} tcp dport 53 accept",
        f"iifname {every} meta l4proto icmp accept",
    ]
    for policy in policies:
        if policy.host:
            host_input += [f"# {policy.description}", *(_host_line(rule) for rule in policy.host)]
    host_input.append(f"iifname {every} drop")
    return table_text([HEADER], {"isolation": isolation, "host-input": host_input})


def table_text(head: list[str], chains: dict[str, list[str]]) -> str:
    lines = [*head, "table inet anklume", "delete table inet anklume", "table inet anklume {"]
    for name, body in chains.items():
        lines += [f"  chain {name} {{", *(f"    {line}" for line in body), "  }"]
    return "\n".join([*lines, "}"]) + "\n"
