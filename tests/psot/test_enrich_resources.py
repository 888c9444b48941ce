"""Enrichment step 4: CPU and memory shares, soft enforcement, X3 and W6 (SPEC §6)."""

from __future__ import annotations

import pytest

from anklume_tui.psot.context import HostContext
from anklume_tui.psot.enrich_resources import format_memory, parse_memory
from anklume_tui.psot.findings import Severity

from .enrich_helpers import GIB, enrich_yaml, machine, rules

HOST = HostContext(host_cpus=8, host_memory_bytes=16 * GIB)


def _infra(policy: str, machines: str = "a: {}\n          b: {weight: 2}\n          c: {weight: 3}") -> str:
    return f"""\
    project_name: demo
    global:
      resource_policy: {policy}
    domains:
      work:
        subnet_id: 1
        machines:
          {machines}
    """


def _configs(enriched) -> dict:
    return {name: m.get("config") for name, m in enriched.data["domains"]["work"]["machines"].items()}


RESERVE = "{host_reserve: {cpu: 2, memory: 4GiB}"


def test_proportional_count_shares_follow_weights(tmp_path):
    enriched = enrich_yaml(tmp_path, _infra(RESERVE + ", cpu_mode: count, memory_enforce: hard}"), HOST)
    assert _configs(enriched) == {
        "a": {"limits.cpu": "1", "limits.memory": "2GiB"},
        "b": {"limits.cpu": "2", "limits.memory": "4GiB"},
        "c": {"limits.cpu": "3", "limits.memory": "6GiB"},
    }
    assert rules(enriched) == []


def test_equal_mode_ignores_weights(tmp_path):
    policy = RESERVE + ", mode: equal, cpu_mode: count, memory_enforce: hard}"
    configs = _configs(enrich_yaml(tmp_path, _infra(policy), HOST))
    assert {c["limits.cpu"] for c in configs.values()} == {"2"}
    assert {c["limits.memory"] for c in configs.values()} == {"4GiB"}


def test_allowance_mode_gives_percent_of_host_cpus(tmp_path):
    configs = _configs(enrich_yaml(tmp_path, _infra(RESERVE + ", memory_enforce: hard}"), HOST))
    assert [c["limits.cpu.allowance"] for c in configs.values()] == ["12%", "25%", "37%"]
    assert all("limits.cpu" not in c for c in configs.values())


def test_resource_policy_true_uses_twenty_percent_reserves_allowance_and_soft(tmp_path):
    configs = _configs(enrich_yaml(tmp_path, _infra("true", "a: {}\n          b: {}"), HOST))
    # 80 % of 8 CPUs over two machines: 3.2 CPUs = 40 %; 80 % of 16 GiB over two = 6.4 GiB.
    assert configs["a"] == {
        "limits.cpu.allowance": "40%",
        "limits.memory": "6553MiB",
        "limits.memory.enforce": "soft",
    }


def test_percent_memory_reserve_is_a_share_of_host_memory(tmp_path):
    policy = "{host_reserve: {cpu: '50%', memory: '75%'}, cpu_mode: count, memory_enforce: hard}"
    configs = _configs(enrich_yaml(tmp_path, _infra(policy, "a: {}"), HOST))
    assert configs["a"] == {"limits.cpu": "4", "limits.memory": "4GiB"}


@pytest.mark.parametrize("reserve", ["2147483648", "2048MiB", "2097152KiB"])
def test_absolute_memory_reserves_in_bytes_or_units(tmp_path, reserve):
    policy = f"{{host_reserve: {{memory: {reserve}}}, memory_enforce: hard}}"
    configs = _configs(enrich_yaml(tmp_path, _infra(policy, "a: {}"), HOST))
    assert configs["a"]["limits.memory"] == "14GiB"


def test_memory_share_never_goes_below_128_mib(tmp_path):
    machines = "\n          ".join(f"m{i}: {{}}" for i in range(200))
    tiny = HostContext(host_cpus=1, host_memory_bytes=10 * GIB)
    enriched = enrich_yaml(tmp_path, _infra("{memory_enforce: hard, overcommit: true}", machines), tiny)
    assert machine(enriched, "work", "m0")["config"]["limits.memory"] == "128MiB"
    assert machine(enriched, "work", "m0")["config"]["limits.cpu.allowance"] == "1%"


def test_explicit_limits_are_never_overwritten(tmp_path):
    machines = (
        "a: {config: {limits.cpu: '1', limits.memory: 1GiB, limits.memory.enforce: hard}}\n"
        "          b: {config: {limits.cpu.allowance: 10%}}\n"
        "          c: {config: {security.nesting: 'true'}}"
    )
    configs = _configs(enrich_yaml(tmp_path, _infra(RESERVE + ", cpu_mode: count, overcommit: true}", machines), HOST))
    assert configs["a"] == {"limits.cpu": "1", "limits.memory": "1GiB", "limits.memory.enforce": "hard"}
    assert configs["b"] == {
        "limits.cpu.allowance": "10%",
        "limits.memory": "6GiB",
        "limits.memory.enforce": "soft",
    }
    assert configs["c"] == {
        "security.nesting": "true",
        "limits.cpu": "6",
        "limits.memory": "6GiB",
        "limits.memory.enforce": "soft",
    }


def test_soft_enforcement_reaches_explicit_memory_limits_and_hard_adds_nothing(tmp_path):
    machines = "a: {config: {limits.cpu: '1', limits.memory: 1GiB}}"
    soft = _configs(enrich_yaml(tmp_path, _infra(RESERVE + "}", machines), HOST))
    assert soft["a"]["limits.memory.enforce"] == "soft"
    hard = _configs(enrich_yaml(tmp_path, _infra(RESERVE + ", memory_enforce: hard}", machines), HOST))
    assert "limits.memory.enforce" not in hard["a"]


def test_machines_of_disabled_domains_take_part(tmp_path):
    text = _infra(RESERVE + ", cpu_mode: count, memory_enforce: hard}", "a: {}").rstrip(" ") + (
        "      idle:\n        enabled: false\n        subnet_id: 2\n        machines:\n          z: {}\n"
    )
    enriched = enrich_yaml(tmp_path, text, HOST)
    assert machine(enriched, "idle", "z")["config"] == {"limits.cpu": "3", "limits.memory": "6GiB"}


def test_memory_overcommit_is_x3_error(tmp_path):
    machines = "a: {config: {limits.memory: 10GiB}}\n          b: {}\n          c: {}"
    enriched = enrich_yaml(tmp_path, _infra(RESERVE + "}", machines), HOST)
    [finding] = enriched.findings
    assert (finding.rule, finding.severity) == ("X3", Severity.ERROR)
    assert finding.message == (
        "Resource overcommit: Memory: 22GiB > 12GiB. Set resource_policy.overcommit: true to allow."
    )
    assert finding.location.line == 3


def test_cpu_and_memory_overcommit_are_reported_together(tmp_path):
    machines = "a: {config: {limits.cpu: '4', limits.memory: 10GiB}}\n          b: {}\n          c: {}"
    enriched = enrich_yaml(tmp_path, _infra(RESERVE + ", cpu_mode: count}", machines), HOST)
    assert [f.message for f in enriched.findings] == [
        "Resource overcommit: CPU: 10 cores > 6 available; Memory: 22GiB > 12GiB. "
        "Set resource_policy.overcommit: true to allow."
    ]


def test_allowance_overcommit_is_x3(tmp_path):
    machines = "a: {config: {limits.cpu.allowance: 50%}}\n          b: {}"
    enriched = enrich_yaml(tmp_path, _infra(RESERVE + "}", machines), HOST)
    assert [f.message for f in enriched.findings] == [
        "Resource overcommit: CPU allowance: 125% > 75% available. Set resource_policy.overcommit: true to allow."
    ]


def test_overcommit_true_turns_x3_into_a_warning(tmp_path):
    machines = "a: {config: {limits.memory: 10GiB}}\n          b: {}"
    enriched = enrich_yaml(tmp_path, _infra(RESERVE + ", overcommit: true}", machines), HOST)
    [finding] = enriched.findings
    assert (finding.rule, finding.severity) == ("X3", Severity.WARNING)
    assert finding.message.startswith("Resource overcommit: Memory: 22GiB > 12GiB")
    assert "Set resource_policy.overcommit" not in finding.message


@pytest.mark.parametrize(("reserve", "overcommitted"), [("2.005", False), ("2.01", True)])
def test_cpu_overcommit_tolerates_one_tenth_of_a_percent(tmp_path, reserve, overcommitted):
    machines = "a: {config: {limits.cpu: '6', limits.memory: 1GiB}}"
    policy = f"{{host_reserve: {{cpu: {reserve}}}, cpu_mode: count}}"
    enriched = enrich_yaml(tmp_path, _infra(policy, machines), HOST)
    assert ("X3" in rules(enriched)) is overcommitted


def test_limits_within_the_pool_give_no_finding(tmp_path):
    machines = "a: {config: {limits.cpu: '6', limits.memory: 12GiB}}"
    assert rules(enrich_yaml(tmp_path, _infra(RESERVE + ", cpu_mode: count}", machines), HOST)) == []


@pytest.mark.parametrize(
    "ctx",
    [
        HostContext(),
        HostContext(host_cpus=8),
        HostContext(host_memory_bytes=16 * GIB),
        HostContext(host_cpus=0, host_memory_bytes=16 * GIB),
    ],
)
def test_undetected_host_resources_give_w6_and_no_allocation(tmp_path, ctx):
    enriched = enrich_yaml(tmp_path, _infra("true", "a: {}"), ctx)
    [finding] = enriched.findings
    assert (finding.rule, finding.severity) == ("W6", Severity.WARNING)
    assert "could not be detected" in finding.message
    assert "config" not in machine(enriched, "work", "a")


@pytest.mark.parametrize("reserve", ["{cpu: 8}", "{memory: 16GiB}", "{memory: 17GiB}"])
def test_reserve_leaving_nothing_gives_w6(tmp_path, reserve):
    enriched = enrich_yaml(tmp_path, _infra(f"{{host_reserve: {reserve}}}", "a: {}"), HOST)
    assert rules(enriched) == ["W6"] and "leaves nothing" in enriched.findings[0].message
    assert "config" not in machine(enriched, "work", "a")


def test_no_resource_policy_allocates_nothing(tmp_path):
    text = "project_name: demo\nglobal: {}\ndomains:\n  work: {subnet_id: 1, machines: {a: {}}}\n"
    enriched = enrich_yaml(tmp_path, text, HOST)
    assert rules(enriched) == [] and "config" not in machine(enriched, "work", "a")


def test_memory_sizes_parse_and_format_as_incus_writes_them():
    assert parse_memory("2GiB") == 2 * GIB
    assert parse_memory("1.5GiB") == 3 * GIB // 2
    assert parse_memory("4GB") == 4 * 10**9
    assert parse_memory(1024) == 1024
    assert parse_memory("50%") == 0
    assert format_memory(3 * GIB) == "3GiB"
    assert format_memory(3 * GIB + 1) == "3072MiB"
    assert format_memory(1000) == "1000"
