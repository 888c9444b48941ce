"""`global.incus` (SPEC §3.3): IN1, its shape, on the node at fault; IN2, a remote the incus CLI does not have,
once the engine has read its remotes (HostContext.incus_remotes)."""

from __future__ import annotations

from pathlib import Path

from anklume_tui.psot.context import HostContext
from anklume_tui.psot.incus_target import incus_target
from anklume_tui.psot.pipeline import check_loaded

from .psot_helpers import infra, load_text, of_rule, rule_case_tests

CASES = [
    ("IN1", infra("incus: remote  # <-"), ("remote  #", "local  #")),
    ("IN1", infra("incus:\n  remote: lab\n  url: https://lab:8443  # <-"), ("\n    url: https://lab:8443  # <-", "")),
    ("IN1", infra("incus:\n  remote: 'lab:'  # <-"), ("'lab:'", "lab")),
    ("IN1", infra("incus:\n  url: http://lab:8443  # <-"), ("http://", "https://")),
    ("IN1", infra("incus:\n  url: https://lab:8443\n  client_crt: lab.crt  # <-"), ("client_crt", "server_cert")),
    ("IN1", infra("incus:\n  url: https://lab\n  client_cert: c.crt  # <-"), ("  # <-", "\n    client_key: c.key")),
]

test_rule_reports_an_error_on_the_offending_node, test_near_identical_valid_infra_passes_the_rule = rule_case_tests(
    CASES
)

NAMED = infra("incus:\n  remote: lab  # <-")


def test_a_remote_the_incus_cli_lacks_is_an_error_naming_the_remotes_it_has(tmp_path):
    result = check_loaded(load_text(tmp_path, NAMED), HostContext(incus_remotes=frozenset({"local", "office"})))
    [found] = of_rule(result.findings, "IN2")
    assert found.location is not None and found.location.line == 4
    assert "the incus CLI has no remote 'lab' (remotes: local, office)" in found.message
    assert not result.valid
    known = check_loaded(load_text(tmp_path, NAMED), HostContext(incus_remotes=frozenset({"local", "lab"})))
    assert known.valid and of_rule(known.findings, "IN2") == []
    assert check_loaded(load_text(tmp_path, NAMED), HostContext()).valid  # remotes not read: not checked


def test_certificate_files_are_found_from_the_infra_folder_unless_absolute(tmp_path):
    target = incus_target({"url": "https://lab:8443", "client_cert": "c.crt", "client_key": "/k/c.key"}, tmp_path)
    assert target is not None and not target.is_local
    assert (target.file(target.client_cert), target.file(target.client_key)) == (tmp_path / "c.crt", Path("/k/c.key"))
