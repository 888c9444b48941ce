"""Rules on services between domains (SV1–SV7, W12): each fails on its node and passes once fixed."""

from __future__ import annotations

import pytest

from anklume_tui.psot.validate import validate_structure

from .psot_helpers import assert_flags, infra, line_of, load_text, of_rule, rule_case_tests


def offering(
    services: str,
    *,
    provider: str = "",
    consumer: str = "",
    tools: str = "",
    work: str = "",
    provider_ip: str = "10.100.1.10",
    consumer_ip: str = "10.100.2.10",
) -> str:
    """`tools-mcp` offers `services`; `work-dev` (another domain) has `consumer` lines; `tools`/`work`: domain keys."""
    provider = (f"      ip: {provider_ip}\n" if provider_ip else "") + provider
    consumer = (f"      ip: {consumer_ip}\n" if consumer_ip else "") + consumer
    domains = (
        f"tools:\n  subnet_id: 1\n{tools}  machines:\n    tools-mcp:\n{provider}      services:\n{services}\n"
        f"work:\n  subnet_id: 2\n{work}  machines:\n    work-dev:\n{consumer or '      {}'}"
    )
    return infra(domains=domains)


NOTES = "        notes: {socket: /run/notes.sock}\n        search: {port: 8765}"


def consuming(entries: str, **kw: str) -> str:
    return offering(NOTES, consumer="      consumes:\n" + entries, **kw)


CASES = [
    ("SV1", offering("        - notes  # <-"), ("        - notes  #", "        notes: {port: 80}  #")),
    ("SV1", offering("        Notes: {port: 80}  # <-"), ("Notes", "notes")),
    ("SV1", offering("        notes: 80  # <-"), ("notes: 80", "notes: {port: 80}")),
    ("SV2", offering("        notes: {port: 80, socket: /run/n.sock}  # <-"), (", socket: /run/n.sock", "")),
    ("SV2", offering("        notes: {description: x}  # <-"), ("{description: x}", "{port: 80}")),
    ("SV2", offering("        notes:\n          port: 70000  # <-"), ("70000", "7000")),
    ("SV2", offering("        notes:\n          socket: run/n.sock  # <-"), ("run/", "/run/")),
    ("SV2", offering("        notes:\n          socket: /run/../n.sock  # <-"), ("/run/../", "/run/")),
    ("SV2", offering("        notes:\n          socket: /" + "s" * 100 + "  # <-"), ("s" * 100, "n.sock")),
    ("SV2", offering("        notes:\n          port: 80\n          protocol: MCP  # <-"), ("MCP", "mcp")),
    (
        "SV2",
        offering(NOTES.replace("notes: {", "notes:  # <-\n          {"), tools="").replace(
            "global: {}", "global:\n  services_base: /" + "b" * 80
        ),
        ("b" * 80, "srv"),
    ),
    ("SV3", consuming("        - tools-mcp  # <-"), ("tools-mcp  #", "tools-mcp/notes  #")),
    (
        "SV3",
        offering(NOTES, consumer="      consumes: tools-mcp/notes  # <-"),
        ("consumes: tools-mcp/notes", "consumes: [tools-mcp/notes]"),
    ),
    (
        "SV3",
        consuming("        - service: tools-mcp/search\n          socket: /run/s.sock  # <-"),
        ("          socket: /run/s.sock  # <-", "          # <-"),
    ),
    ("SV3", consuming("        - service: tools-mcp/notes\n          uid: -1  # <-"), ("-1", "1000")),
    ("SV3", consuming("        - service: tools-mcp/notes\n          mode: 660  # <-"), ("660", '"0660"')),
    ("SV4", consuming("        - tools-db/notes  # <-"), ("tools-db", "tools-mcp")),
    ("SV4", consuming("        - tools-mcp/mail  # <-"), ("mail", "notes")),
    (
        "SV5",
        offering(NOTES, provider="      consumes:\n        - tools-mcp/search  # <-\n"),
        ("        - tools-mcp/search  # <-\n", "        []  # <-\n"),
    ),
    ("SV6", consuming("        - tools-mcp/search  # <-", consumer_ip=""), ("search", "notes")),
    ("SV6", consuming("        - tools-mcp/search  # <-", provider_ip=""), ("search", "notes")),
    (
        "SV7",
        offering("        notes:\n          socket: /run/n.sock  # <-", provider="      type: vm\n"),
        ("vm", "lxc"),
    ),
    (
        "SV7",
        offering(NOTES, consumer="      type: vm\n      consumes:\n        - tools-mcp/notes  # <-"),
        ("vm\n", "lxc\n"),
    ),
    (
        "SV7",
        offering(
            "        notes: {socket: /run/notes.sock}\n        todo: {socket: /run/todo.sock}",
            consumer="      consumes:\n        - {service: tools-mcp/notes, socket: /run/x.sock}\n"
            "        - {service: tools-mcp/todo, socket: /run/x.sock}  # <-\n",
        ),
        ("/run/x.sock}  #", "/run/y.sock}  #"),
    ),
]


test_rule_reports_an_error_on_the_offending_node, test_near_identical_valid_infra_passes_the_rule = rule_case_tests(
    CASES
)

WARNING_CASES = [
    (
        "W12",
        consuming("        - tools-mcp/notes  # <-", tools="  enabled: false\n"),
        ("enabled: false", "enabled: true"),
    ),
    (
        "W12",
        consuming(
            "        - tools-mcp/search  # <-", work="  trust_level: untrusted\n", tools="  trust_level: admin\n"
        ),
        ("untrusted", "trusted"),
    ),
]


def warnings_of(tmp_path, text):
    from anklume_tui.psot.context import HostContext
    from anklume_tui.psot.validate import collect_warnings

    loaded = load_text(tmp_path, text)
    assert validate_structure(loaded.data, loaded.source) == []
    return collect_warnings(loaded.data, loaded.source, HostContext())


@pytest.mark.parametrize(("rule", "text", "fix"), WARNING_CASES, ids=["disabled-provider", "admin-to-untrusted"])
def test_warning_is_reported_on_the_consumes_entry(tmp_path, rule, text, fix):
    assert_flags(warnings_of(tmp_path, text), rule, "warning", text)


@pytest.mark.parametrize(("rule", "text", "fix"), WARNING_CASES, ids=["disabled-provider", "admin-to-untrusted"])
def test_near_identical_infra_raises_no_service_warning(tmp_path, rule, text, fix):
    fixed = text.replace(*fix)
    assert fixed != text
    assert warnings_of(tmp_path, fixed) == []


def test_unknown_service_lists_what_the_machine_offers(tmp_path):
    loaded = load_text(tmp_path, consuming("        - tools-mcp/mail"))
    [sv4] = of_rule(validate_structure(loaded.data, loaded.source), "SV4")
    assert sv4.message == (
        "Machine 'work-dev': consumes 'tools-mcp/mail': 'tools-mcp' offers no service 'mail' (it offers: notes, search)"
    )


def test_a_domain_consuming_a_service_of_its_own_machine_is_not_an_error(tmp_path):
    text = consuming("        - tools-mcp/notes", tools="  consumes: [tools-mcp/search]\n")
    loaded = load_text(tmp_path, text)
    assert validate_structure(loaded.data, loaded.source) == []


def test_services_and_consumes_are_known_keys_and_unknown_ones_inside_are_w7(tmp_path):
    text = consuming("        - {service: tools-mcp/notes, owner: 1000}")
    [w7] = warnings_of(tmp_path, text)
    assert (w7.rule, w7.message) == (
        "W7",
        "unknown key 'owner' in domains.work.machines.work-dev.consumes[0]",
    )


def test_a_default_consumer_path_past_the_unix_limit_asks_for_a_socket(tmp_path):
    name = "n" * 90
    text = offering(f"        {name}: {{socket: /run/n.sock}}", consumer=f"      consumes: [tools-mcp/{name}]")
    loaded = load_text(tmp_path, text)
    [sv3] = of_rule(validate_structure(loaded.data, loaded.source), "SV3")
    assert sv3.message.endswith("is longer than 100 bytes; give it a shorter 'socket:'")
    assert sv3.location is not None and sv3.location.line == line_of(text, "consumes:")
