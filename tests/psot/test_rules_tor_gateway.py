"""Tor gateway rules (issue 19, TG1-TG5): each fails on its node and passes once fixed."""

from __future__ import annotations

from .psot_helpers import infra, rule_case_tests, structural_findings


def tor(gateway: str = "tor-gw", gw_body: str = "{ip: 10.100.2.1, roles: [base_system, tor_gateway]}") -> str:
    return (
        f"tor:\n  subnet_id: 2\n  tor_gateway: {gateway}\n  machines:\n"
        f"    tor-gw: {gw_body}\n    tor-cl: {{ip: 10.100.2.2}}\n"
        "pro:\n  subnet_id: 1\n  machines:\n    pro-dev: {ip: 10.100.1.10}\n"
    )


CASES = [
    ("TG1", infra(domains=tor("pro-dev  # <-")), ("pro-dev  #", "tor-gw  #")),
    ("TG1", infra(domains=tor("nowhere  # <-")), ("nowhere  #", "tor-gw  #")),
    ("TG1", infra(domains=tor("[tor-gw]  # <-")), ("[tor-gw]  #", "tor-gw  #")),
    ("TG2", infra(domains=tor("tor-gw  # <-", "{roles: [tor_gateway]}")), ("{roles", "{ip: 10.100.2.1, roles")),
    ("TG3", infra(domains=tor("tor-gw  # <-", "{ip: 10.100.2.1}")), ("2.1}", "2.1, roles: [tor_gateway]}")),
    (
        "TG4",
        infra(domains=tor(), extra="network_policies:\n  - from: pro\n    to: tor-cl  # <-"),
        ("to: tor-cl", "to: tor-gw"),
    ),
    (
        "TG4",
        infra(domains=tor(), extra="network_policies:\n  - from: tor  # <-\n    to: host"),
        ("from: tor ", "from: tor-gw "),
    ),
    (
        "TG5",
        infra(domains="pro:\n  subnet_id: 1\n  machines:\n    pro-dev:\n      roles: [tor_gateway]  # <-"),
        ("[tor_gateway]", "[base_system]"),
    ),
]

test_rule_reports_an_error_on_the_offending_node, test_near_identical_valid_infra_passes_the_rule = rule_case_tests(
    CASES
)


def test_trust_zone_addressing_gives_the_gateway_its_address_so_tg2_does_not_apply(tmp_path):
    domains = "tor:\n  tor_gateway: tor-gw\n  machines:\n    tor-gw: {roles: [tor_gateway]}\n    tor-cl: {}\n"
    text = infra(global_="addressing: {}", domains=domains)
    assert [f.render() for f in structural_findings(tmp_path, text)] == []
