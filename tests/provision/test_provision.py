"""Provisioning for real: ansible-runner and the `anklume_incus` connection against the throwaway Incus, on
the Debian+python3 image. Results are read back with the incus CLI, not through our code.

The containers never have a route out of the daemon's network namespace, so packages that need the
network are not installed here: the lab sets `anklume_offline: true` (tests/provision/provision_helpers.py), and the
roles that must download are checked to fail fast, naming the machine, the task and the site.
"""

from __future__ import annotations

import time
from pathlib import Path

import yaml

from tests.provision.provision_helpers import (
    MACHINES,
    anklume,
    apply_without_provisioning,
    in_machine,
    json_of,
    write_lab,
)

FAKE_DOCKER = Path(__file__).parent / "fixtures" / "fake-docker.sh"


def test_apply_provisions_two_domains_then_a_second_run_changes_nothing(incusd, debian_image, tmp_path):
    infra = write_lab(tmp_path, incusd)
    applied = anklume(incusd, tmp_path, "apply", infra, "--json")
    assert applied.returncode == 0, applied.stderr + applied.stdout
    first = json_of(applied)["provision"]
    assert first["ok"] is True and first["problems"] == []
    assert {h["host"]: h["changed"] > 0 for h in first["hosts"]} == {"alpha-one": True, "beta-one": True}
    # progress: a line per machine and task on stderr
    assert "changed     alpha-one: base_system : Say which domain the machine belongs to" in applied.stderr
    assert "changed     beta-one: base_system : Create the login user" in applied.stderr

    for machine, domain in MACHINES.items():
        motd = in_machine(incusd, machine, "cat", "/etc/motd").stdout
        trust = "trusted" if domain == "alpha" else "semi-trusted"
        assert motd.startswith(f"{machine}: domain {domain}, trust level {trust}\n")  # group and host vars reached
        assert in_machine(incusd, machine, "readlink", "/etc/localtime").stdout.strip().endswith("Europe/Paris")
        assert in_machine(incusd, machine, "cat", "/etc/default/locale").stdout == "LANG=en_US.UTF-8\n"
        user = in_machine(incusd, machine, "getent", "passwd", "student").stdout
        assert user.startswith("student:") and user.strip().endswith(":/home/student:/bin/bash")
        assert "sudo" in in_machine(incusd, machine, "id", "-nG", "student").stdout.split()
        journald = in_machine(incusd, machine, "cat", "/etc/systemd/journald.conf.d/anklume.conf").stdout
        assert "SystemMaxUse=200M" in journald
        # offline: apt was never asked for the base packages (htop is one of them)
        assert in_machine(incusd, machine, "sh", "-c", "command -v htop").returncode != 0
        # nothing of the run stays behind in the machine (pipelined modules go in as unlinked files)
        assert in_machine(incusd, machine, "sh", "-c", "ls -A /tmp /root/.ansible/tmp").stdout.strip() == (
            "/root/.ansible/tmp:\n\n/tmp:"
        )

    second = anklume(incusd, tmp_path, "provision", infra, "--json")
    assert second.returncode == 0, second.stderr + second.stdout
    report = json_of(second)
    assert report["ok"] is True and report["limit"] is None
    assert {h["host"]: h["changed"] for h in report["hosts"]} == {"alpha-one": 0, "beta-one": 0}
    assert all(h["ok"] > 10 for h in report["hosts"])  # the tasks ran, and found nothing to change


def test_limit_provisions_only_that_domain(incusd, debian_image, tmp_path):
    infra = write_lab(tmp_path, incusd)
    apply_without_provisioning(incusd, tmp_path, infra)
    result = anklume(incusd, tmp_path, "provision", infra, "--limit", "alpha", "--json")
    assert result.returncode == 0, result.stderr + result.stdout
    assert [h["host"] for h in json_of(result)["hosts"]] == ["alpha-one"]
    assert "beta-one" not in result.stderr
    assert in_machine(incusd, "alpha-one", "getent", "passwd", "student").returncode == 0
    assert in_machine(incusd, "beta-one", "getent", "passwd", "student").returncode == 2  # no such user
    assert "anklume-tui" not in in_machine(incusd, "beta-one", "cat", "/etc/motd").stdout


def test_stopped_machine_is_reported_unreachable_by_name(incusd, debian_image, tmp_path):
    infra = write_lab(tmp_path, incusd)
    apply_without_provisioning(incusd, tmp_path, infra)
    incusd.incus("stop", "beta-one", "--project=beta", "--force")
    result = anklume(incusd, tmp_path, "provision", infra, "--limit", "beta")
    assert result.returncode == 1
    assert "unreachable beta-one: Install python3 when it is missing: " in result.stderr
    assert "unreachable: beta-one: Install python3 when it is missing: " in result.stdout
    assert "instance beta-one (Incus project beta) is not running" in result.stdout
    assert "beta-one: ok=0 changed=0 unreachable=1 failed=0" in result.stdout


def test_download_role_fails_fast_naming_machine_task_and_site_when_offline(incusd, debian_image, tmp_path):
    """Without anklume_offline the machine tries: ollama_server's site check gives up at once (no route out)
    with a message naming the machine, the task and the site, and the run stops there for that machine."""
    text = "project_name: dl\nglobal:\n  addressing: {}\n  default_os_image: debian\ndomains:\n"
    text += "  beta:\n    machines:\n      beta-one:\n        roles: [ollama_server]\n"
    infra = write_lab(tmp_path, incusd, text, custom="base_system_require_systemd: false\nbase_system_packages: []\n")
    apply_without_provisioning(incusd, tmp_path, infra)
    t0 = time.monotonic()
    result = anklume(incusd, tmp_path, "provision", infra)
    elapsed = time.monotonic() - t0
    assert result.returncode == 1
    failure = [line for line in result.stdout.splitlines() if line.startswith("failed: ")]
    assert len(failure) == 1, result.stdout
    assert failure[0].startswith(
        "failed: beta-one: download_check : Stop when a download site is out of reach: "
        "ollama_server on beta-one cannot reach https://ollama.com/download/ollama-linux-amd64.tgz ("
    )
    assert "give the domain internet access" in failure[0]
    assert in_machine(incusd, "beta-one", "test", "-e", "/root/ollama-linux.tgz").returncode == 1  # nothing fetched
    assert elapsed < 120, f"an offline download check must not hang ({elapsed:.0f} s)"


SWARM = """\
project_name: swarm
global:
  addressing: {}
  default_os_image: debian
domains:
  swarm:
    machines:
      swarm-manager: {roles: [swarm_node]}
      swarm-worker-1: {roles: [swarm_node]}
      swarm-worker-2: {roles: [swarm_node]}
"""


def test_swarm_first_host_initialises_and_the_others_join_once(incusd, debian_image, tmp_path):
    """Docker cannot be downloaded here: each node gets a `docker` test double (fixtures/fake-docker.sh) that
    keeps a swarm state and logs its calls, so what is proven is the role's orchestration across machines:
    the first host inits, the others join with its token and address (worker-2 as a manager, as its vars
    ask), and a second run changes nothing."""
    infra = write_lab(tmp_path, incusd, SWARM)
    with (tmp_path / "host_vars" / "swarm-worker-2.yml").open("a") as host_vars:
        host_vars.write("swarm_node_role: manager\n")
    apply_without_provisioning(incusd, tmp_path, infra)
    nodes = ("swarm-manager", "swarm-worker-1", "swarm-worker-2")
    for node in nodes:
        incusd.incus("file", "push", "--mode=0755", str(FAKE_DOCKER), f"{node}/usr/local/bin/docker", "--project=swarm")
    ips = {node: yaml.safe_load((tmp_path / "host_vars" / f"{node}.yml").read_text())["instance_ip"] for node in nodes}

    first = anklume(incusd, tmp_path, "provision", infra, "--json")
    assert first.returncode == 0, first.stderr + first.stdout
    assert "changed     swarm-manager: swarm_node : Initialise the swarm on the first manager" in first.stderr
    calls = {node: docker_calls(incusd, node) for node in nodes}
    assert f"swarm init --advertise-addr {ips['swarm-manager']}" in calls["swarm-manager"]
    assert not any(c.startswith("swarm init") for node in nodes[1:] for c in calls[node])
    manager = f"{ips['swarm-manager']}:2377"
    joins = {
        "swarm-worker-1": f"swarm join --advertise-addr {ips['swarm-worker-1']} --token SWMTKN-worker-swarm-manager",
        "swarm-worker-2": f"swarm join --advertise-addr {ips['swarm-worker-2']} --token SWMTKN-manager-swarm-manager",
    }
    for node, join in joins.items():
        assert f"{join} {manager}" in calls[node]

    second = anklume(incusd, tmp_path, "provision", infra, "--json")
    assert second.returncode == 0, second.stderr + second.stdout
    assert {h["host"]: h["changed"] for h in json_of(second)["hosts"]} == dict.fromkeys(nodes, 0)
    again = {node: docker_calls(incusd, node) for node in nodes}
    assert all(c.startswith(("info", "swarm join-token")) for node in nodes for c in again[node][len(calls[node]) :])


def docker_calls(daemon, node: str) -> list[str]:
    return daemon.incus("exec", node, "--project=swarm", "--", "cat", "/var/log/fake-docker.log").stdout.splitlines()
