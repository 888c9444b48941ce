"""`apply --only STEP[,STEP…]` on the throwaway daemon: each run carries out its steps and nothing else; run one
after the other they build what a whole apply builds. The isolation ruleset goes into a network namespace of
this test's own, so whether a run loaded it is read there."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import pytest

from tests.engine.apply_helpers import batch, instances, plan_json
from tests.wait_helpers import wait_until

INFRA = """\
project_name: partial
global:
  addressing: {}
  default_os_image: busybox
domains:
  lab:
    machines:
      lab-one: {}
  work:
    trust_level: trusted
    machines:
      work-one: {}
"""
BRIDGES = {"net-lab", "net-work"}


@pytest.fixture
def nft_netns(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh network namespace for the ruleset apply loads (none loaded there yet)."""
    holder = subprocess.Popen(["unshare", "--net", "--", "sleep", "infinity"])
    netns = f"/proc/{holder.pid}/ns/net"
    own = os.readlink("/proc/self/ns/net")
    wait_until(lambda: os.readlink(netns) != own, 10, "unshare --net to make its namespace", 0.01)
    monkeypatch.setenv("ANKLUME_NFT_NETNS", netns)
    try:
        yield netns
    finally:
        holder.kill()
        holder.wait()


def ruleset_loaded(netns: str) -> bool:
    found = subprocess.run(
        ["nsenter", f"--net={netns}", "nft", "list", "table", "inet", "anklume"], capture_output=True
    )
    return found.returncode == 0


def bridges(daemon) -> set[str]:
    return {n["name"] for n in daemon.incus_json("network", "list") if n["managed"]} & BRIDGES


def projects(daemon) -> set[str]:
    return {p["name"] for p in daemon.incus_json("project", "list")} - {"default"}


def test_only_steps_build_in_parts_what_a_whole_apply_builds(incusd, tmp_path, nft_netns):
    infra = tmp_path / "infra.yml"
    infra.write_text(INFRA)

    networks = batch(incusd, tmp_path, "apply", infra, "--only", "networks")
    assert networks.returncode == 0, networks.stderr
    assert bridges(incusd) == BRIDGES
    assert projects(incusd) == set() and instances(incusd) == {}
    assert not ruleset_loaded(nft_netns)

    isolation = batch(incusd, tmp_path, "apply", infra, "--only", "isolation")
    assert isolation.returncode == 0, isolation.stderr
    assert ruleset_loaded(nft_netns)
    assert projects(incusd) == set() and instances(incusd) == {}

    structure = batch(incusd, tmp_path, "apply", infra, "--only", "projects,profiles", "--only", "images")
    assert structure.returncode == 0, structure.stderr
    assert projects(incusd) == {"lab", "work"} and instances(incusd) == {}
    left = {(a["kind"], a["op"]) for a in plan_json(incusd, tmp_path, infra)["actions"]}
    assert left == {("instance", "create")}, left

    made = batch(incusd, tmp_path, "apply", infra, "--only", "instances", "--json")
    assert made.returncode == 0, made.stderr
    assert {k: i["status"] for k, i in instances(incusd).items()} == {
        ("lab", "lab-one"): "Running",
        ("work", "work-one"): "Running",
    }
    assert plan_json(incusd, tmp_path, infra)["actions"] == []


def test_unknown_step_is_a_usage_error_naming_the_steps(tmp_path):
    infra = tmp_path / "infra.yml"
    infra.write_text(INFRA)
    env_daemon = type("NoDaemon", (), {"url": "unix:///nonexistent/unix.socket"})()
    result = batch(env_daemon, tmp_path, "apply", infra, "--only", "networks,bridges")
    assert result.returncode == 2, result.stderr
    assert "unknown step 'bridges'" in result.stderr
    assert "projects, networks, profiles, images, instances, isolation, provision" in result.stderr
    contradiction = batch(env_daemon, tmp_path, "apply", infra, "--only", "provision")  # batch adds --no-provision
    assert contradiction.returncode == 2 and "contradict" in contradiction.stderr, contradiction.stderr
