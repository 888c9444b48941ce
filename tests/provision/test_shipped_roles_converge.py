"""The shipped roles base_system, admin_bootstrap, download_check, docker_engine, swarm_node, code_sandbox,
dev_test_runner and dev_agent_runner converge on real containers through `--batch provision`, a second run
changes nothing, and what they were for is there: services answering, files with their content, accounts.

One lab for the whole file (one apply, two provisioning runs), on the systemd image: its init is systemd and
the packages the roles' online paths install are pre-seeded, its apt sources empty (tests/image_helpers.py):
the containers have no route out. Which path each role's test takes is said in the role's README.
- anklume-instance (admin, `anklume_offline: true`): base_system, admin_bootstrap, code_sandbox and
  dev_test_runner offline; docker_engine is refused there by download_check, naming the machine and what to do.
- dev-box (online, nesting): base_system, docker_engine, swarm_node, code_sandbox, dev_test_runner and
  dev_agent_runner online; download_check against a stand-in site (tests/provision/roles_helpers.py).
"""

from __future__ import annotations

import subprocess
import tarfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.image_helpers import build_busybox_image, build_systemd_image
from tests.incusd_helpers import ThrowawayIncus
from tests.provision.provision_helpers import anklume, apply_without_provisioning, json_of, write_lab
from tests.provision.roles_helpers import StandInSite, stand_in_site
from tests.wait_helpers import wait_until

LAB = """\
project_name: roles
global:
  addressing: {}
  default_os_image: systemd
  default_user: student
domains:
  anklume:
    trust_level: admin
    machines:
      anklume-instance:
        roles: [code_sandbox, dev_test_runner, docker_engine]
  dev:
    trust_level: trusted
    machines:
      dev-box:
        config:
          security.nesting: "true"
        roles: [download_check, docker_engine, swarm_node, code_sandbox, dev_test_runner, dev_agent_runner]
"""
PROJECT = {"anklume-instance": "anklume", "dev-box": "dev"}
OFFLINE = "anklume_offline: true\n"


@dataclass
class Converged:
    daemon: ThrowawayIncus
    tree: Path
    first: dict
    second: dict
    first_run: subprocess.CompletedProcess
    second_run: subprocess.CompletedProcess
    site: StandInSite

    def run(self, machine: str, *command: str, user: str | None = None) -> subprocess.CompletedProcess:
        """A command in a machine with the incus CLI (as `user` with runuser, else root)."""
        if user:
            command = ("runuser", "-u", user, "--", *command)
        return self.daemon.incus("exec", machine, f"--project={PROJECT[machine]}", "--", *command, check=False)

    def out(self, machine: str, *command: str, user: str | None = None) -> str:
        done = self.run(machine, *command, user=user)
        assert done.returncode == 0, f"{command} in {machine}: {done.stderr}"
        return done.stdout

    def ran(self, machine: str, task: str) -> bool:
        """Whether the first run carried out `task` on `machine` (its progress lines on stderr: ok or changed)."""
        return any(
            line.split(None, 1)[0] in ("ok", "changed") and line.split(None, 1)[1] == f"{machine}: {task}"
            for line in self.first_run.stderr.splitlines()
            if line.strip()
        )

    def host(self, report: dict, machine: str) -> dict:
        return next(h for h in report["hosts"] if h["host"] == machine)

    def ip(self, machine: str) -> str:
        return yaml.safe_load((self.tree / "host_vars" / f"{machine}.yml").read_text())["instance_ip"]


@pytest.fixture(scope="module")
def lab(incus_daemon, tmp_path_factory) -> Iterator[Converged]:
    daemon, tree, seconds = incus_daemon, tmp_path_factory.mktemp("roles"), {}
    t0 = time.monotonic()
    daemon.import_image("default", "systemd", image=build_systemd_image())
    seconds["systemd image build (or cache hit) and import"] = time.monotonic() - t0
    try:
        with stand_in_site(daemon) as site:
            infra = write_lab(tree, daemon, LAB, custom="")
            # offline: docker_engine goes on where Docker's packages are all installed (the image has docker.io);
            # one missing (docker-compose is not in the image) and it is refused, which is download_check's case
            add_vars(
                tree, "anklume-instance", "anklume_offline: true\ndocker_engine_packages: [docker.io, docker-compose]\n"
            )
            add_vars(
                tree,
                "dev-box",
                f'download_check_urls: ["http://{{{{ incus_network.gateway }}}}:{site.port}/mirror/"]\n'
                "download_check_role: the lab\ndocker_engine_users: [student]\n",
            )
            t0 = time.monotonic()
            apply_without_provisioning(daemon, tree, infra)
            seconds["apply (2 containers)"] = time.monotonic() - t0
            runs = []
            for run in ("first", "second"):
                t0 = time.monotonic()
                done = anklume(daemon, tree, "provision", infra, "--json")
                seconds[f"{run} provisioning run"] = time.monotonic() - t0
                assert done.returncode == 1, done.stderr + done.stdout  # anklume-instance is refused docker_engine
                runs.append(done)
            yield Converged(daemon, tree, json_of(runs[0]), json_of(runs[1]), runs[0], runs[1], site)
    finally:
        print(", ".join(f"{k}: {v:.1f} s" for k, v in seconds.items()))
        daemon.reset()


def add_vars(tree: Path, machine: str, text: str) -> None:
    with (tree / "host_vars" / f"{machine}.yml").open("a") as host_vars:
        host_vars.write(text)


def test_every_machine_converges_and_a_second_run_changes_nothing(lab):
    assert lab.host(lab.first, "dev-box")["outcome"] == "provisioned", lab.first_run.stdout
    # anklume-instance: every role ran up to docker_engine's refusal, which ends its list (test of download_check)
    assert lab.host(lab.first, "anklume-instance")["outcome"] == "failed"
    assert [(p["host"], p["task"]) for p in lab.first["problems"]] == [
        ("anklume-instance", "download_check : Refuse to download on a machine marked offline")
    ]
    assert all(lab.host(lab.first, machine)["changed"] > 0 for machine in PROJECT)
    changed = [line for line in lab.second_run.stderr.splitlines() if line.startswith("changed ")]
    # on failure: what changed the second time, and every line of the first run about anklume-instance
    first = [line for line in lab.first_run.stderr.splitlines() if "anklume-instance" in line]
    assert {h["host"]: h["changed"] for h in lab.second["hosts"]} == dict.fromkeys(PROJECT, 0), (changed, first)
    assert {h["host"]: h["outcome"] for h in lab.second["hosts"]} == {
        "anklume-instance": "failed",
        "dev-box": "provisioned",
    }
    assert all(h["ok"] > 20 for h in lab.second["hosts"])  # the tasks ran again, and found nothing to change


def test_base_system_online_sets_the_machine_up_and_offline_skips_only_the_packages(lab):
    for machine in PROJECT:
        motd = lab.out(machine, "cat", "/etc/motd")
        assert motd.startswith(f"{machine}: domain {PROJECT[machine]}, trust level ")
        assert lab.out(machine, "cat", "/etc/timezone") == "Europe/Paris\n"
        assert lab.out(machine, "readlink", "/etc/localtime").strip() == "/usr/share/zoneinfo/Europe/Paris"
        assert lab.out(machine, "cat", "/etc/systemd/journald.conf.d/anklume.conf").endswith("SystemMaxUse=200M\n")
        assert lab.out(machine, "systemctl", "is-active", "systemd-journald") == "active\n"
        assert lab.out(machine, "getent", "passwd", "student").strip().endswith(":/home/student:/bin/bash")
        assert lab.out(machine, "sudo", "-n", "id", "-un", user="student") == "root\n"
        assert 'Acquire::http::Timeout "15";' in lab.out(machine, "cat", "/etc/apt/apt.conf.d/80anklume-timeouts")
        assert "en_US.utf8" in lab.out(machine, "locale", "-a").split()
    # apt was asked on dev-box only (the packages come pre-seeded in the image: what differs is the path taken)
    assert lab.ran("dev-box", "base_system : Install the base packages with apt")
    assert not lab.ran("anklume-instance", "base_system : Install the base packages with apt")


def test_admin_bootstrap_offline_makes_the_socket_folder_and_systemd_remakes_it_at_boot(lab):
    conf = lab.out("anklume-instance", "cat", "/etc/tmpfiles.d/anklume-incus.conf")
    assert conf.splitlines()[-1] == "d /var/run/incus 0755 root root -"
    owned = 'test -d /var/run/incus && [ "$(stat -c %a%U /var/run/incus)" = 755root ]'
    assert lab.run("anklume-instance", "sh", "-c", owned).returncode == 0
    assert not lab.ran("anklume-instance", "admin_bootstrap : Install Ansible and git with apt")  # offline
    assert lab.run("dev-box", "test", "-e", "/etc/tmpfiles.d/anklume-incus.conf").returncode == 1  # admin only
    # /run is a tmpfs: after a restart the folder is back only because systemd-tmpfiles read the file
    lab.daemon.incus("restart", "anklume-instance", "--project=anklume")
    wait_until(
        lambda: lab.run("anklume-instance", "test", "-d", "/var/run/incus").returncode == 0,
        60,
        "/var/run/incus after anklume-instance's restart",
        0.5,
    )
    assert lab.out("anklume-instance", "findmnt", "-no", "FSTYPE", "/run") == "tmpfs\n"


def test_download_check_asks_the_site_and_refuses_a_machine_marked_offline(lab):
    asked = set(lab.site.requests)
    assert (lab.ip("dev-box"), "HEAD", "/mirror/") in asked
    assert {client for client, _, _ in asked} == {lab.ip("dev-box")}  # the offline machine never asked
    [refused] = [p for p in lab.first["problems"] if p["host"] == "anklume-instance"]
    assert refused["task"] == "download_check : Refuse to download on a machine marked offline"
    assert refused["message"] == (
        "docker_engine needs downloads from the internet (the Debian mirror), but anklume-instance is marked "
        "anklume_offline: true. Remove the role from this machine, or give its domain internet access and drop "
        "anklume_offline."
    )
    assert not lab.ran("anklume-instance", "docker_engine : Install Docker with apt")


def test_docker_engine_runs_docker_with_its_log_limits(lab, tmp_path):
    assert lab.out("dev-box", "systemctl", "is-enabled", "docker") == "enabled\n"
    state = lab.run("anklume-instance", "systemctl", "is-active", "docker")  # not listed: exit 3, "inactive"
    assert state.stdout == "inactive\n", (state.returncode, state.stderr)
    assert '"max-size": "10m"' in lab.out("dev-box", "cat", "/etc/docker/daemon.json")
    # a container really runs (an image imported from the busybox test rootfs: nothing to download)
    lab.daemon.incus("file", "push", str(docker_layer(tmp_path)), "dev-box/root/busybox.tar.gz", "--project=dev")
    lab.out("dev-box", "docker", "import", "/root/busybox.tar.gz", "anklume-test/busybox")
    ran = lab.out("dev-box", "docker", "run", "--rm", "anklume-test/busybox", "/bin/echo", "ran in docker")
    assert ran == "ran in docker\n"
    created = lab.out("dev-box", "docker", "create", "anklume-test/busybox", "/bin/true").strip()
    log_config = lab.out("dev-box", "docker", "inspect", "--format", "{{json .HostConfig.LogConfig}}", created)
    assert yaml.safe_load(log_config) == {"Type": "json-file", "Config": {"max-file": "3", "max-size": "10m"}}
    assert lab.out("dev-box", "docker", "info", "--format", "{{.Name}}", user="student").strip()  # docker group


def docker_layer(folder: Path) -> Path:
    """The busybox test rootfs as a Docker layer: each path once (`docker import` refuses a tar naming a path
    twice, as the rootfs does for sbin/init)."""
    layer, seen = folder / "busybox.tar.gz", set()
    with tarfile.open(build_busybox_image().rootfs) as source, tarfile.open(layer, "w:gz") as target:
        for member in source.getmembers():
            if member.name not in seen:
                seen.add(member.name)
                target.addfile(member, source.extractfile(member) if member.isfile() else None)
    return layer


def test_swarm_node_initialises_a_swarm_that_listens_on_the_machines_address(lab):
    state = lab.out("dev-box", "docker", "info", "--format", "{{.Swarm.LocalNodeState}} {{.Swarm.NodeAddr}}")
    assert state == f"active {lab.ip('dev-box')}\n"
    nodes = lab.out("dev-box", "docker", "node", "ls", "--format", "{{.Hostname}} {{.ManagerStatus}}")
    assert nodes.split() == [lab.out("dev-box", "hostname").strip(), "Leader"]
    listening = lab.out("dev-box", "cat", "/proc/net/tcp", "/proc/net/tcp6")
    assert f":{2377:04X} " in listening  # the swarm's management port


def test_code_sandbox_gives_an_unprivileged_account_its_workspace_and_tools(lab):
    for machine in PROJECT:
        assert lab.out(machine, "stat", "-c", "%U %G %a", "/srv/workspace") == "coder coder 750\n"
        assert "sudo" not in lab.out(machine, "id", "-nG", "coder").split()
        assert lab.out(machine, "runuser", "-l", "coder", "-c", "pwd") == "/srv/workspace\n"  # login shells
    # online: apt was asked, and the tools work for the account in its workspace
    assert lab.ran("dev-box", "code_sandbox : Install the development tools with apt")
    lab.out("dev-box", "git", "init", "-q", "/srv/workspace/app", user="coder")
    lab.out("dev-box", "python3", "-m", "venv", "--without-pip", "/srv/workspace/venv", user="coder")
    assert lab.run("dev-box", "touch", "/etc/coder-was-here", user="coder").returncode != 0
    assert not lab.ran("anklume-instance", "code_sandbox : Install the development tools with apt")  # offline


PASSING = "test:\n\t@id -un\n\t@echo HOME=$$HOME\n"
FAILING = "test:\n\t@echo one test failed; exit 3\n"


def test_test_runners_run_a_suite_as_their_own_account_with_their_own_cache(lab):
    for name, makefile in (("passing", PASSING), ("failing", FAILING)):
        lab.out("dev-box", "mkdir", "-p", f"/srv/{name}")
        lab.out("dev-box", "sh", "-c", f"printf '%s' '{makefile}' > /srv/{name}/Makefile")
    ran = lab.run("dev-box", "anklume-run-tests", "/srv/passing")
    assert (ran.returncode, ran.stdout) == (0, "runner\nHOME=/var/cache/ci\n")
    failed = lab.run("dev-box", "anklume-run-tests", "/srv/failing")
    assert failed.returncode != 0 and "one test failed" in failed.stdout
    agent = lab.run("dev-box", "anklume-run-agent-tests", "/srv/passing")
    assert (agent.returncode, agent.stdout) == (0, "agent-runner\nHOME=/var/cache/agent-runner\n")
    assert "timeout 600 " in lab.out("dev-box", "cat", "/usr/local/bin/anklume-run-agent-tests")
    assert lab.out("dev-box", "stat", "-c", "%U %a", "/var/cache/ci", "/var/cache/agent-runner") == (
        "runner 750\nagent-runner 750\n"
    )
    assert lab.ran("dev-box", "dev_test_runner : Install the build tools with apt")
    # offline (anklume-instance): the account, its cache and the command, without apt
    assert lab.out("anklume-instance", "stat", "-c", "%U", "/var/cache/ci") == "runner\n"
    assert lab.run("anklume-instance", "test", "-x", "/usr/local/bin/anklume-run-tests").returncode == 0
    assert not lab.ran("anklume-instance", "dev_test_runner : Install the build tools with apt")
