"""Domain and machine rules (SPEC §4.3–4.4): each fails on its node and passes once fixed."""

from __future__ import annotations

from anklume_tui.psot.validate import validate_structure

from .psot_helpers import infra, load_text, of_rule, rule_case_tests

ZONES = "addressing: {}"


def one_machine(line: str) -> str:
    """The default domain with one more line in pro-dev's body."""
    return f"pro:\n  subnet_id: 1\n  machines:\n    pro-dev:\n      ip: 10.100.1.10\n      {line}\n"


CASES = [
    ("D1", infra(domains="Pro_1:  # <-\n  subnet_id: 1"), ("Pro_1", "pro-1")),
    ("D1", infra(domains="42:  # <-\n  subnet_id: 1"), ("42:", "p42:")),
    ("D2", infra(domains="pro:\n  subnet_id: 1\n  enabled: nope  # <-"), ("nope", "false")),
    ("D3", infra(domains="pro:  # <-\n  description: x"), ("description: x", "subnet_id: 4")),
    ("D4", infra(domains="pro:\n  subnet_id: true  # <-"), ("true", "2")),
    ("D4", infra(domains="pro:\n  subnet_id: 255  # <-"), ("255", "254")),
    ("D4", infra(ZONES, "pro:\n  subnet_id: -1  # <-"), ("-1", "0")),
    ("D5", infra(domains="pro: {subnet_id: 1}\nperso:\n  subnet_id: 1  # <-"), ("1  #", "2  #")),
    (
        "D6",
        infra(
            ZONES,
            "pro: {subnet_id: 0, trust_level: trusted}\nperso:\n  trust_level: trusted\n  subnet_id: 0  # <-",
        ),
        ("trust_level: trusted\n    subnet_id", "trust_level: untrusted\n    subnet_id"),
    ),
    ("D7", infra(domains="pro:\n  subnet_id: 1\n  ephemeral: 1  # <-"), ("1  #", "true  #")),
    ("D8", infra(domains="pro:\n  subnet_id: 1\n  trust_level: secret  # <-"), ("secret", "trusted")),
    ("D9", infra(domains="pro:\n  subnet_id: 1\n  ai_provider: remote  # <-"), ("remote", "cloud")),
    ("D10", infra(domains="pro:\n  subnet_id: 1\n  ai_sanitize: 1  # <-"), ("1  #", "always  #")),
    ("D10", infra(domains="pro:\n  subnet_id: 1\n  ai_sanitize: never  # <-"), ("never", "false")),
    ("M1", infra(domains="pro:\n  subnet_id: 1\n  machines:\n    Pro_Dev: {}  # <-"), ("Pro_Dev", "pro-dev")),
    (
        "M2",
        infra(
            domains="pro:\n  subnet_id: 1\n  machines: {web: {}}\n"
            "perso:\n  subnet_id: 2\n  machines:\n    web: {}  # <-"
        ),
        ("    web: {}  #", "    web2: {}  #"),
    ),
    ("M3", infra(domains=one_machine("type: container  # <-")), ("container", "vm")),
    (
        "M4",
        infra(domains=one_machine("") + "    pro-web:\n      ip: 10.100.1.10  # <-"),
        ("10.100.1.10  #", "10.100.1.11  #"),
    ),
    (
        "M5",
        infra(domains="pro:\n  subnet_id: 1\n  machines:\n    pro-dev: {ip: 10.100.2.10}  # <-"),
        ("2.10", "1.10"),
    ),
    ("M6", infra(domains=one_machine("ephemeral: nah  # <-")), ("nah", "false")),
    ("M7", infra(domains=one_machine("profiles: [default, nvidia]  # <-")), (", nvidia", "")),
    ("M7", infra(domains=one_machine("profiles: default  # <-")), ("default  #", "[default]  #")),
    ("M8", infra(domains=one_machine("boot_autostart: later  # <-")), ("later", "true")),
    ("M8", infra(domains=one_machine("boot_priority: 101  # <-")), ("101", "100")),
    ("M8", infra(domains=one_machine("boot_priority: true  # <-")), ("true", "0")),
    ("M9", infra(domains=one_machine("snapshots_schedule: 0 2 * *  # <-")), ("* *  #", "* * *  #")),
    ("M9", infra(domains=one_machine("snapshots_expiry: 30 days  # <-")), ("30 days", "30d")),
    ("M10", infra(domains=one_machine("weight: 0  # <-")), ("0  #", "3  #")),
    ("M10", infra(domains=one_machine("weight: true  # <-")), ("true", "1")),
    (
        "M11",
        infra(domains="pro:\n  subnet_id: 1\n  machines:\n    pro-dev: {ip: 10.100.1}  # <-"),
        ("1}", "1.9}"),
    ),
    (
        "M11",
        infra(domains="pro:\n  subnet_id: 1\n  machines:\n    pro-dev: {ip: 167772161}  # <-"),
        ("167772161", "10.100.1.9"),
    ),
    (
        "M12",
        infra(domains="pro:\n  subnet_id: 1\n  machines:\n    pro-dev: {ip: 10.100.1.254}  # <-"),
        ("254", "253"),
    ),
    (
        "M12",
        infra(domains="pro:\n  subnet_id: 1\n  machines:\n    pro-dev: {ip: 10.100.1.0}  # <-"),
        (".0}", ".1}"),
    ),
    ("R2", infra(domains=one_machine("config: [a]  # <-")), ("[a]", "{limits.cpu: '2'}")),
    ("R2", infra(domains="pro:\n  subnet_id: 1\n  machines:\n    pro-dev: [x]  # <-"), ("[x]", "{}")),
]


test_rule_reports_an_error_on_the_offending_node, test_near_identical_valid_infra_passes_the_rule = rule_case_tests(
    CASES
)


def test_unparsable_ip_skips_the_other_ip_rules(tmp_path):
    text = infra(domains="pro:\n  subnet_id: 1\n  machines:\n    a: {ip: 10.200.1.300}\n    b: {ip: 10.200.1.300}")
    loaded = load_text(tmp_path, text)
    assert {f.rule for f in validate_structure(loaded.data, loaded.source)} == {"M11"}


def test_same_subnet_id_in_different_zones_is_fine(tmp_path):
    text = infra(ZONES, "pro: {subnet_id: 0, trust_level: trusted}\nlab: {subnet_id: 0}")
    loaded = load_text(tmp_path, text)
    assert validate_structure(loaded.data, loaded.source) == []


def test_zone_mode_checks_explicit_ip_against_the_computed_subnet(tmp_path):
    text = infra(
        ZONES,
        "perso: {subnet_id: 0, trust_level: trusted}\npro:\n  trust_level: trusted\n"
        "  machines: {pro-web: {ip: 10.110.0.2}}",
    )
    loaded = load_text(tmp_path, text)
    [m5] = validate_structure(loaded.data, loaded.source)
    assert m5.message == "Machine 'pro-web': IP 10.110.0.2 not in subnet 10.110.1.0/24"


def test_duplicate_ip_names_the_first_owner(tmp_path):
    text = infra(domains="pro:\n  subnet_id: 1\n  machines:\n    a: {ip: 10.100.1.5}\n    b: {ip: 10.100.1.5}")
    loaded = load_text(tmp_path, text)
    [m4] = of_rule(validate_structure(loaded.data, loaded.source), "M4")
    assert m4.message == "Machine 'b': IP 10.100.1.5 already used by 'a'"


def test_domain_messages_follow_the_spec_gists(tmp_path):
    text = infra(domains="Bad_Name:\n  subnet_id: 1\nok: {}\nother: {subnet_id: 1}")
    loaded = load_text(tmp_path, text)
    messages = {f.rule: f.message for f in validate_structure(loaded.data, loaded.source)}
    assert messages == {
        "D1": "Domain 'Bad_Name': invalid name (lowercase letters, digits, inner hyphens)",
        "D3": "Domain 'ok': missing subnet_id",
        "D5": "Domain 'other': subnet_id 1 already used by 'Bad_Name'",
    }


def test_undefined_profile_message_names_profile_and_domain(tmp_path):
    loaded = load_text(tmp_path, infra(domains=one_machine("profiles: [nvidia]")))
    [m7] = validate_structure(loaded.data, loaded.source)
    assert m7.message == "Machine 'pro-dev': profile 'nvidia' not defined in domain 'pro'"


def test_name_with_a_trailing_newline_is_invalid(tmp_path):
    loaded = load_text(tmp_path, infra(domains='"pro\\n": {subnet_id: 1}'))
    assert [f.rule for f in validate_structure(loaded.data, loaded.source)] == ["D1"]
