"""Enrichment steps 1–3: addressing (SPEC §5.4), firewall VM, AI access policy; X1, X2, X5."""

from __future__ import annotations

import copy

from anklume_tui.psot.context import HostContext
from anklume_tui.psot.enrich import enrich
from anklume_tui.psot.findings import Severity
from anklume_tui.psot.load import load_infra

from .enrich_helpers import enrich_yaml, machine, rules

WORKED_EXAMPLE = """\
project_name: demo
global:
  addressing: {}
  firewall_mode: vm
domains:
  anklume:
    trust_level: admin
    machines:
      anklume-instance: {}
  pro:
    trust_level: trusted
    machines:
      pro-dev: {}
      pro-web: {ip: "10.110.2.2"}
      pro-db: {}
  perso: {trust_level: trusted, subnet_id: 0}
  lab: {trust_level: trusted}
  sandbox: {}
  tor: {trust_level: untrusted}
"""


def test_worked_example_gives_the_documented_subnets(tmp_path):
    enriched = enrich_yaml(tmp_path, WORKED_EXAMPLE)
    cidrs = {name: subnet.cidr for name, subnet in enriched.subnets.items()}
    assert cidrs == {
        "anklume": "10.100.0.0/24",
        "pro": "10.110.2.0/24",
        "perso": "10.110.0.0/24",
        "lab": "10.110.1.0/24",
        "sandbox": "10.120.0.0/24",
        "tor": "10.140.0.0/24",
    }
    assert enriched.subnets["perso"].explicit and not enriched.subnets["pro"].explicit
    assert enriched.subnets["pro"].gateway == "10.110.2.254"


def test_worked_example_writes_subnet_ids_and_default_trust(tmp_path):
    domains = enrich_yaml(tmp_path, WORKED_EXAMPLE).data["domains"]
    assert {n: d["subnet_id"] for n, d in domains.items()} == {
        "anklume": 0,
        "pro": 2,
        "perso": 0,
        "lab": 1,
        "sandbox": 0,
        "tor": 0,
    }
    assert domains["sandbox"]["trust_level"] == "semi-trusted"
    assert domains["tor"]["trust_level"] == "untrusted"


def test_worked_example_auto_ips_skip_explicit_ones_in_declaration_order(tmp_path):
    enriched = enrich_yaml(tmp_path, WORKED_EXAMPLE)
    assert machine(enriched, "pro", "pro-dev")["ip"] == "10.110.2.1"
    assert machine(enriched, "pro", "pro-web")["ip"] == "10.110.2.2"
    assert machine(enriched, "pro", "pro-db")["ip"] == "10.110.2.3"
    assert machine(enriched, "anklume", "anklume-instance")["ip"] == "10.100.0.1"
    assert list(enriched.data["domains"]["pro"]["machines"]) == ["pro-dev", "pro-web", "pro-db"]


def test_worked_example_firewall_vm_is_appended_at_253(tmp_path):
    enriched = enrich_yaml(tmp_path, WORKED_EXAMPLE)
    machines = enriched.data["domains"]["anklume"]["machines"]
    assert list(machines) == ["anklume-instance", "anklume-firewall"]
    assert machines["anklume-firewall"] == {
        "description": "Centralized firewall VM (auto-created by generator)",
        "type": "vm",
        "ip": "10.100.0.253",
        "config": {"limits.cpu": "2", "limits.memory": "2GiB"},
        "roles": ["base_system", "firewall_router"],
        "ephemeral": False,
    }
    note = next(f for f in enriched.findings if f.rule == "I1")
    assert note.severity is Severity.INFO and "10.100.0.253" in note.message
    assert note.location is not None and note.location.line == 4


def test_zone_step_five_gives_octets_100_105_110_120_125(tmp_path):
    text = """\
    project_name: demo
    global: {addressing: {zone_step: 5}}
    domains:
      a: {trust_level: admin}
      t: {trust_level: trusted}
      s: {}
      u: {trust_level: untrusted}
      d: {trust_level: disposable}
    """
    subnets = enrich_yaml(tmp_path, text).subnets
    assert {n: s.cidr for n, s in subnets.items()} == {
        "a": "10.100.0.0/24",
        "t": "10.105.0.0/24",
        "s": "10.110.0.0/24",
        "u": "10.120.0.0/24",
        "d": "10.125.0.0/24",
    }


LEGACY = """\
project_name: demo
global: {base_subnet: "10.100", firewall_mode: vm}
domains:
  anklume:
    subnet_id: 3
    machines:
      anklume-instance: {}
  work:
    subnet_id: 4
    machines:
      work-dev: {ip: "10.100.4.7"}
"""


def test_legacy_mode_keeps_subnet_id_and_writes_no_trust_or_auto_ip(tmp_path):
    enriched = enrich_yaml(tmp_path, LEGACY)
    anklume = enriched.data["domains"]["anklume"]
    assert enriched.subnets["anklume"].cidr == "10.100.3.0/24"
    assert enriched.subnets["anklume"].gateway == "10.100.3.254"
    assert "trust_level" not in anklume and anklume["subnet_id"] == 3
    assert "ip" not in anklume["machines"]["anklume-instance"]
    assert machine(enriched, "work", "work-dev")["ip"] == "10.100.4.7"


def test_legacy_firewall_vm_uses_base_subnet_and_anklume_subnet_id(tmp_path):
    enriched = enrich_yaml(tmp_path, LEGACY.replace('"10.100"', '"10.50"'))
    assert machine(enriched, "anklume", "anklume-firewall")["ip"] == "10.50.3.253"


def test_firewall_vm_creates_the_machines_of_an_empty_anklume_domain(tmp_path):
    text = """\
    project_name: demo
    global: {addressing: {}, firewall_mode: vm}
    domains:
      anklume: {trust_level: admin, machines: null}
    """
    machines = enrich_yaml(tmp_path, text).data["domains"]["anklume"]["machines"]
    assert list(machines) == ["anklume-firewall"]


def test_existing_sys_firewall_anywhere_prevents_the_firewall_vm(tmp_path):
    text = """\
    project_name: demo
    global: {addressing: {}, firewall_mode: vm}
    domains:
      anklume: {trust_level: admin, machines: {anklume-instance: {}}}
      edge: {machines: {sys-firewall: {type: vm}}}
    """
    enriched = enrich_yaml(tmp_path, text)
    assert list(enriched.data["domains"]["anklume"]["machines"]) == ["anklume-instance"]
    assert "I1" not in rules(enriched) and "X1" not in rules(enriched)


def test_firewall_mode_host_adds_no_firewall_vm(tmp_path):
    enriched = enrich_yaml(tmp_path, WORKED_EXAMPLE.replace("firewall_mode: vm", "firewall_mode: host"))
    assert "anklume-firewall" not in enriched.data["domains"]["anklume"]["machines"]
    assert rules(enriched) == []


def test_firewall_vm_without_anklume_domain_is_x1(tmp_path):
    text = """\
    project_name: demo
    global: {addressing: {}, firewall_mode: vm}
    domains:
      work: {machines: {work-dev: {}}}
    """
    enriched = enrich_yaml(tmp_path, text)
    [finding] = enriched.findings
    assert (finding.rule, finding.severity) == ("X1", Severity.ERROR)
    assert finding.message == "firewall_mode is 'vm' but no 'anklume' domain exists"
    assert finding.location.line == 2


def _many_machines(count: int, explicit: str = "") -> str:
    lines = "".join(f"      m{i}: {{}}\n" for i in range(count))
    return f"""\
project_name: demo
global: {{addressing: {{}}}}
domains:
  big:
    machines:
{explicit}{lines}"""


def test_ninety_nine_auto_ips_fit_and_the_hundredth_is_x2(tmp_path):
    fits = enrich_yaml(tmp_path, _many_machines(99))
    assert rules(fits) == [] and machine(fits, "big", "m98")["ip"] == "10.120.0.99"
    over = enrich_yaml(tmp_path, _many_machines(100))
    [finding] = over.findings
    assert (finding.rule, finding.severity) == ("X2", Severity.ERROR)
    assert finding.message == "Domain 'big' ran out of static IPs (.1-.99) for machine 'm99'"
    assert finding.location.line == 105 and "ip" not in machine(over, "big", "m99")


def test_explicit_ips_in_the_static_range_use_up_auto_numbers(tmp_path):
    explicit = '      fixed: {ip: "10.120.0.50"}\n'
    over = enrich_yaml(tmp_path, _many_machines(99, explicit))
    assert [f.message for f in over.findings] == ["Domain 'big' ran out of static IPs (.1-.99) for machine 'm98'"]
    high = enrich_yaml(tmp_path, _many_machines(99, explicit.replace(".50", ".150")))
    assert rules(high) == []


def _zone_of(count: int, first_explicit: int = 0) -> str:
    explicit = "".join(f"  e{i}: {{trust_level: trusted, subnet_id: {i}}}\n" for i in range(first_explicit))
    auto = "".join(f"  a{i:03d}: {{trust_level: trusted}}\n" for i in range(count))
    return f"project_name: demo\nglobal: {{addressing: {{}}}}\ndomains:\n{explicit}{auto}"


def test_zone_out_of_subnet_ids_is_x5(tmp_path):
    fits = enrich_yaml(tmp_path, _zone_of(55, first_explicit=200))
    assert rules(fits) == [] and fits.data["domains"]["a054"]["subnet_id"] == 254
    over = enrich_yaml(tmp_path, _zone_of(56, first_explicit=200))
    [finding] = over.findings
    assert (finding.rule, finding.severity) == ("X5", Severity.ERROR)
    assert "zone trusted ran out of subnet ids" in finding.message and "'a055'" in finding.message
    assert "subnet_id" not in over.data["domains"]["a055"]


AI_EXCLUSIVE = """\
project_name: demo
global: {addressing: {}, ai_access_policy: exclusive, ai_access_default: pro}
domains:
  pro: {trust_level: trusted}
  ai-tools: {trust_level: trusted}
"""


def test_exclusive_ai_access_adds_a_policy_from_the_default_domain(tmp_path):
    enriched = enrich_yaml(tmp_path, AI_EXCLUSIVE)
    assert enriched.data["network_policies"] == [
        {
            "description": "AI access: pro -> ai-tools (auto-created)",
            "from": "pro",
            "to": "ai-tools",
            "ports": "all",
            "bidirectional": True,
        }
    ]
    [note] = enriched.findings
    assert (note.rule, note.severity) == ("I2", Severity.INFO)


def test_ai_policy_is_appended_after_existing_policies(tmp_path):
    text = AI_EXCLUSIVE + "network_policies:\n  - {from: pro, to: host, ports: [22]}\n"
    policies = enrich_yaml(tmp_path, text).data["network_policies"]
    assert [p["to"] for p in policies] == ["host", "ai-tools"]


def test_no_ai_policy_added_when_one_already_targets_ai_tools(tmp_path):
    text = AI_EXCLUSIVE + "network_policies:\n  - {from: pro, to: ai-tools, ports: [11434]}\n"
    enriched = enrich_yaml(tmp_path, text)
    assert enriched.data["network_policies"] == [{"from": "pro", "to": "ai-tools", "ports": [11434]}]
    assert rules(enriched) == []


def test_open_ai_access_adds_no_policy(tmp_path):
    enriched = enrich_yaml(tmp_path, AI_EXCLUSIVE.replace("exclusive", "open"))
    assert "network_policies" not in enriched.data and rules(enriched) == []


def test_enrichment_never_changes_its_input(tmp_path):
    text = WORKED_EXAMPLE.replace("addressing: {}", "addressing: {}\n  resource_policy: true") + (
        "shared_volumes:\n  docs: {consumers: {pro: ro}}\n"
    )
    loaded = load_infra(_write(tmp_path, text))
    before = copy.deepcopy(loaded.data)
    enriched = enrich(loaded.data, loaded.source, HostContext(host_cpus=8, host_memory_bytes=16 * 1024**3))
    assert loaded.data == before
    enriched.data["domains"]["pro"]["machines"]["pro-web"]["ip"] = "changed"
    assert loaded.data == before


def _write(tmp_path, text):
    path = tmp_path / "infra.yml"
    path.write_text(text)
    return path


def test_null_domains_and_null_machines_enrich_without_findings(tmp_path):
    text = """\
    project_name: demo
    global: {addressing: {}, resource_policy: true, firewall_mode: host}
    domains: null
    """
    enriched = enrich_yaml(tmp_path, text, HostContext(host_cpus=4, host_memory_bytes=8 * 1024**3))
    assert enriched.data["domains"] is None and enriched.subnets == {} and rules(enriched) == []
    text = "project_name: demo\nglobal: {addressing: {}}\ndomains:\n  empty: {machines: null}\n"
    enriched = enrich_yaml(tmp_path, text)
    assert enriched.data["domains"]["empty"] == {
        "machines": None,
        "trust_level": "semi-trusted",
        "subnet_id": 0,
    }
