"""Provisioning failures are per machine (issue 16 point 4): one machine's failure never keeps the other
machines' roles from running, the summary says which ran and which failed, and the hint the tool gives,
followed as written, leads to a run that works. Real runs on the throwaway daemon (Debian+python3 image,
whose init is a shell loop, not systemd); files the roles wrote are read back with the incus CLI."""

from __future__ import annotations

from pathlib import Path

from tests.provision.provision_helpers import anklume, apply_without_provisioning, json_of, write_lab

ADMIN_AND_WORK = """\
project_name: provfail
global:
  addressing: {}
  default_os_image: debian
domains:
  anklume:
    trust_level: admin
    machines:
      admin-box: {roles: [tally]}
  work:
    machines:
      work-box: {roles: [tally]}
"""
DOMAIN = {"admin-box": "anklume", "work-box": "work"}

# A custom role that adds a line to a file on every run: how many runs reached a machine's own roles.
TALLY_TASKS = """\
---
- name: Count this run
  ansible.builtin.shell: echo ran >> /root/tally
  changed_when: true
"""


def tally(daemon, machine: str) -> int:
    read = daemon.incus("exec", machine, f"--project={DOMAIN[machine]}", "--", "cat", "/root/tally", check=False)
    return len(read.stdout.split())


def outcomes(result) -> dict[str, tuple[str, list[str]]]:
    return {h["host"]: (h["outcome"], h["not_run"]) for h in json_of(result)["hosts"]}


def add_line(path: Path, line: str) -> None:
    with path.open("a") as handle:
        handle.write(line + "\n")


def test_one_machines_failure_leaves_the_others_provisioned_and_the_hint_leads_to_a_working_run(
    incusd, debian_image, tmp_path
):
    infra = write_lab(tmp_path, incusd, ADMIN_AND_WORK, custom="anklume_offline: true\n")
    (tmp_path / "roles_custom" / "tally" / "tasks").mkdir(parents=True)
    (tmp_path / "roles_custom" / "tally" / "tasks" / "main.yml").write_text(TALLY_TASKS)
    add_line(tmp_path / "host_vars" / "work-box.yml", "base_system_require_systemd: false")
    apply_without_provisioning(incusd, tmp_path, infra)

    # 1. admin-box is not run by systemd: base_system stops it, with a hint saying what to write where
    first = anklume(incusd, tmp_path, "provision", infra)
    assert first.returncode == 1, first.stderr + first.stdout
    assert "add the line `base_system_require_systemd: false` at the end of host_vars/admin-box.yml" in first.stdout
    assert (tally(incusd, "admin-box"), tally(incusd, "work-box")) == (0, 1)
    assert "admin-box: failed; not run: admin_bootstrap, tally" in first.stdout
    assert "Provisioning of 2 machine(s): provisioned 1 (work-box), failed 1 (admin-box); " in first.stdout

    # 2. the hint followed as written: every machine is provisioned (admin_bootstrap included)
    add_line(tmp_path / "host_vars" / "admin-box.yml", "base_system_require_systemd: false")
    second = anklume(incusd, tmp_path, "provision", infra, "--json")
    assert second.returncode == 0, second.stderr + second.stdout
    assert outcomes(second) == {"admin-box": ("provisioned", []), "work-box": ("provisioned", [])}
    assert (tally(incusd, "admin-box"), tally(incusd, "work-box")) == (1, 2)
    socket_dir = incusd.incus(
        "exec", "admin-box", "--project=anklume", "--", "test", "-d", "/var/run/incus", check=False
    )
    assert socket_dir.returncode == 0

    # 3. admin_bootstrap fails on the admin machine: the other machine's roles still run, and the summary says
    # that admin-box failed (its own roles never started), not `failed=0` for anyone who did not run
    add_line(tmp_path / "host_vars" / "admin-box.yml", "admin_bootstrap_socket_dir: /etc/hostname/incus")
    third = anklume(incusd, tmp_path, "provision", infra, "--json")
    assert third.returncode == 1, third.stderr + third.stdout
    assert outcomes(third) == {"admin-box": ("failed", ["tally"]), "work-box": ("provisioned", [])}
    assert [(p["host"], p["task"]) for p in json_of(third)["problems"]] == [
        ("admin-box", "admin_bootstrap : Create the Incus socket folder now")
    ]
    assert (tally(incusd, "admin-box"), tally(incusd, "work-box")) == (1, 3)
