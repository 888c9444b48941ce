"""Host-context rules (PL1, H1, W1) and warnings (W2, W3, W4, W7, W8, W11, W13)."""

from __future__ import annotations

import dataclasses
from ipaddress import IPv4Network

import pytest

from anklume_tui.psot import known_keys
from anklume_tui.psot.context import HostContext, HostNetwork
from anklume_tui.psot.validate import collect_warnings, validate_host
from anklume_tui.psot.validate.warnings import NOT_IMPLEMENTED as NOT_IMPLEMENTED_KEYS

from .psot_helpers import assert_flags, infra, load_text, of_rule

NESTED_LXC = HostContext(vm_nested=False)


def privileged(type_line: str = "", value: str = '"true"') -> str:
    return infra(
        domains="pro:\n  subnet_id: 1\n  machines:\n    pro-dev:\n"
        f"      {type_line}\n      config:\n        security.privileged: {value}  # <-"
    )


def hosts(*pairs: tuple[str, str], level: int | None = None) -> HostContext:
    networks = tuple(HostNetwork(name, IPv4Network(net)) for name, net in pairs)
    return HostContext(absolute_level=level, host_networks=networks)


def host_findings(tmp_path, text: str, ctx: HostContext):
    loaded = load_text(tmp_path, text)
    return validate_host(loaded.data, loaded.source, ctx)


def warnings_of(tmp_path, text: str):
    loaded = load_text(tmp_path, text)
    return collect_warnings(loaded.data, loaded.source, HostContext())


@pytest.mark.parametrize("value", ['"true"', "TRUE", "true", '"True"'])
def test_privileged_lxc_is_an_error_without_a_vm_in_the_chain(tmp_path, value):
    text = privileged(value=value)
    pl1 = assert_flags(host_findings(tmp_path, text, NESTED_LXC), "PL1", "error", text)
    assert pl1.message == ("Machine 'pro-dev': privileged LXC forbidden when vm_nested=false; use a VM or enable YOLO")


@pytest.mark.parametrize(
    ("text", "ctx"),
    [
        (privileged("type: vm"), NESTED_LXC),
        (privileged(value='"false"'), NESTED_LXC),
        (privileged(), HostContext(vm_nested=None)),
        (privileged(), HostContext(vm_nested=True)),
    ],
    ids=["vm", "not-privileged", "nesting-unknown", "vm-in-chain"],
)
def test_privileged_lxc_passes_when_a_vm_isolates_it_or_nesting_is_unknown(tmp_path, text, ctx):
    assert host_findings(tmp_path, text, ctx) == []


def test_yolo_turns_privileged_lxc_into_a_warning(tmp_path):
    text = privileged()
    findings = host_findings(tmp_path, text, HostContext(vm_nested=False, yolo=True))
    assert not of_rule(findings, "PL1")
    assert_flags(findings, "W1", "warning", text)


SUBNET_1 = infra(domains="pro:\n  subnet_id: 1  # <-")


def test_domain_subnet_overlapping_a_host_interface_is_a_conflict(tmp_path):
    h1 = assert_flags(host_findings(tmp_path, SUBNET_1, hosts(("eth0", "10.100.0.0/16"))), "H1", "error", SUBNET_1)
    assert h1.message == (
        "SUBNET CONFLICT: Domain 'pro' uses 10.100.1.0/24, overlaps host interface eth0; "
        "change zone_base / base_subnet / subnet_id"
    )


@pytest.mark.parametrize(
    "ctx",
    [
        hosts(("eth0", "192.168.1.0/24")),
        hosts(("lo", "10.100.1.0/24")),
        hosts(("net-pro", "10.100.1.0/24")),
        hosts(("002-net-pro", "10.100.1.0/24"), level=2),
        HostContext(host_networks=None),
        HostContext(host_networks=(HostNetwork("eth0", IPv4Network("10.100.1.0/24")),), skip_subnet_check=True),
    ],
    ids=["no-overlap", "loopback", "own-bridge", "own-prefixed-bridge", "not-gathered", "skipped"],
)
def test_host_subnet_check_ignores_own_bridges_loopback_and_can_be_off(tmp_path, ctx):
    assert host_findings(tmp_path, SUBNET_1, ctx) == []


def test_disabled_domains_count_for_host_subnet_conflicts(tmp_path):
    text = infra(domains="lab:\n  enabled: false\n  subnet_id: 7  # <-")
    assert_flags(host_findings(tmp_path, text, hosts(("wlan0", "10.100.7.0/24"))), "H1", "error", text)


def test_another_levels_bridge_is_still_a_conflict(tmp_path):
    findings = host_findings(tmp_path, SUBNET_1, hosts(("001-net-pro", "10.100.1.0/24"), level=2))
    assert [f.rule for f in findings] == ["H1"]


TWO_GPU_SHARED = infra(
    "gpu_policy: shared  # <-",
    "pro:\n  subnet_id: 1\n  machines:\n    a: {gpu: true}\n    b: {gpu: true}",
)
OPENCLAW = infra(
    domains="pro:\n  subnet_id: 1\n  machines:\n    pro-claw:\n      roles:\n        - openclaw_server  # <-"
)
DISABLED_REF = infra(
    domains="pro: {subnet_id: 1}\nlab: {subnet_id: 2, enabled: false}",
    extra="network_policies:\n  - from: lab  # <-\n    to: pro",
)
DHCP_REF = infra(
    domains="pro:\n  subnet_id: 1\n  machines:\n    pro-dev: {}",
    extra="network_policies:\n  - from: host\n    to: pro-dev  # <-",
)
TYPO = infra("gpu_polcy: shared  # <-")
INTERCEPTED = infra(
    domains="lab:\n  subnet_id: 1\n  machines:\n    lab-node:\n      config:\n"
    '        security.nesting: "true"\n        security.syscalls.intercept.mknod: "true"  # <-'
)

WARNING_CASES = [
    ("W2", TWO_GPU_SHARED, ("b: {gpu: true}", "b: {gpu: false}")),
    ("W3", DISABLED_REF, ("enabled: false", "enabled: true")),
    ("W4", OPENCLAW, ("domains:", "network_policies: [{from: pro, to: host}]\ndomains:")),
    ("W7", TYPO, ("polcy", "policy")),
    ("W8", DHCP_REF, ("pro-dev: {}", "pro-dev: {ip: 10.100.1.3}")),
    ("W11", INTERCEPTED, ('intercept.mknod: "true"', 'intercept.mknod: "false"')),
]


@pytest.mark.parametrize(("rule", "text", "fix"), WARNING_CASES, ids=[c[0] for c in WARNING_CASES])
def test_warning_is_reported_on_the_offending_node(tmp_path, rule, text, fix):
    assert_flags(warnings_of(tmp_path, text), rule, "warning", text)


@pytest.mark.parametrize(("rule", "text", "fix"), WARNING_CASES, ids=[c[0] for c in WARNING_CASES])
def test_near_identical_infra_raises_no_warning(tmp_path, rule, text, fix):
    fixed = text.replace(*fix)
    assert fixed != text
    assert warnings_of(tmp_path, fixed) == []


def test_unknown_key_suggests_the_closest_known_key(tmp_path):
    [w7] = warnings_of(tmp_path, TYPO)
    assert w7.message == "unknown key 'gpu_polcy' in global; did you mean 'gpu_policy'?"


def test_unknown_key_without_a_close_match_has_no_suggestion(tmp_path):
    text = infra(domains="pro:\n  subnet_id: 1\n  machines:\n    pro-dev: {zzz: 1}")
    [w7] = warnings_of(tmp_path, text)
    assert w7.message == "unknown key 'zzz' in domains.pro.machines.pro-dev"


def test_free_incus_keys_pass_silently(tmp_path):
    text = infra(
        domains="pro:\n  subnet_id: 1\n"
        "  profiles:\n    p: {config: {any.key: 1}, devices: {d: {type: disk, whatever: 1}}}\n"
        "  machines:\n    pro-dev:\n"
        "      config: {limits.cpu: '2', user.custom: x}\n      devices: {d: {type: nic, foo: bar}}",
    )
    assert warnings_of(tmp_path, text) == []


def test_a_key_reserved_for_what_is_not_implemented_says_it_has_no_effect(tmp_path, monkeypatch):
    """W13 (SPEC §3.10): the keys SPEC reserved are all implemented now (desktop, file_portal, export_apps);
    the warning stays for the next one, shown on a domain key reserved here for the test."""
    reserved = dataclasses.replace(known_keys.DOMAIN, auxiliary=frozenset({"wallpaper"}))
    schema = dataclasses.replace(
        known_keys.INFRA, known={**known_keys.INFRA.known, "domains": known_keys.Named(reserved)}
    )
    monkeypatch.setattr(known_keys, "INFRA", schema)
    monkeypatch.setitem(NOT_IMPLEMENTED_KEYS, "wallpaper", "a wallpaper per domain")
    text = infra(domains="pro:\n  subnet_id: 1\n  wallpaper: x  # <-")
    w13 = assert_flags(warnings_of(tmp_path, text), "W13", "warning", text)
    assert w13.message == (
        "'wallpaper' in domains.pro has no effect: a wallpaper per domain is not implemented yet, so nothing is "
        "done with it"
    )


def test_machines_get_addresses_in_zone_mode_so_policies_on_them_do_not_warn(tmp_path):
    text = infra(
        "addressing: {}",
        "pro:\n  machines:\n    pro-dev: {}",
        "network_policies: [{from: host, to: pro-dev}]",
    )
    assert warnings_of(tmp_path, text) == []


LONG_DOMAIN = infra(domains="research-lab:  # <-\n  subnet_id: 1")


def test_a_bridge_name_longer_than_linux_allows_is_an_error_naming_the_limit(tmp_path):
    d11 = assert_flags(host_findings(tmp_path, LONG_DOMAIN, HostContext()), "D11", "error", LONG_DOMAIN)
    assert d11.message == (
        "Domain 'research-lab': its bridge 'net-research-lab' has 16 characters and Linux allows 15; "
        "shorten the domain name to 11 characters or fewer"
    )


def test_the_nesting_prefix_counts_in_the_bridge_name(tmp_path):
    text = infra(domains="ai-tools-x:  # <-\n  subnet_id: 1")
    assert host_findings(tmp_path, text, HostContext()) == []  # net-ai-tools-x: 14
    d11 = assert_flags(host_findings(tmp_path, text, HostContext(absolute_level=1)), "D11", "error", text)
    assert "'001-net-ai-tools-x' has 18 characters" in d11.message and "to 7 characters" in d11.message
    off = infra(global_="nesting_prefix: false", domains="ai-tools-x:\n  subnet_id: 1")
    assert host_findings(tmp_path, off, HostContext(absolute_level=1)) == []
