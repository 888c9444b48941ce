"""The ruleset inside the firewall VM (`firewall_mode: vm`, SPEC §9.3) and its interface list.

Pure text: the role `firewall_router` writes it to /etc/nftables.d/anklume-firewall.nft in the VM.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...psot.constants import ADMIN_DOMAIN, FIREWALL_HOST
from ...psot.model import Infra
from .policy import resolve_policies
from .render import forward_block, nft_set, table_text
from .tor import tor_domains


@dataclass(frozen=True)
class FirewallInterface:
    name: str  # eth<i> inside the VM
    bridge: str
    domain: str
    subnet: str  # <n>.0/24
    gateway_ip: str  # <n>.253: the VM's own address on that bridge

    def as_vars(self) -> dict[str, str]:
        """The entry of the role's interface list."""
        return {"name": self.name, "bridge": self.bridge, "subnet": self.subnet, "gateway_ip": self.gateway_ip}


def firewall_interfaces(infra: Infra) -> list[FirewallInterface]:
    """One NIC per enabled domain: eth0 on `<prefix>net-anklume`, then the other bridges sorted."""
    domains = sorted(infra.enabled_domains, key=lambda d: (d.name != ADMIN_DOMAIN, d.network))
    found = []
    for i, domain in enumerate(domains):
        network = domain.subnet.split("/")[0].rsplit(".", 1)[0]
        found.append(
            FirewallInterface(f"eth{i}", domain.network, domain.name, domain.subnet, f"{network}.{FIREWALL_HOST}")
        )
    return found


def firewall_profile_devices(interfaces: list[FirewallInterface]) -> dict[str, dict[str, str]]:
    """The multi-NIC profile of `anklume-firewall`: one NIC per bridge, with the VM's `.253` address."""
    return {
        i.name: {"type": "nic", "network": i.bridge, "name": i.name, "ipv4.address": i.gateway_ip} for i in interfaces
    }


def render_firewall_vm_ruleset(
    infra: Infra, interfaces: list[FirewallInterface], ai_override: str | None = None
) -> str:
    """Default-drop forwarding between the VM's NICs with the policy accepts (host policies skipped),
    a logged drop per interface towards the others, and a closed input chain."""
    iface = {i.bridge: i.name for i in interfaces}
    forward = ["type filter hook forward priority filter; policy drop;"]
    for tor in tor_domains(infra):
        if tor.bridge in iface:  # a Tor domain's clients get nothing through the VM (its ICMP accept included)
            name, keep = iface[tor.bridge], f" ip saddr != {tor.gateway}" if tor.gateway else ""
            forward += [f'iifname "{name}"{keep} drop', f'oifname "{name}"{keep.replace("saddr", "daddr")} drop']
    forward += [
        "ct state established,related accept",
        'ct state invalid log prefix "FW-INVALID: " drop',
        "meta l4proto icmp accept",
        "meta l4proto icmpv6 accept",
    ]
    for policy in resolve_policies(infra, ai_override):
        forward += forward_block(policy, iface)
    names = [i.name for i in interfaces]
    for interface in interfaces:
        others = [n for n in names if n != interface.name]
        if others:
            forward.append(
                f'iifname "{interface.name}" oifname {nft_set(others)} '
                f'log prefix "FW-DENY-{interface.domain.upper()}: " drop'
            )
    forward.append('log prefix "FW-DROP: " drop')
    chains = {
        "forward": forward,
        "input": [
            "type filter hook input priority filter; policy drop;",
            'iifname "lo" accept',
            "ct state established,related accept",
            "meta l4proto icmp accept",
            "meta l4proto icmpv6 accept",
            'log prefix "FW-INPUT-DROP: " drop',
        ],
        "output": ["type filter hook output priority filter; policy accept;"],
    }
    return table_text(["# anklume-tui firewall VM ruleset (generated; do not edit)"], chains)
