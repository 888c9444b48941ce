"""Rules on declared smoke checks (issue 22, K1-K5): each fails on its node and passes once fixed."""

from __future__ import annotations

from anklume_tui.psot.checks import parse_checks

from .psot_helpers import infra, rule_case_tests


def checks(body: str) -> str:
    """An infra whose machine pro-dev declares `checks:` as `body` (YAML lines under the key)."""
    lines = "\n".join("      " + line for line in body.strip("\n").splitlines())
    head = "pro:\n  subnet_id: 1\n  machines:\n    pro-dev:\n      ip: 10.100.1.10\n      checks:\n"
    return infra(domains=f"{head}{lines}\n    pro-web:\n      ip: 10.100.1.11\n")


# (rule, infra text with the offending line tagged `# <-`, (old, new) turning it valid)
CASES = [
    ("K1", checks("  command: [hostname]  # <-"), ("  command: [hostname]  # <-", "- command: [hostname]  # <-")),
    ("K1", checks("- true  # <-"), ("- true  # <-", "- command: [hostname]  # <-")),
    ("K2", checks("- name: nothing to run  # <-"), ("- name: nothing", "- tcp: 22\n          name: nothing")),
    ("K2", checks("- tcp: 22  # <-\n  http: http://localhost/"), ("\n          http: http://localhost/", "")),
    ("K3", checks("- command: sh -c true  # <-"), ("sh -c true", "[sh, -c, 'true']")),
    ("K3", checks("- command: [hostname]\n  exit: 300  # <-"), ("300", "1")),
    ("K3", checks("- tcp: 70000  # <-"), ("70000", "7000")),
    ("K3", checks("- http: localhost:80  # <-"), ("localhost:80", "http://localhost:80/")),
    ("K3", checks("- http: http://localhost/\n  status: 42  # <-"), ("42", "204")),
    ("K3", checks("- command: [hostname]\n  from: pro-web  # <-"), ("\n          from: pro-web  # <-", "")),
    ("K4", checks("- tcp: 22\n  from: nowhere  # <-"), ("nowhere", "pro-web")),
    ("K5", checks("- tcp: 22\n  port: 22  # <-"), ("\n          port: 22  # <-", "")),
]


test_rule_reports_an_error_on_the_offending_node, test_near_identical_valid_infra_passes_the_rule = rule_case_tests(
    CASES
)


def test_checks_are_parsed_with_their_defaults_and_a_name_saying_what_they_do():
    found, problems = parse_checks(
        [{"command": ["hostname"], "output": "web"}, {"tcp": 80, "from": "cli"}, {"http": "http://x/"}], {"cli"}
    )
    assert problems == []
    assert [(c.name, c.kind, c.exit, c.status, c.source) for c in found] == [
        ("hostname", "command", 0, 200, None),
        ("tcp localhost:80 from cli", "tcp", 0, 200, "cli"),
        ("http http://x/", "http", 0, 200, None),
    ]
