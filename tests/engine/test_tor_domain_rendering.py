"""A Tor gateway domain in what anklume-tui renders (issue 19), without a daemon: the host ruleset's Tor lines
come before every accept (policies, the AI override, established flows), and so do the firewall VM's (its ICMP
accept would otherwise forward a client's pings); nft accepts them in a private namespace; the desired state
gives the domain's bridge the gateway as DHCP router and DNS server, and the gateway's nic its fixed MAC.
Their effect on real packets: tests/provision/test_tor_gateway_confines_clients.py."""

from __future__ import annotations

from anklume_tui.engine.isolation.firewall_vm import firewall_interfaces, render_firewall_vm_ruleset
from anklume_tui.engine.isolation.render import render_host_ruleset
from anklume_tui.engine.reconcile.desired import desired_state
from tests.engine.nft_helpers import infra_from, needs_nft, nft_check_in_fresh_netns

INFRA = """\
project_name: tordemo
global:
  addressing: {}
domains:
  tor:
    trust_level: untrusted
    tor_gateway: tor-gw
    machines:
      tor-gw: {roles: [tor_gateway]}
      tor-cl: {}
  ai-tools:
    machines:
      gpu-server: {}
network_policies:
  - {description: "the gateway reaches the AI tools", from: tor-gw, to: ai-tools, ports: [11434]}
"""
BRIDGES = ["net-ai-tools", "net-tor"]
FORWARD = [
    '# Tor domain on "net-tor": only its gateway 10.140.0.1 crosses the bridge',
    'iifname "net-tor" meta nfproto != ipv4 drop',
    'oifname "net-tor" meta nfproto != ipv4 drop',
    'iifname "net-tor" oifname != "net-tor" ip saddr != 10.140.0.1 drop',
    'oifname "net-tor" iifname != "net-tor" ip daddr != 10.140.0.1 drop',
    'ip saddr 10.140.0.0/24 ip saddr != 10.140.0.1 oifname != "net-tor" drop',
]
INPUT = [
    '# Tor domain on "net-tor": its clients reach the host for DHCP only',
    'iifname "net-tor" meta nfproto != ipv4 drop',
    'iifname "net-tor" ip saddr != 10.140.0.1 udp sport 68 udp dport 67 accept',
    'iifname "net-tor" ip saddr != 10.140.0.1 drop',
]


def chains(text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    current: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("chain "):
            current = found.setdefault(line.split()[1], [])
        elif line not in ("}", ""):
            current.append(line)
    return found


def test_the_tor_lines_come_before_every_accept_even_with_the_ai_override_on_the_tor_domain(tmp_path):
    infra = infra_from(INFRA, tmp_path)
    for override in (None, "tor"):
        rendered = chains(render_host_ruleset(infra, BRIDGES, override))
        forward, host_input = rendered["isolation"], rendered["host-input"]
        assert forward[2 : 2 + len(FORWARD)] == FORWARD, forward
        assert host_input[1 : 1 + len(INPUT)] == INPUT, host_input
        assert not [line for line in forward[: 2 + len(FORWARD)] if line.endswith("accept")]


def test_a_tor_domain_whose_gateway_has_no_address_lets_nothing_cross_its_bridge(tmp_path):
    infra = infra_from(INFRA, tmp_path)
    [tor] = [d for d in infra.domains if d.name == "tor"]
    gateway = tor.machines[0].model_copy(update={"ip": None})
    no_address = tor.model_copy(update={"machines": [gateway, *tor.machines[1:]]})
    infra = infra.model_copy(update={"domains": [no_address if d is tor else d for d in infra.domains]})
    forward = chains(render_host_ruleset(infra, BRIDGES))["isolation"]
    assert 'iifname "net-tor" oifname != "net-tor" drop' in forward
    assert 'oifname "net-tor" iifname != "net-tor" drop' in forward


@needs_nft
def test_nft_accepts_the_ruleset_with_a_tor_domain(tmp_path):
    checked = nft_check_in_fresh_netns(render_host_ruleset(infra_from(INFRA, tmp_path), BRIDGES, "tor"), tmp_path)
    assert checked.returncode == 0, checked.stderr


def test_the_tor_bridge_tells_clients_but_not_the_gateway_to_route_and_resolve_through_the_gateway(tmp_path):
    state = desired_state(infra_from(INFRA, tmp_path))
    networks = {n.name: n.config for n in state.networks}
    instances = {i.name: i.devices for i in state.instances}
    mac = instances["tor-gw"]["eth0"]["hwaddr"]
    assert networks["net-tor"]["raw.dnsmasq"].splitlines() == [
        f"dhcp-mac=set:anklume-tor-gateway,{mac}",
        "dhcp-option=tag:!anklume-tor-gateway,option:router,10.140.0.1",
        "dhcp-option=tag:!anklume-tor-gateway,option:dns-server,10.140.0.1",
    ]
    again = {i.name: i.devices for i in desired_state(infra_from(INFRA, tmp_path)).instances}
    assert mac.startswith("00:16:3e:") and again["tor-gw"]["eth0"]["hwaddr"] == mac  # stable across applies
    assert instances["tor-gw"]["eth0"]["security.ipv4_filtering"] == "false"
    assert instances["tor-cl"]["eth0"]["security.ipv4_filtering"] == "true"
    assert "hwaddr" not in instances["tor-cl"]["eth0"]
    assert "raw.dnsmasq" not in networks["net-ai-tools"]


@needs_nft
def test_the_firewall_vm_forwards_nothing_of_a_tor_domains_clients_before_its_icmp_accept(tmp_path):
    text = INFRA.replace("  addressing: {}\n", "  addressing: {}\n  firewall_mode: vm\n")
    text = text.replace("domains:\n", "domains:\n  anklume:\n    trust_level: admin\n    machines: {}\n")
    infra = infra_from(text, tmp_path)
    interfaces = firewall_interfaces(infra)
    tor = next(i.name for i in interfaces if i.bridge == "net-tor")
    rendered = render_firewall_vm_ruleset(infra, interfaces)
    forward = chains(rendered)["forward"]
    assert forward[1:3] == [
        f'iifname "{tor}" ip saddr != 10.140.0.1 drop',
        f'oifname "{tor}" ip daddr != 10.140.0.1 drop',
    ]
    assert forward.index("meta l4proto icmp accept") > 2
    checked = nft_check_in_fresh_netns(rendered, tmp_path)
    assert checked.returncode == 0, checked.stderr
