"""The pipeline's order (SPEC §4): what stops what, and re-validation after enrichment (X4)."""

from __future__ import annotations

from anklume_tui.psot.context import HostContext
from anklume_tui.psot.pipeline import check_loaded

from .psot_helpers import infra, load_text, of_rule

CTX = HostContext(skip_subnet_check=True)

FIREWALL_VM = """\
anklume:
  subnet_id: 0
  machines:
    anklume-instance:
      ip: 10.100.0.253
"""


def test_a_rule_broken_only_by_enrichment_is_x4(tmp_path):
    text = infra("firewall_mode: vm", FIREWALL_VM)
    result = check_loaded(load_text(tmp_path, text), CTX)
    (x4,) = of_rule(result.findings, "X4")
    assert x4.message.startswith("after enrichment: [M4]") and "10.100.0.253" in x4.message
    assert result.infra is None and not result.valid


def test_without_the_firewall_vm_the_same_infra_is_valid(tmp_path):
    result = check_loaded(load_text(tmp_path, infra("firewall_mode: host", FIREWALL_VM)), CTX)
    assert result.valid and result.infra is not None and not of_rule(result.findings, "X4")


def test_structural_errors_stop_before_enrichment_but_unknown_keys_still_warn(tmp_path):
    text = infra("firewall_mode: vm", "pro:\n  subnet_id: 300\n  machins: {}\n")
    result = check_loaded(load_text(tmp_path, text), CTX)
    rules = {f.rule for f in result.findings}
    assert "D4" in rules and "W7" in rules
    assert "X1" not in rules and result.enriched is None


def test_findings_come_sorted_by_place_in_the_file(tmp_path):
    text = infra("gpu_policy: none", "pro:\n  subnet_id: 300\n  trust_level: root\n")
    lines = [f.location.line for f in check_loaded(load_text(tmp_path, text), CTX).findings if f.location]
    assert lines == sorted(lines)


def test_thousands_of_unknown_keys_list_a_hundred_then_a_count(tmp_path):
    extra = "\n".join(f"junk{i}: 1" for i in range(500))
    result = check_loaded(load_text(tmp_path, infra(extra=extra)), CTX)
    w7 = of_rule(result.findings, "W7")
    assert len(w7) == 101 and w7[-1].message == "400 more unknown keys (not listed one by one)"
