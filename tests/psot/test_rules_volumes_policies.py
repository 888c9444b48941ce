"""Volume and network-policy rules (SPEC §4.5–4.6): each fails on its node and passes once fixed."""

from __future__ import annotations

from anklume_tui.psot.validate import validate_structure

from .psot_helpers import infra, load_text, of_rule, rule_case_tests


def with_pd(body: str, devices: str = "") -> str:
    machine = "pro-dev:\n      ip: 10.100.1.10\n      persistent_data:\n" + body
    if devices:
        machine += "\n      devices:\n" + devices
    return infra(domains=f"pro:\n  subnet_id: 1\n  machines:\n    {machine}")


def with_volumes(volumes: str) -> str:
    return infra(extra="shared_volumes:\n" + volumes)


def with_policy(policy: str) -> str:
    return infra(extra="network_policies:\n  - " + policy)


CASES = [
    ("P1", with_pd("        data: {readonly: true}  # <-"), ("{readonly: true}", "{path: /data}")),
    ("P1", with_pd("        data:\n          path: data  # <-"), ("path: data", "path: /data")),
    ("P1", with_pd("        Data_1: {path: /data}  # <-"), ("Data_1", "data-1")),
    ("P1", with_pd("        data: {path: /data, readonly: sure}  # <-"), ("sure", "true")),
    (
        "P2",
        with_pd("        data: {path: /data}", "        pd-data: {type: disk, source: /x, path: /y}  # <-"),
        ("pd-data: {", "my-data: {"),
    ),
    (
        "P3",
        with_pd("        docs:\n          path: /shared/docs  # <-")
        + "shared_volumes:\n  docs: {consumers: {pro: rw}}\n",
        ("path: /shared/docs", "path: /srv/docs"),
    ),
    ("S1", with_volumes("  - docs  # <-"), ("  - docs  #", "  docs: {consumers: {pro: ro}}  #")),
    ("S1", with_volumes("  Docs:  # <-\n    consumers: {pro: ro}"), ("Docs", "docs")),
    ("S1", with_volumes("  docs: ro  # <-"), (": ro  #", ": {consumers: {pro: ro}}  #")),
    ("S2", with_volumes("  docs:\n    source: srv/docs  # <-\n    consumers: {pro: ro}"), ("srv/", "/srv/")),
    ("S2", with_volumes("  docs:\n    shift: sure  # <-\n    consumers: {pro: ro}"), ("sure", "false")),
    ("S3", with_volumes("  docs:\n    consumers: {}  # <-"), ("{}", "{pro-dev: rw}")),
    ("S3", with_volumes("  docs:\n    consumers:\n      nobody: ro  # <-"), ("nobody", "pro")),
    ("S3", with_volumes("  docs:\n    consumers:\n      pro: write  # <-"), ("write", "rw")),
    (
        "S4",
        infra(
            domains="pro:\n  subnet_id: 1\n  machines:\n    pro-dev:\n      devices:\n"
            "        sv-docs: {type: disk, source: /a, path: /b}  # <-",
            extra="shared_volumes:\n  docs: {consumers: {pro: ro}}",
        ),
        ("sv-docs: {", "docs-dev: {"),
    ),
    (
        "S5",
        with_volumes(
            "  docs: {path: /mnt/x, consumers: {pro: ro}}\n  media:\n    path: /mnt/x  # <-\n"
            "    consumers: {pro-dev: rw}"
        ),
        ("/mnt/x  #", "/mnt/y  #"),
    ),
    ("NP1", with_policy("allow everything  # <-"), ("allow everything", "{from: pro, to: host}")),
    ("NP1", infra(extra="network_policies: {from: pro}  # <-"), ("{from: pro}", "[]")),
    ("NP2", with_policy("to: host  # <-"), ("to: host", "{from: pro, to: host}")),
    ("NP3", with_policy("from: pro\n    to: nowhere  # <-"), ("nowhere", "host")),
    ("NP3", with_policy("from: pro\n    to: ''  # <-"), ("''", "pro-dev")),
    ("NP4", with_policy("from: pro\n    to: host\n    ports: [true]  # <-"), ("true", "80")),
    ("NP4", with_policy("from: pro\n    to: host\n    ports: [70000]  # <-"), ("70000", "443")),
    ("NP4", with_policy("from: pro\n    to: host\n    ports: any  # <-"), ("any", "all")),
    ("NP5", with_policy("from: pro\n    to: host\n    protocol: icmp  # <-"), ("icmp", "udp")),
    ("NP5", with_policy("from: pro\n    to: host\n    bidirectional: both  # <-"), ("both", "true")),
]


test_rule_reports_an_error_on_the_offending_node, test_near_identical_valid_infra_passes_the_rule = rule_case_tests(
    CASES
)


def test_machine_consumer_overrides_its_domain_without_a_duplicate_mount(tmp_path):
    loaded = load_text(tmp_path, with_volumes("  docs: {consumers: {pro: ro, pro-dev: rw}}"))
    assert validate_structure(loaded.data, loaded.source) == []


def test_generated_volume_devices_are_not_collisions_after_enrichment(tmp_path):
    devices = (
        "        sv-docs: {type: disk, source: /srv/anklume/shares/docs, path: /shared/docs, shift: 'true'}\n"
        "        pd-data: {type: disk, source: /srv/anklume/data/pro/pro-dev/data, path: /data}"
    )
    text = with_pd("        data: {path: /data}", devices) + "shared_volumes:\n  docs: {consumers: {pro: ro}}\n"
    loaded = load_text(tmp_path, text)
    assert validate_structure(loaded.data, loaded.source) == []


def test_unknown_policy_reference_follows_the_spec_gist(tmp_path):
    loaded = load_text(tmp_path, with_policy("{from: pro, to: nowhere}"))
    [np3] = validate_structure(loaded.data, loaded.source)
    assert np3.message == "network_policies[0]: 'to: nowhere' is not a known domain, machine, or 'host'"


def test_every_bad_port_is_reported(tmp_path):
    loaded = load_text(tmp_path, with_policy("{from: pro, to: host, ports: [0, 22, '80', 65536]}"))
    messages = [f.message for f in of_rule(validate_structure(loaded.data, loaded.source), "NP4")]
    assert messages == [
        "network_policies[0]: invalid port 0 (must be 1-65535)",
        "network_policies[0]: invalid port '80' (must be 1-65535)",
        "network_policies[0]: invalid port 65536 (must be 1-65535)",
    ]
