"""The examples with Docker Swarm and the developer roles apply with provisioning, and a second apply changes
nothing (issue 25); a file of their own so that CI runs them beside the others. What the copies change and why:
test_examples_apply_and_provision.py.

swarm-lab then passes `smoke` (issue 22) on the same daemon: three nodes in one swarm, the first its manager. Its
nodes ask Incus for nesting only, no syscall interception (examples/swarm-lab/infra.yml says why)."""

from __future__ import annotations

import json

import pytest

from tests.incusd_helpers import ThrowawayIncus
from tests.provision.example_helpers import converges, example_params, import_stand_in
from tests.provision.provision_helpers import anklume

SWARM = ("swarm-manager", "swarm-worker-1", "swarm-worker-2")


@pytest.fixture(scope="module")
def stand_in(incus_daemon):
    import_stand_in(incus_daemon)


@pytest.mark.parametrize("example", example_params("developer"))
def test_example_applies_with_provisioning_and_a_second_apply_changes_nothing(example, incusd, stand_in, tmp_path):
    converges(example, incusd, tmp_path)


def _docker(daemon: ThrowawayIncus, node: str, *args: str) -> str:
    done = daemon.incus("exec", node, "--project=swarm", "--", "docker", *args)
    return done.stdout.strip()


def test_swarm_lab_applies_twice_with_nothing_changed_then_smoke_finds_three_nodes_in_one_swarm(
    incusd, stand_in, tmp_path
):
    converges("swarm-lab", incusd, tmp_path)

    smoke = anklume(incusd, tmp_path, "smoke", tmp_path / "infra.yml", "--json")
    (tmp_path / "swarm-smoke.json").write_text(smoke.stdout)
    assert smoke.returncode == 0, smoke.stdout + smoke.stderr
    report = json.loads(smoke.stdout)
    assert report["ok"] is True and report["failed"] == 0, report
    checks = {(m["machine"], c["name"]): c for m in report["machines"] for c in m["checks"]}
    for node in SWARM:
        assert checks[(node, "the Docker daemon answers")]["ok"], checks
        assert checks[(node, "the node is in a swarm")]["ok"], checks
    manager = checks[("swarm-manager", "three nodes in the swarm, this one a manager")]
    assert manager["ok"] and manager["declared_by"] == "infra" and "3 nodes, manager true" in manager["detail"]

    # One swarm: the manager lists the three nodes by their own IDs, itself the leader, the others workers.
    own = {node: _docker(incusd, node, "info", "--format", "{{.Swarm.NodeID}}") for node in SWARM}
    listed = _docker(incusd, "swarm-manager", "node", "ls", "--format", "{{.ID}}={{.ManagerStatus}}")
    statuses = dict(line.split("=", 1) for line in listed.splitlines())
    assert statuses == {own[SWARM[0]]: "Leader", own[SWARM[1]]: "", own[SWARM[2]]: ""}, (listed, own)
    # No syscall interception asked of Incus for the nodes (the example's point; with it, exec fails now and then).
    for node in SWARM:
        config = incusd.query(f"/1.0/instances/{node}?project=swarm")["expanded_config"]
        assert not [key for key in config if key.startswith("security.syscalls.intercept.")], config
        assert config["security.nesting"] == "true", config
