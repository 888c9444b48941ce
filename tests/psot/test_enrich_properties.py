"""Properties of enrichment over random layouts: automatic IPs and determinism; and its speed."""

from __future__ import annotations

import ipaddress

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from anklume_tui.psot.addressing import plan_subnets
from anklume_tui.psot.constants import DEFAULT_TRUST, TRUST_LEVELS
from anklume_tui.psot.context import HostContext
from anklume_tui.psot.enrich import enrich
from anklume_tui.psot.yaml_nodes import parse_yaml

GIB = 1024**3


@st.composite
def layouts(draw) -> dict:
    """A valid trust-zone infra: random trust, unique explicit subnet_ids per zone, unique explicit IPs."""
    taken: dict[str, set[int]] = {}
    domains = {}
    for d in range(draw(st.integers(1, 8))):
        trust = draw(st.sampled_from((*TRUST_LEVELS, None)))
        domain: dict = {} if trust is None else {"trust_level": trust}
        zone_ids = taken.setdefault(trust or DEFAULT_TRUST, set())
        if draw(st.booleans()):
            domain["subnet_id"] = draw(st.integers(0, 254).filter(lambda s, ids=zone_ids: s not in ids))
            zone_ids.add(domain["subnet_id"])
        hosts = draw(st.lists(st.one_of(st.none(), st.integers(1, 253)), max_size=12))
        seen: set[int] = set()
        domain["machines"] = {}
        for m, host in enumerate(hosts):
            domain["machines"][f"d{d}-m{m}"] = {} if host is None or host in seen else {"ip": host}
            seen.add(host)
        domains[f"d{d}"] = domain
    data = {"project_name": "p", "global": {"addressing": {}}, "domains": domains}
    subnets, _ = plan_subnets(data)
    for name, domain in domains.items():
        for machine in domain["machines"].values():
            if "ip" in machine:
                machine["ip"] = subnets[name].host(machine["ip"])
    return data


def _enrich_text(text: str):
    parsed = parse_yaml(text, "infra.yml")
    return enrich(parsed.data, parsed.source, HostContext())


@settings(max_examples=150, deadline=None)
@given(layouts())
def test_auto_ips_are_unique_lowest_free_and_inside_their_domain_static_range(data):
    enriched = _enrich_text(yaml.safe_dump(data, sort_keys=False))
    assert [f for f in enriched.findings if f.is_error] == []
    seen = set()
    for name, domain in enriched.data["domains"].items():
        network = ipaddress.IPv4Network(enriched.subnets[name].cidr)
        explicit = {m: d["ip"] for m, d in data["domains"][name]["machines"].items() if "ip" in d}
        explicit_hosts = {int(ip.rsplit(".", 1)[1]) for ip in explicit.values()}
        free = (n for n in range(1, 100) if n not in explicit_hosts)
        for machine_name, machine in domain["machines"].items():
            ip = machine["ip"]
            assert ip not in seen and ipaddress.IPv4Address(ip) in network
            seen.add(ip)
            if machine_name in explicit:
                assert ip == explicit[machine_name]
            else:
                assert int(ip.rsplit(".", 1)[1]) == next(free)


@settings(max_examples=60, deadline=None)
@given(layouts())
def test_enrichment_is_deterministic(data):
    text = yaml.safe_dump(data, sort_keys=False)
    first, second = _enrich_text(text), _enrich_text(text)
    assert first.data == second.data
    assert first.subnets == second.subnets
    assert first.findings == second.findings


def _thousand_machines() -> str:
    lines = [
        "project_name: bench",
        "global:",
        "  addressing: {}",
        "  firewall_mode: vm",
        "  resource_policy: {overcommit: true}",
        "domains:",
        "  anklume: {trust_level: admin, machines: {anklume-instance: {}}}",
    ]
    for d in range(50):
        lines += [f"  dom{d}:", f"    trust_level: {TRUST_LEVELS[d % 5]}", "    machines:"]
        for m in range(20):
            lines.append(f"      dom{d}-m{m}: {{weight: {m % 3 + 1}, persistent_data: {{data: {{path: /data}}}}}}")
    lines += [
        "shared_volumes:",
        "  docs:",
        "    consumers: {" + ", ".join(f"dom{d}: ro" for d in range(50)) + "}",
    ]
    return "\n".join(lines) + "\n"


def test_enriching_a_thousand_machines_gives_each_its_shared_and_persistent_devices():
    parsed = parse_yaml(_thousand_machines(), "infra.yml")
    ctx = HostContext(host_cpus=64, host_memory_bytes=256 * GIB)
    enriched = enrich(parsed.data, parsed.source, ctx)  # its speed: benchmarks/psot_pipeline.py
    domains = enriched.data["domains"]
    machines = [m for name, d in domains.items() if name != "anklume" for m in d["machines"].values()]
    assert len(machines) == 1000
    assert "anklume-firewall" in domains["anklume"]["machines"]
    assert all(m["devices"].keys() == {"sv-docs", "pd-data"} for m in machines)
