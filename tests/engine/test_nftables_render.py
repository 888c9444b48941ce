"""The isolation rulesets as text (SPEC §9.1–9.3): golden output, policy resolution, the AI override, the
firewall VM, and every rendering accepted by `nft -c` in a private network namespace.

Virtual machines cannot run on these test machines (no vhost_vsock), so the firewall VM is proven up to
what it would load: its ruleset passes `nft -c` and its multi-NIC profile is checked as data."""

from __future__ import annotations

import pytest

from anklume_tui.engine.isolation.nft import (
    check_ruleset,
    firewall_interfaces,
    firewall_profile_devices,
    render_firewall_vm_ruleset,
    render_host_ruleset,
)
from tests.engine.nft_helpers import infra_from, needs_nft, nft_check_in_fresh_netns

POLICIES = """\
network_policies:
  - description: "dev-a to work-a web"
    from: dev-a
    to: work-a
    ports: [8080, 8443]
  - description: "DNS both ways"
    from: work
    to: dev
    ports: [53]
    protocol: udp
    bidirectional: true
  - from: work-b
    to: host
    ports: [22]
  - description: host pushes to dev
    from: host
    to: dev
    bidirectional: true
    ports: [9000]
  - from: host
    to: host
  - from: dev-dhcp
    to: work
  - description: legacy
    from: old
    to: work
    ports: [80]
"""

DOMAINS = """\
domains:
  work:
    subnet_id: 0
    machines:
      work-a: {ip: 10.120.0.1}
      work-b: {ip: 10.120.0.2}
  dev:
    subnet_id: 1
    machines:
      dev-a: {ip: 10.120.1.1}
      dev-dhcp: {}
  old:
    enabled: false
    subnet_id: 3
"""

INFRA = 'project_name: iso\nglobal:\n  base_subnet: "10.120"\n' + DOMAINS + POLICIES

AI_INFRA = (
    'project_name: iso-ai\nglobal:\n  base_subnet: "10.120"\n  ai_access_policy: exclusive\n'
    "  ai_access_default: work\n"
    + DOMAINS
    + "  ai-tools:\n    subnet_id: 2\n    machines:\n      gpu-server: {ip: 10.120.2.1}\n"
    + "  anklume:\n    subnet_id: 4\n"
    + POLICIES
    + "  - description: dev reaches the GPU server's API\n    from: dev\n    to: gpu-server\n    ports: [11434]\n"
)

GOLDEN_NESTED = """\
# anklume-tui network isolation (generated from infra.yml; do not edit: it is replaced as a whole)
table inet anklume
delete table inet anklume
table inet anklume {
  chain isolation {
    type filter hook forward priority -1; policy accept;
    ct state invalid drop
    iifname "001-net-dev" oifname "001-net-dev" accept
    iifname "001-net-work" oifname "001-net-work" accept
    # established flows: only between bridges a policy joins
    ct state established,related iifname "001-net-dev" oifname "001-net-work" accept
    ct state established,related iifname "001-net-old" oifname "001-net-work" accept
    ct state established,related iifname "001-net-work" oifname "001-net-dev" accept
    ct state established,related iifname "001-net-work" oifname "001-net-old" accept
    # dev-a to work-a web
    iifname "001-net-dev" oifname "001-net-work" ip saddr 10.120.1.1 ip daddr 10.120.0.1 tcp dport { 8080, 8443 } accept
    # DNS both ways
    iifname "001-net-work" oifname "001-net-dev" udp dport { 53 } accept
    iifname "001-net-dev" oifname "001-net-work" udp dport { 53 } accept
    # host -> host (no rule: host to host)
    # dev-dhcp -> work (no rule: machine dev-dhcp has no static IP)
    # legacy
    iifname "001-net-old" oifname "001-net-work" tcp dport { 80 } accept
    iifname "001-net-*" oifname "001-net-*" drop
  }
  chain host-input {
    type filter hook input priority -1; policy accept;
    iifname "001-net-*" ct state established,related accept
    iifname "001-net-*" udp dport { 53, 67 } accept
    iifname "001-net-*" tcp dport 53 accept
    iifname "001-net-*" meta l4proto icmp accept
    # work-b -> host
    iifname "001-net-work" ip saddr 10.120.0.2 tcp dport { 22 } accept
    # host pushes to dev
    iifname "001-net-dev" tcp dport { 9000 } accept
    iifname "001-net-*" drop
  }
}
"""


@pytest.fixture
def nested(tmp_path):
    return infra_from(INFRA, tmp_path, level=1)


@pytest.fixture
def ai_infra(tmp_path):
    return infra_from(AI_INFRA, tmp_path)


def test_host_ruleset_matches_the_golden_text_with_the_nesting_prefix(nested):
    assert nested.prefix == "001-"
    assert render_host_ruleset(nested, ["001-net-work", "001-net-dev"]) == GOLDEN_NESTED


def test_the_drops_name_every_bridge_of_this_prefix_by_wildcard_whatever_the_bridge_list(nested, tmp_path):
    drops = [
        '    iifname "001-net-*" oifname "001-net-*" drop',
        '    iifname "001-net-*" udp dport { 53, 67 } accept',
        '    iifname "001-net-*" drop',
    ]
    for bridges in ([], ["001-net-work"], ["001-net-work", "001-net-dev"]):
        lines = render_host_ruleset(nested, bridges).splitlines()
        assert all(line in lines for line in drops), bridges
        assert "iifname {" not in "\n".join(lines)
    assert 'iifname "net-*"' not in render_host_ruleset(nested, [])  # the nesting prefix is part of "ours"
    level0 = render_host_ruleset(infra_from(INFRA, tmp_path), [])
    assert 'iifname "net-*" oifname "net-*" drop' in level0 and "001-" not in level0
    assert render_host_ruleset(nested, ["001-net-work", "001-net-dev"]) == render_host_ruleset(
        nested, ["001-net-dev", "001-net-work"]
    )


def test_a_bridge_name_nft_could_not_quote_safely_is_refused(nested):
    with pytest.raises(ValueError, match="not an interface name"):
        render_host_ruleset(nested, ['001-net-x" accept #'])


def test_a_machine_reference_means_that_machine_only_and_a_domain_its_whole_bridge(nested):
    text = render_host_ruleset(nested, ["001-net-work", "001-net-dev"])
    machine_rule = next(line for line in text.splitlines() if "8080" in line)
    assert "ip saddr 10.120.1.1 ip daddr 10.120.0.1" in machine_rule
    domain_rules = [line for line in text.splitlines() if "udp dport { 53 } accept" in line]
    assert len(domain_rules) == 2 and not any("ip saddr" in line for line in domain_rules)


def test_ai_override_replaces_every_path_to_ai_tools_by_one_bidirectional_rule(ai_infra):
    bridges = ["net-ai-tools", "net-anklume", "net-dev", "net-work"]
    default = render_host_ruleset(ai_infra, bridges)
    assert "# AI access: work -> ai-tools (auto-created)" in default
    assert 'iifname "net-dev" oifname "net-ai-tools" ip daddr 10.120.2.1 tcp dport { 11434 } accept' in default
    switched = render_host_ruleset(ai_infra, bridges, ai_override="dev")
    isolation = switched.split("chain host-input")[0]
    assert "auto-created" not in isolation and "11434" not in isolation
    lines = isolation.splitlines()
    at = lines.index("    # AI access override (dynamic)")
    assert lines[at + 1 : at + 4] == [
        '    iifname "net-dev" oifname "net-ai-tools" accept',
        '    iifname "net-ai-tools" oifname "net-dev" accept',
        '    iifname "net-*" oifname "net-*" drop',
    ]
    assert 'oifname "net-work" tcp dport { 80 } accept' in isolation  # unrelated policies stay
    assert switched.split("chain host-input")[1] == default.split("chain host-input")[1]


def test_firewall_vm_interfaces_put_the_admin_bridge_first_then_the_others_sorted_and_fill_its_profile(ai_infra):
    interfaces = firewall_interfaces(ai_infra)
    assert [(i.name, i.bridge) for i in interfaces] == [
        ("eth0", "net-anklume"),
        ("eth1", "net-ai-tools"),
        ("eth2", "net-dev"),
        ("eth3", "net-work"),
    ]
    assert interfaces[3].as_vars() == {
        "name": "eth3",
        "bridge": "net-work",
        "subnet": "10.120.0.0/24",
        "gateway_ip": "10.120.0.253",
    }

    devices = firewall_profile_devices(interfaces)
    assert list(devices) == ["eth0", "eth1", "eth2", "eth3"]
    assert devices["eth0"] == {"type": "nic", "network": "net-anklume", "name": "eth0", "ipv4.address": "10.120.4.253"}


def test_firewall_vm_ruleset_has_policy_accepts_on_eth_names_and_a_logged_deny_per_interface(ai_infra):
    text = render_firewall_vm_ruleset(ai_infra, firewall_interfaces(ai_infra))
    assert (
        'iifname "eth2" oifname "eth3" ip saddr 10.120.1.1 ip daddr 10.120.0.1 tcp dport { 8080, 8443 } accept' in text
    )
    assert "22" not in text.split("chain input")[0].replace("10.120.", "")  # host policies skipped
    assert 'iifname "eth3" oifname { "eth0", "eth1", "eth2" } log prefix "FW-DENY-WORK: " drop' in text
    assert 'log prefix "FW-DENY-AI-TOOLS: " drop' in text
    assert "type filter hook forward priority filter; policy drop;" in text
    assert text.index("FW-DENY-") < text.index('log prefix "FW-DROP: " drop')


@needs_nft
def test_nft_accepts_every_rendered_ruleset_in_a_private_netns(nested, ai_infra, tmp_path):
    ai_bridges = ["net-ai-tools", "net-anklume", "net-dev", "net-work"]
    rulesets = {
        "nested": render_host_ruleset(nested, ["001-net-work", "001-net-dev"]),
        "one bridge": render_host_ruleset(nested, ["001-net-work"]),
        "no bridge": render_host_ruleset(nested, []),
        "ai default": render_host_ruleset(ai_infra, ai_bridges),
        "ai override": render_host_ruleset(ai_infra, ai_bridges, ai_override="dev"),
        "firewall vm": render_firewall_vm_ruleset(ai_infra, firewall_interfaces(ai_infra)),
        "firewall vm override": render_firewall_vm_ruleset(ai_infra, firewall_interfaces(ai_infra), "dev"),
    }
    for name, text in rulesets.items():
        assert check_ruleset(text) == [], name
        checked = nft_check_in_fresh_netns(text, tmp_path)
        assert checked.returncode == 0, f"{name}: {checked.stderr}"


@pytest.mark.parametrize(
    "text",
    [
        "flush ruleset\n",
        'include "/etc/nftables.d/*.nft"\n',
        "table inet incus\ndelete table inet incus\n",
        "table ip anklume { }\n",
        "table anklume { }\n",
        "delete table inet filter\n",
        "add rule inet incus fwd accept\n",
        "table inet anklume; flush ruleset\n",
    ],
)
def test_loading_refuses_text_that_touches_anything_but_table_inet_anklume(text):
    assert check_ruleset(text)


def test_the_rendered_ruleset_passes_the_safety_check(nested):
    assert check_ruleset(render_host_ruleset(nested, ["001-net-work", "001-net-dev"])) == []
