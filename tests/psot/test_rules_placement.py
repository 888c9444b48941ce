"""Placement rules (issue 20): `target:` on a domain or a machine. PT1 is structural; PT2 and W14 need the
cluster's members, which psot never reads: they come with the host context (`HostContext.cluster_members`)."""

from __future__ import annotations

from anklume_tui.psot.context import HostContext
from anklume_tui.psot.pipeline import check_loaded

from .psot_helpers import infra, line_of, load_text, of_rule, rule_case_tests

CLUSTER = HostContext(cluster_members=("member1", "member2", "member3"), cluster_groups=("gpu",))
NOT_A_CLUSTER = HostContext(cluster_members=())


def placed(domain_target: str = "member1", machine_target: str = "'@gpu'") -> str:
    return infra(
        domains=f"pro:\n  subnet_id: 1\n  target: {domain_target}\n  machines:\n"
        f"    pro-dev: {{ip: 10.100.1.10}}\n    pro-gpu:\n      ip: 10.100.1.11\n      target: {machine_target}\n"
    )


CASES = [
    ("PT1", placed(domain_target="[member1]  # <-"), ("[member1]  #", "member1  #")),
    ("PT1", placed(machine_target="'@'  # <-"), ("'@'  #", "'@gpu'  #")),
    ("PT1", placed(machine_target="'member 2'  # <-"), ("'member 2'  #", "member2  #")),
]

test_rule_reports_an_error_on_the_offending_node, test_near_identical_valid_infra_passes_the_rule = rule_case_tests(
    CASES
)


def findings(tmp_path, text: str, ctx: HostContext):
    return check_loaded(load_text(tmp_path, text), ctx).findings


def test_an_unknown_member_or_group_is_an_error_naming_those_that_exist(tmp_path):
    text = placed(domain_target="member4  # <-", machine_target="'@arm'")
    found = of_rule(findings(tmp_path, text, CLUSTER), "PT2")
    assert [f.message for f in found] == [
        "Domain 'pro': target 'member4' names no cluster member (members: member1, member2, member3)",
        "Machine 'pro-gpu': target '@arm' names no cluster group (groups: gpu)",
    ]
    assert found[0].location is not None and found[0].location.line == line_of(text)
    assert not check_loaded(load_text(tmp_path, text), CLUSTER).valid
    assert of_rule(findings(tmp_path, placed(), CLUSTER), "PT2") == []


def test_a_target_off_a_cluster_is_a_warning_that_never_blocks(tmp_path):
    result = check_loaded(load_text(tmp_path, placed()), NOT_A_CLUSTER)
    assert result.valid and result.infra is not None
    assert [f.message for f in of_rule(result.findings, "W14")] == [
        "Domain 'pro': target 'member1' has no effect: Incus is not a cluster, every machine runs on its one server",
        "Machine 'pro-gpu': target '@gpu' has no effect: Incus is not a cluster, every machine runs on its one server",
    ]
    # members not gathered: neither PT2 nor W14
    assert {f.rule for f in findings(tmp_path, placed("member9"), HostContext())} & {"PT2", "W14"} == set()


def test_the_model_carries_each_target_as_declared(tmp_path):
    result = check_loaded(load_text(tmp_path, placed()), CLUSTER)
    assert result.infra is not None
    [domain] = result.infra.domains
    assert domain.target == "member1"
    assert [(m.name, m.target) for m in domain.machines] == [("pro-dev", None), ("pro-gpu", "@gpu")]
