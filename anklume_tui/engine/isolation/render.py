"""Text of the isolation rulesets (SPEC §9.1, §9.3): pure rendering, no IO (loading: `nftables.py`)."""

from __future__ import annotations

from ...psot.model import Infra
from .policy import ForwardRule, HostRule, ResolvedPolicy, resolve_policies

HEADER = "# anklume-tui network isolation (generated from infra.yml; do not edit: it is replaced as a whole)"


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


def render_host_ruleset(infra: Infra, bridges: list[str], ai_override: str | None = None) -> str:
    """The host's `table inet anklume` (SPEC §9.1) for these existing bridges, policies in list order."""
    bridges = sorted(bridges)
    policies = resolve_policies(infra, ai_override)
    isolation = [
        "type filter hook forward priority -1; policy accept;",
        "ct state established,related accept",
        "ct state invalid drop",
        *(f'iifname "{b}" oifname "{b}" accept' for b in bridges),
    ]
    for policy in policies:
        isolation += forward_block(policy)
    if len(bridges) >= 2:
        isolation.append(f"iifname {nft_set(bridges)} oifname {nft_set(bridges)} drop")
    host_input = ["type filter hook input priority -1; policy accept;"]
    if bridges:
        every = nft_set(bridges)
        host_input += [
            f"iifname {every} ct state established,related accept",
            f"iifname {every} udp dport {{ 53, 67 }} accept",
            f"iifname {every} tcp dport 53 accept",
            f"iifname {every} meta l4proto icmp accept",
        ]
    for policy in policies:
        if policy.host:
            host_input += [f"# {policy.description}", *(_host_line(rule) for rule in policy.host)]
    if bridges:
        host_input.append(f"iifname {nft_set(bridges)} drop")
    return table_text([HEADER], {"isolation": isolation, "host-input": host_input})


def table_text(head: list[str], chains: dict[str, list[str]]) -> str:
    lines = [*head, "table inet anklume", "delete table inet anklume", "table inet anklume {"]
    for name, body in chains.items():
        lines += [f"  chain {name} {{", *(f"    {line}" for line in body), "  }"]
    return "\n".join([*lines, "}"]) + "\n"
