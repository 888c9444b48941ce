"""SPEC §5.1 Stability: what was applied keeps its subnet and address whatever is added, removed or reordered;
a move the user did not name is W9; with no prior allocation the result is v1's."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from anklume_tui.psot.context import HostContext
from anklume_tui.psot.load import LoadedInfra
from anklume_tui.psot.model import Infra
from anklume_tui.psot.pipeline import check_loaded
from anklume_tui.psot.stability import PriorAllocation
from anklume_tui.psot.yaml_nodes import SourceMap

from .psot_helpers import of_rule

TRUSTS = ("admin", "trusted", "semi-trusted", "untrusted", "disposable")


def run(data: dict, allocation: PriorAllocation | None = None):
    loaded = LoadedInfra(Path("infra.yml"), data, SourceMap(), [], [Path("infra.yml")])
    return check_loaded(loaded, HostContext(allocation=allocation))


def applied(data: dict, allocation: PriorAllocation | None = None) -> Infra:
    result = run(data, allocation)
    assert result.valid, [f.render() for f in result.findings]
    return result.infra


def recorded(infra: Infra) -> PriorAllocation:
    """What the engine records once `infra` is applied."""
    record = {
        "subnets": {d.name: d.subnet for d in infra.domains},
        "addresses": {d.name: {m.name: m.ip for m in d.machines if m.ip} for d in infra.domains},
    }
    return PriorAllocation(records={infra.project_name: record})


def read_back(infra: Infra, others: dict[str, str] | None = None) -> PriorAllocation:
    """What Incus holds once `infra` is applied (no record): its bridges and nics, and other bridges."""
    bridges = {d.network: d.subnet for d in infra.domains} | (others or {})
    nics = {(d.project, m.instance_name): m.ip for d in infra.domains for m in d.machines if m.ip}
    return PriorAllocation(bridges=bridges, nics=nics)


def addresses(infra: Infra) -> tuple[dict[str, str], dict[str, str]]:
    return {d.name: d.subnet for d in infra.domains}, {m.name: m.ip for m in infra.machines}


def zone_infra(domains: dict) -> dict:
    return {"project_name": "p", "global": {"addressing": {}, "default_os_image": "busybox"}, "domains": domains}


@st.composite
def changes(draw):
    """A zone-mode infra, then the same infra with domains and machines added, removed and reordered."""
    names = draw(st.lists(st.sampled_from("bcdfghjkmnpqrstvwxz"), min_size=1, max_size=6, unique=True))
    before = {}
    for name in names:
        count = draw(st.integers(0, 4))
        before[name] = {
            "trust_level": draw(st.sampled_from(TRUSTS)),
            "machines": {f"{name}{i}": {} for i in range(count)},
        }
    after = {}
    kept = draw(st.lists(st.sampled_from(names), unique=True)) or [names[0]]
    for name in draw(st.permutations(kept)):
        machines = list(before[name]["machines"])
        stay = [m for m in machines if draw(st.booleans())]
        new = [f"{name}n{i}" for i in range(draw(st.integers(0, 3)))]
        order = draw(st.permutations(stay + new))
        after[name] = {**before[name], "machines": {m: {} for m in order}}
    for extra in draw(st.lists(st.sampled_from("aeiouy"), unique=True, max_size=4)):
        position = draw(st.integers(0, len(after)))
        items = list(after.items())
        items.insert(position, (extra, {"trust_level": draw(st.sampled_from(TRUSTS)), "machines": {f"{extra}0": {}}}))
        after = dict(items)
    return zone_infra(before), zone_infra(after)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(changes(), st.booleans())
def test_adding_removing_reordering_never_moves_an_applied_allocation(pair, from_incus):
    before, after = pair
    first = applied(before)
    prior = read_back(first) if from_incus else recorded(first)
    second = applied(after, prior)
    old_subnets, old_ips = addresses(first)
    new_subnets, new_ips = addresses(second)
    for domain, subnet in new_subnets.items():
        if domain in old_subnets:
            assert subnet == old_subnets[domain]
    for machine, ip in new_ips.items():
        if machine in old_ips:
            assert ip == old_ips[machine]
    assert len(set(new_subnets.values())) == len(new_subnets)
    assert len(set(new_ips.values())) == len(new_ips)
    assert second.renumbers == []


@settings(max_examples=30, deadline=None)
@given(changes())
def test_with_no_prior_allocation_the_result_is_v1s(pair):
    _, after = pair
    assert addresses(applied(after, PriorAllocation())) == addresses(applied(after))


def test_a_domain_added_before_an_existing_one_in_its_zone_leaves_it_where_it_was():
    dev = {"trust_level": "trusted", "machines": {"dev-ci": {}, "dev-db": {}}}
    first = applied(zone_infra({"dev": dev}))
    qa = {"trust_level": "trusted", "machines": {"qa-runner": {}}}
    grown = zone_infra({"qa": qa, "aaa": {"trust_level": "trusted", "machines": {}}, "dev": dev})
    unstable = applied(grown)
    assert unstable.domains[2].subnet != "10.110.0.0/24"  # v1 would renumber dev: the bug this prevents
    second = applied(grown, read_back(first))
    subnets, ips = addresses(second)
    assert subnets == {"qa": "10.110.2.0/24", "aaa": "10.110.1.0/24", "dev": "10.110.0.0/24"}
    assert ips == {"dev-ci": "10.110.0.1", "dev-db": "10.110.0.2", "qa-runner": "10.110.2.1"}


def test_a_subnet_held_by_another_bridge_of_the_host_is_never_allocated():
    first = applied(zone_infra({"dev": {"trust_level": "trusted", "machines": {"dev-a": {}}}}))
    other = {"other-net": "10.110.1.0/24", "lxdbr0": "10.110.2.1/24"}
    second = applied(
        zone_infra({"dev": {"trust_level": "trusted"}, "new": {"trust_level": "trusted", "machines": {"n": {}}}}),
        read_back(first, other),
    )
    assert addresses(second)[0] == {"dev": "10.110.0.0/24", "new": "10.110.3.0/24"}


def test_machines_removed_leave_their_numbers_and_new_ones_fill_the_gaps():
    first = applied(zone_infra({"dev": {"machines": {"a": {}, "b": {}, "c": {}}}}))
    second = applied(zone_infra({"dev": {"machines": {"n": {}, "c": {}, "m": {}}}}), recorded(first))
    assert addresses(second)[1] == {"n": "10.120.0.1", "c": "10.120.0.3", "m": "10.120.0.2"}


def test_an_explicit_edit_applies_without_w9():
    first = applied(zone_infra({"dev": {"machines": {"a": {}, "b": {}}}}))
    swapped = zone_infra({"dev": {"machines": {"a": {"ip": "10.120.0.2"}, "b": {"ip": "10.120.0.1"}}}})
    result = run(swapped, recorded(first))
    assert of_rule(result.findings, "W9") == []
    assert addresses(result.infra)[1] == {"a": "10.120.0.2", "b": "10.120.0.1"}
    # b's applied .2 is taken by a's explicit edit: b takes a free number, not a W9
    taken = applied(zone_infra({"dev": {"machines": {"a": {"ip": "10.120.0.2"}, "b": {}}}}), recorded(first))
    assert addresses(taken)[1] == {"a": "10.120.0.2", "b": "10.120.0.1"}
    assert taken.renumbers == []


def test_a_trust_change_that_moves_an_applied_domain_is_w9():
    first = applied(zone_infra({"dev": {"trust_level": "trusted", "machines": {"dev-a": {}}}}))
    result = run(zone_infra({"dev": {"trust_level": "untrusted", "machines": {"dev-a": {}}}}), recorded(first))
    (w9,) = of_rule(result.findings, "W9")
    assert "10.110.0.0/24 would move to 10.140.0.0/24" in w9.message and "--renumber" in w9.message
    assert [(r.domain, r.machine, r.before) for r in result.infra.renumbers] == [("dev", None, "10.110.0.0/24")]
    assert addresses(result.infra) == ({"dev": "10.140.0.0/24"}, {"dev-a": "10.140.0.1"})  # host number kept


def test_an_explicit_ip_removed_outside_the_automatic_range_is_w9():
    first = applied(zone_infra({"dev": {"machines": {"a": {"ip": "10.120.0.150"}, "b": {}}}}))
    result = run(zone_infra({"dev": {"machines": {"a": {}, "b": {}}}}), recorded(first))
    (w9,) = of_rule(result.findings, "W9")
    assert "machine 'a'" in w9.message
    assert [(r.machine, r.before) for r in result.infra.renumbers] == [("a", "10.120.0.150")]
    assert addresses(result.infra)[1] == {"a": "10.120.0.2", "b": "10.120.0.1"}


def test_legacy_mode_and_no_prior_are_left_alone():
    legacy = {"project_name": "p", "global": {"base_subnet": "10.100"}, "domains": {"d": {"subnet_id": 3}}}
    assert addresses(applied(legacy, PriorAllocation(bridges={"x": "10.100.4.0/24"})))[0] == {"d": "10.100.3.0/24"}
    data = zone_infra({"dev": {"machines": {"a": {}}}})
    assert run(data, None).findings == run(data, dataclasses.replace(PriorAllocation())).findings


def test_an_explicit_subnet_on_another_infras_bridge_is_h1_in_both_modes():
    legacy = {"project_name": "p", "global": {"base_subnet": "10.100"}, "domains": {"d": {"subnet_id": 3}}}
    zoned = zone_infra({"d": {"trust_level": "trusted", "subnet_id": 0}})
    for data, bridge in ((legacy, "10.100.3.254/24"), (zoned, "10.110.0.254/24")):
        found = of_rule(run(data, PriorAllocation(bridges={"net-other": bridge})).findings, "H1")
        assert [f.message.split(", which")[0] for f in found] == [
            f"SUBNET CONFLICT: Domain 'd' uses {bridge.replace('.254/', '.0/')}, overlaps Incus bridge net-other "
            f"({bridge.replace('.254/', '.0/')})"
        ]
        # its own bridge, under its own name, is no conflict
        assert run(data, PriorAllocation(bridges={"net-d": bridge})).valid
