"""Roles declare smoke checks as data (roles/<role>/meta/anklume_checks.yml): every shipped file parses with
no K finding, and swarm-lab's machines get their own check and their roles' (no Incus needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from anklume_tui.engine.smoke import declared_checks
from anklume_tui.errors import Invalid
from anklume_tui.psot.checks import parse_checks
from anklume_tui.psot.context import HostContext
from anklume_tui.psot.pipeline import run_psot

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted((ROOT / "roles").glob("*/meta/anklume_checks.yml"))


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.parts[-3])
def test_every_shipped_role_check_file_is_valid(path):
    import yaml

    checks, problems = parse_checks(yaml.safe_load(path.read_text()))
    assert problems == [] and checks


def test_swarm_lab_machines_get_their_own_checks_and_their_roles(tmp_path):
    infra = run_psot(ROOT / "examples" / "swarm-lab" / "infra.yml", HostContext()).infra
    found = {(d.machine.name, d.declared_by, d.check.name) for d in declared_checks(infra, tmp_path, "swarm")}
    assert ("swarm-manager", "infra", "three nodes in the swarm, this one a manager") in found
    for node in ("swarm-manager", "swarm-worker-1", "swarm-worker-2"):
        assert (node, "role docker_engine", "the Docker daemon answers") in found
        assert (node, "role swarm_node", "the node is in a swarm") in found
    assert ["docker", "info", "--format", "{{.Swarm.LocalNodeState}}"] in [
        list(d.check.command) for d in declared_checks(infra, tmp_path, "swarm")
    ]


def test_a_broken_role_check_file_is_an_error_naming_the_file_line_and_rule(tmp_path):
    infra = run_psot(ROOT / "examples" / "swarm-lab" / "infra.yml", HostContext()).infra
    broken = tmp_path / "roles_custom" / "swarm_node" / "meta"
    broken.mkdir(parents=True)
    where = r"roles_custom/swarm_node/meta/anklume_checks.yml"
    (broken / "anklume_checks.yml").write_text("- name: fine\n  command: [hostname]\n- tcp: 0\n")
    with pytest.raises(Invalid, match=rf"{where}:3:8: error\[K3\]: check 2: 'tcp' must be a port"):
        declared_checks(infra, tmp_path, "swarm")
    (broken / "anklume_checks.yml").write_text("- tcp: 22\n- http: [\n")
    with pytest.raises(Invalid, match=rf"^[^\n]*{where}:3:1: error\[L3\]: YAML syntax error[^\n]*$"):
        declared_checks(infra, tmp_path, "swarm")
