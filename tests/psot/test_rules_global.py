"""Top-level and `global` rules (SPEC §4.1–4.2): each fails on its node and passes once fixed."""

from __future__ import annotations

from anklume_tui.psot.validate import validate_structure

from .psot_helpers import DOMAINS, infra, load_text, of_rule, rule_case_tests

AI_DOMAINS = (
    DOMAINS
    + """\
perso:
  subnet_id: 2
ai-tools:
  subnet_id: 3
"""
)

NO_IP = "pro:\n  machines:\n    pro-dev: {}\n"

TWO_GPUS = """\
pro:
  subnet_id: 1
  machines:
    pro-dev:
      gpu: true
    pro-ml:
      gpu: true  # <-
"""

# (rule, infra text with the offending line tagged `# <-`, (old, new) turning it valid)
CASES = [
    ("R1", "project_name: demo  # <-\nglobal: {}\n", ("global: {}\n", "global: {}\ndomains: {}\n")),
    ("R2", "project_name: demo\nglobal: []  # <-\ndomains: {}\n", ("[]", "{}")),
    ("R2", infra(domains="pro: [a]  # <-"), ("[a]", "{subnet_id: 1}")),
    ("R2", "project_name: demo\nglobal: {}\ndomains: [pro]  # <-\n", ("[pro]", "{}")),
    ("AD1", infra("addressing: [1]  # <-", NO_IP), ("[1]", "{}")),
    ("AD1", infra("addressing:\n  zone_base: 250  # <-", NO_IP), ("250", "100")),
    ("AD1", infra("addressing:\n  zone_step: true  # <-", NO_IP), ("true", "5")),
    ("AD1", infra("addressing:\n  base_octet: 192  # <-", NO_IP), ("192", "10")),
    ("AD1", infra('base_subnet: "10.300"  # <-'), ("10.300", "10.100")),
    (
        "AD2",
        infra("addressing: {zone_base: 240}", "sandbox:\n  trust_level: disposable  # <-"),
        ("disposable", "admin"),
    ),
    ("B1", infra("shared_volumes_base: srv/shares  # <-"), ("srv/", "/srv/")),
    ("B1", infra("persistent_data_base: 42  # <-"), ("42", "/data")),
    ("G0", infra("gpu_policy: sometimes  # <-"), ("sometimes", "shared")),
    ("G1", infra(domains=TWO_GPUS), ("global: {}", "global: {gpu_policy: shared}")),
    ("F1", infra("firewall_mode: router  # <-"), ("router", "host")),
    ("N1", infra("nesting_prefix: 1  # <-"), ("1  #", "false  #")),
    ("A0", infra("ai_access_policy: closed  # <-"), ("closed", "open")),
    ("A6", infra("ai_vram_flush: always  # <-"), ("always", "true")),
    ("A1", infra("ai_access_policy: exclusive  # <-", AI_DOMAINS), ("  # <-", "\n  ai_access_default: pro")),
    (
        "A2",
        infra("ai_access_policy: exclusive\nai_access_default: ai-tools  # <-", AI_DOMAINS),
        ("default: ai-tools", "default: perso"),
    ),
    (
        "A3",
        infra("ai_access_policy: exclusive\nai_access_default: nowhere  # <-", AI_DOMAINS),
        ("nowhere", "perso"),
    ),
    (
        "A4",
        infra("ai_access_policy: exclusive  # <-\nai_access_default: pro"),
        ("domains:\n", "domains:\n  ai-tools: {subnet_id: 3}\n"),
    ),
    (
        "A5",
        infra(
            "ai_access_policy: exclusive\nai_access_default: pro",
            AI_DOMAINS,
            "network_policies:\n  - {from: pro, to: ai-tools}\n  - from: perso\n    to: ai-tools  # <-",
        ),
        ("to: ai-tools  # <-", "to: pro  # <-"),
    ),
    ("RP1", infra("resource_policy: false  # <-"), ("false", "true")),
    ("RP1", infra("resource_policy:\n  mode: fair  # <-"), ("fair", "equal")),
    ("RP1", infra("resource_policy:\n  overcommit: maybe  # <-"), ("maybe", "true")),
    ("RP1", infra("resource_policy:\n  host_reserve:\n    cpu: 150%  # <-"), ("150%", "20%")),
    ("RP1", infra("resource_policy:\n  host_reserve:\n    memory: lots  # <-"), ("lots", "4GiB")),
    ("RP1", infra("resource_policy:\n  host_reserve: 4  # <-"), ("4  #", "{cpu: 2}  #")),
]


test_rule_reports_an_error_on_the_offending_node, test_near_identical_valid_infra_passes_the_rule = rule_case_tests(
    CASES
)


def test_missing_required_keys_hide_every_other_error(tmp_path):
    loaded = load_text(tmp_path, "project_name: demo\nglobal: {gpu_policy: bogus}\n")
    findings = validate_structure(loaded.data, loaded.source)
    assert [(f.rule, f.message) for f in findings] == [("R1", "Missing required key: domains")]


def test_empty_file_misses_every_required_key(tmp_path):
    loaded = load_text(tmp_path, "# nothing yet\n")
    rules = [f.message for f in validate_structure(loaded.data, loaded.source)]
    assert rules == [f"Missing required key: {k}" for k in ("project_name", "global", "domains")]


def test_null_domains_mean_no_domains(tmp_path):
    loaded = load_text(tmp_path, "project_name: demo\nglobal: {}\ndomains:\n")
    assert validate_structure(loaded.data, loaded.source) == []


def test_gpu_consumers_count_profiles_and_disabled_domains(tmp_path):
    text = infra(
        domains="""\
        pro:
          subnet_id: 1
          profiles:
            nvidia: {devices: {gpu0: {type: gpu}}}
          machines:
            pro-dev: {profiles: [default, nvidia]}
        lab:
          subnet_id: 2
          enabled: false
          machines:
            lab-ml: {gpu: true}
        """
    )
    loaded = load_text(tmp_path, text)
    [g1] = of_rule(validate_structure(loaded.data, loaded.source), "G1")
    assert g1.message == (
        "GPU policy is 'exclusive' but 2 instances use a GPU (pro-dev, lab-ml); set gpu_policy: shared"
    )


def test_enum_message_names_key_value_and_allowed_values(tmp_path):
    loaded = load_text(tmp_path, infra("firewall_mode: router"))
    [f1] = validate_structure(loaded.data, loaded.source)
    assert f1.message == "global.firewall_mode must be one of 'host', 'vm' (got 'router')"


def test_zone_octet_overflow_names_the_domain_and_octet(tmp_path):
    loaded = load_text(tmp_path, infra("addressing: {zone_base: 245, zone_step: 3}", "tor: {trust_level: untrusted}"))
    [ad2] = validate_structure(loaded.data, loaded.source)
    assert ad2.message == "Domain 'tor': zone octet 257 exceeds 255"


def test_a5_counts_the_policies_targeting_ai_tools(tmp_path):
    pol = "network_policies:\n" + "  - {from: pro, to: ai-tools}\n" * 3
    loaded = load_text(tmp_path, infra("ai_access_policy: exclusive\nai_access_default: pro", AI_DOMAINS, pol))
    [a5] = validate_structure(loaded.data, loaded.source)
    assert a5.message == "only one policy may target ai-tools (found 3)"
