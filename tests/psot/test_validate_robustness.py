"""Rendering of findings, survival on any input shape, and speed on a large infra."""

from __future__ import annotations

from ipaddress import IPv4Network

from hypothesis import given, settings
from hypothesis import strategies as st

from anklume_tui.psot.context import HostContext, HostNetwork
from anklume_tui.psot.validate import collect_warnings, validate_host, validate_structure
from anklume_tui.psot.yaml_nodes import SourceMap

from .psot_helpers import infra, load_text

WORDS = [
    "project_name",
    "global",
    "domains",
    "machines",
    "profiles",
    "devices",
    "config",
    "ip",
    "gpu",
    "type",
    "subnet_id",
    "trust_level",
    "addressing",
    "zone_base",
    "zone_step",
    "network_policies",
    "shared_volumes",
    "consumers",
    "persistent_data",
    "path",
    "ports",
    "from",
    "to",
    "gpu_policy",
    "resource_policy",
    "host_reserve",
    "ai_access_policy",
    "ai_access_default",
    "enabled",
    "roles",
    "security.privileged",
    "pro",
    "ai-tools",
    "host",
    "default",
    "all",
    "exclusive",
    "shared",
    "lxc",
    "vm",
    "ro",
    "rw",
    "/a",
    "10.100.1.1",
    "10.120.0.5",
    "true",
    "openclaw_server",
    "sv-a",
    "pd-a",
    "a",
]
LEAVES = st.none() | st.booleans() | st.integers(-5, 70000) | st.floats() | st.sampled_from(WORDS) | st.text(max_size=4)
KEYS = st.sampled_from(WORDS) | st.integers(-2, 300) | st.booleans() | st.none()
GARBAGE = st.recursive(
    LEAVES,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=5),
    max_leaves=40,
)
SHAPED = st.fixed_dictionaries(
    {"project_name": GARBAGE, "global": GARBAGE, "domains": GARBAGE},
    optional={
        "network_policies": GARBAGE,
        "shared_volumes": GARBAGE,
    },
)
CONTEXTS = st.builds(
    HostContext,
    absolute_level=st.none() | st.integers(0, 3),
    vm_nested=st.none() | st.booleans(),
    yolo=st.booleans(),
    host_networks=st.none() | st.just((HostNetwork("eth0", IPv4Network("10.0.0.0/8")),)),
)


def test_rendered_findings_show_file_line_column_rule_and_message(tmp_path):
    text = infra(domains="pro:\n  subnet_id: true\n  machines:\n    pro-dev: {ip: 10.100.1.255}")
    loaded = load_text(tmp_path, text)
    file = str(tmp_path / "infra.yml")
    lines = [f.render() for f in validate_structure(loaded.data, loaded.source)]
    assert lines == [
        f"{file}:5:16: error[D4]: Domain 'pro': subnet_id must be 0-254 (got true)",
        f"{file}:7:21: error[M12]: Machine 'pro-dev': host number 255 is reserved (use 1-253)",
    ]


@settings(max_examples=400, deadline=None)
@given(data=GARBAGE | SHAPED, ctx=CONTEXTS)
def test_random_nested_data_never_raises(data, ctx):
    source = SourceMap()
    for finding in validate_structure(data, source):
        assert finding.rule and finding.message
    if isinstance(data, dict):
        validate_host(data, source, ctx)
        collect_warnings(data, source, ctx)


def _large_infra(domains: int, machines: int) -> dict:
    result = {}
    for d in range(domains):
        result[f"d{d}"] = {
            "subnet_id": d,
            "trust_level": "trusted",
            "profiles": {"nv": {"devices": {"g": {"type": "gpu"}}}},
            "machines": {
                f"d{d}-m{m}": {"ip": f"10.100.{d}.{m + 1}", "roles": ["base_system"], "profiles": ["default"]}
                for m in range(machines)
            },
        }
    policies = [{"from": f"d{d}", "to": f"d{d + 1}-m0", "ports": [80, 443]} for d in range(domains - 1)]
    volumes = {"docs": {"consumers": {f"d{d}": "ro" for d in range(domains)}}}
    return {
        "project_name": "big",
        "global": {"base_subnet": "10.100"},
        "domains": result,
        "network_policies": policies,
        "shared_volumes": volumes,
    }


def test_a_thousand_valid_machines_give_no_finding():
    data = _large_infra(50, 20)
    ctx = HostContext(host_networks=(HostNetwork("eth0", IPv4Network("192.168.0.0/24")),))
    findings = validate_structure(data, SourceMap()) + validate_host(data, SourceMap(), ctx)
    findings += collect_warnings(data, SourceMap(), ctx)
    assert findings == []  # how fast: benchmarks/psot_pipeline.py
