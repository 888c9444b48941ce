"""Placement on a real three-member Incus cluster (issue 20; tests/cluster_helpers.py): machines land on the
member (or in the group, `@edge`) their domain or they declare, checked with the incus CLI (`incus list -c nL`);
machines moved by hand are planned as moves and put back by apply, the same instances (no delete and create); a
member killed during an apply (as its first new machine starts) fails the machine being made there
naming it while the rest converges, an apply while it is down names its machines, the apply after it returns
converges, and flush leaves nothing of the infra on any member. status (JSON and table) and the TUI's domains view
give each machine's member."""

from __future__ import annotations

import asyncio
import json
import sys

from anklume_tui.app import AnklumeApp
from anklume_tui.cli import main
from anklume_tui.verbs import apply as apply_verb
from anklume_tui.widgets.domain_table import DomainTable
from tests.cluster_helpers import ThreeMemberCluster, other_sees
from tests.engine.apply_helpers import batch, batch_env
from tests.wait_helpers import until, wait_until

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
      d3-b: {target: "@edge"}
"""
PLACED = {("d1", "d1-a"): "member1", ("d2", "d2-a"): "member2", ("d3", "d3-a"): "member3", ("d3", "d3-b"): "member1"}


def placement(cluster: ThreeMemberCluster) -> dict[tuple[str, str], str]:
    return {(p, name): member for p in ("d1", "d2", "d3") for name, member in cluster.locations(p).items()}


def uuid_of(cluster: ThreeMemberCluster, project: str, name: str) -> str:
    return cluster.first.query(f"/1.0/instances/{name}?project={project}")["config"]["volatile.uuid"]


async def domains_view_on_the_cluster(cluster: ThreeMemberCluster, infra) -> None:
    """The TUI: a location column (on a cluster only), a filter by member, and the state of a machine on another
    member than the one the app talks to followed through the event stream."""
    app = AnklumeApp(infra, incus_url=cluster.first.url)
    async with app.run_test(size=(170, 40)) as pilot:
        table = app.screen.query_one(DomainTable)
        await until(pilot, lambda: table.rows_by_key.get("m:d3-a") and table.rows_by_key["m:d3-a"].location)
        assert table.columns_shown[-1] == "location" and "location" in table.columns
        assert {k: r.location for k, r in table.rows_by_key.items() if k.startswith("m:")} == {
            f"m:{name}": member for (_, name), member in PLACED.items()
        }
        await pilot.press("slash", *"member3", "enter")
        await until(pilot, lambda: list(table.rows_by_key) == ["d:d3", "m:d3-a"])
        await asyncio.to_thread(cluster.first.incus, "stop", "d3-a", "--project=d3", "--force")
        await until(pilot, lambda: table.rows_by_key["m:d3-a"].state == "Stopped")
        await asyncio.to_thread(cluster.first.incus, "start", "d3-a", "--project=d3")
        await until(pilot, lambda: table.rows_by_key["m:d3-a"].state == "Running")


def test_machines_land_on_their_declared_members_and_a_moved_one_is_moved_back(incus_cluster, tmp_path, monkeypatch):
    infra = tmp_path / "infra.yml"
    state = tmp_path / "state"
    infra.write_text(INFRA.replace("target: member2", "target: member9"))
    refused = batch(incus_cluster.first, state, "apply", infra)  # the members, read from the cluster, checked
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "target 'member9' names no cluster member (members: member1, member2, member3)" in refused.stderr
    assert "error[PT2]" in refused.stderr and incus_cluster.first.query("/1.0/instances?all-projects=true") == []
    infra.write_text(INFRA)
    planned = json.loads(batch(incus_cluster.first, state, "plan", infra, "--json").stdout)["actions"]
    creates = {a["name"]: a["detail"].rsplit(", on ", 1)[-1] for a in planned if a["kind"] == "instance"}
    assert creates == {"d1-a": "member1", "d2-a": "member2", "d3-a": "member3", "d3-b": "@edge"}
    done = batch(incus_cluster.first, state, "apply", infra)
    assert done.returncode == 0, done.stdout + done.stderr
    assert placement(incus_cluster) == PLACED
    status = batch(incus_cluster.first, state, "status", infra, "--json")
    domains = json.loads(status.stdout)["domains"]
    assert {(d["name"], m["name"]): m["location"] for d in domains for m in d["machines"]} == PLACED
    table = batch(incus_cluster.first, state, "status", infra).stdout.splitlines()
    assert table[0].split()[-1] == "LOCATION"
    assert {(row.split()[0], row.split()[1]): row.split()[-1] for row in table[1:-1]} == PLACED
    for key, value in batch_env(incus_cluster.first, state).items():
        monkeypatch.setenv(key, value)
    asyncio.run(domains_view_on_the_cluster(incus_cluster, infra))

    # moved by hand: d2-a off its member, d3-b (running) out of its group; d3-b left stopped
    before = {key: uuid_of(incus_cluster, *key) for key in [("d2", "d2-a"), ("d3", "d3-b")]}
    for (project, name), member in [(("d2", "d2-a"), "member3"), (("d3", "d3-b"), "member2")]:
        incus_cluster.first.incus("stop", name, f"--project={project}", "--force")
        incus_cluster.first.incus("move", name, f"--target={member}", f"--project={project}")
    incus_cluster.first.incus("start", "d2-a", "--project=d2")
    assert placement(incus_cluster) == {**PLACED, ("d2", "d2-a"): "member3", ("d3", "d3-b"): "member2"}

    planned = batch(incus_cluster.first, state, "plan", infra, "--json")
    assert planned.returncode == 0, planned.stderr
    actions = [(a["op"], a["kind"], a["name"]) for a in json.loads(planned.stdout)["actions"]]
    assert actions == [("move", "instance", "d2-a"), ("move", "instance", "d3-b"), ("start", "instance", "d3-b")]

    again = batch(incus_cluster.first, state, "apply", infra)
    assert again.returncode == 0, again.stdout + again.stderr
    assert placement(incus_cluster) == PLACED
    for (project, name), uuid in before.items():  # the same instances, moved: never deleted and made again
        assert uuid_of(incus_cluster, project, name) == uuid
        assert incus_cluster.first.query(f"/1.0/instances/{name}?project={project}")["status"] == "Running"


def test_a_member_down_fails_its_machines_naming_it_the_next_apply_converges_and_flush_empties_the_cluster(
    incus_cluster, tmp_path, monkeypatch, capsys
):
    infra = tmp_path / "infra.yml"
    infra.write_text(INFRA)
    state = tmp_path / "state"
    assert batch(incus_cluster.first, state, "apply", infra).returncode == 0
    grown = INFRA.replace("      d1-a: {}\n", "      d1-a: {}\n      d1-b: {}\n")
    grown = grown.replace("      d2-a: {}\n", "      d2-a: {}\n      d2-b: {}\n")
    infra.write_text(grown.replace("      d3-a: {}\n", "      d3-a: {}\n      d3-c: {}\n"))

    # member3 dies during the apply: after its plan was read, as the first new machine starts being made
    for key, value in batch_env(incus_cluster.first, state).items():
        monkeypatch.setenv(key, value)
    killed = []

    def kill_member3_as_the_first_machine_starts(event):
        print(event.line(), file=sys.stderr)
        action = getattr(event, "action", None)  # apply's events; the pipeline's phase events have none
        if event.phase == "started" and action and action.kind == "instance" and not killed:
            incus_cluster.stop_member("member3")
            killed.append(action.name)

    monkeypatch.setattr(apply_verb, "print_event", kill_member3_as_the_first_machine_starts)
    code = main(["--batch", "apply", "--infra", str(infra), "--no-provision"])
    out = capsys.readouterr().out
    assert killed and code == 1, out
    # the machine being made there failed naming the member; the others landed where declared
    said = out.splitlines()
    assert any(line.startswith("  create container d3/d3-c") and "on cluster member member3" in line for line in said)
    live = placement(incus_cluster)
    assert (live.get(("d1", "d1-b")), live.get(("d2", "d2-b"))) == ("member1", "member2")
    monkeypatch.undo()
    # applied again once the others see it offline (not while they still try it: their view changes at the
    # heartbeat threshold): its machines are named as out of reach, nothing sent to them
    wait_until(lambda: other_sees(incus_cluster.first, "member3") == "Offline", 60, "member3 seen offline", 0.5)
    again = batch(incus_cluster.first, state, "apply", infra)
    assert again.returncode == 1, again.stdout + again.stderr
    unreachable = "its cluster member member3 does not answer: nothing is changed on it until it does"
    assert f"  instance d3/d3-a: {unreachable}" in again.stdout.splitlines(), again.stdout

    incus_cluster.resume_member("member3")
    back = batch(incus_cluster.first, state, "apply", infra)
    assert back.returncode == 0, back.stdout + back.stderr
    assert placement(incus_cluster) == {
        **PLACED,
        ("d1", "d1-b"): "member1",
        ("d2", "d2-b"): "member2",
        ("d3", "d3-c"): "member3",
    }
    listed = incus_cluster.first.incus("list", "--all-projects", "-c", "ns", "--format=csv").stdout
    assert {line.split(",")[-1] for line in listed.splitlines()} == {"RUNNING"}

    # flush on the cluster (unprotected machines: every domain ephemeral): nothing of the infra left anywhere
    infra.write_text(infra.read_text().replace("    target: member", "    ephemeral: true\n    target: member"))
    assert batch(incus_cluster.first, state, "apply", infra).returncode == 0
    flushed = batch(incus_cluster.first, state, "flush", infra, "--yes")
    assert flushed.returncode == 0, flushed.stdout + flushed.stderr
    assert incus_cluster.first.query("/1.0/instances?all-projects=true") == []
    assert [p.rsplit("/", 1)[-1] for p in incus_cluster.first.query("/1.0/projects")] == ["default"]
    networks = incus_cluster.first.query("/1.0/networks?recursion=1")
    assert [n["name"] for n in networks if n["managed"]] == []
