"""Infra text is data, never Ansible template code (SPEC §7.2, M13), proven by real provisioning runs.

Every free-text field of the infra that reaches Ansible holds `{{ lookup('pipe', 'touch <marker>') }}`: in the
generated group_vars and host_vars, and in the firewall ruleset passed as extra vars to `firewall_router`. A role
of the user's tree (roles_custom/show_infra_text, as any user role may) reads each of those variables, so a value
Ansible would evaluate is evaluated; the shipped `firewall_router` reads the ruleset. No marker may appear, on the
host (where lookups run) nor in a machine, and the machine gets the text exactly as written.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

from tests.engine.apply_helpers import ROOT
from tests.provision.provision_helpers import (
    OFFLINE_LAB_VARS,
    anklume,
    apply_without_provisioning,
    in_machine,
    json_of,
    write_lab,
)

SHOW_INFRA_TEXT = """\
---
- name: Write the infra text this machine was given
  ansible.builtin.copy:
    dest: /root/infra-text.json
    mode: "0600"
    content: "{{ {'project': project_name, 'domain': domain_description, 'machine': instance_description,
      'policies': network_policies | default([]), 'config': instance_config | default({}),
      'profiles': incus_profiles | default({}), 'devices': instance_devices | default({}),
      'connection': psot_default_connection | default(''),
      'ruleset': firewall_router_ruleset | default('')} | to_json }}"
"""


def lab(text_of) -> str:
    """Two domains on the test image; alpha-one runs the user's role, beta-one the firewall VM's role (so the
    run carries the firewall ruleset as extra vars)."""
    return f"""\
project_name: {json.dumps(text_of("project"))}
global:
  addressing: {{}}
  default_os_image: debian
  default_user: student
  default_connection: {json.dumps(text_of("connection"))}
domains:
  alpha:
    description: {json.dumps(text_of("domain"))}
    trust_level: trusted
    profiles:
      tagged:
        config: {{user.note: {json.dumps(text_of("profile"))}}}
    machines:
      alpha-one:
        description: {json.dumps(text_of("machine"))}
        profiles: [default, tagged]
        roles: [show_infra_text]
        config: {{user.note: {json.dumps(text_of("config"))}}}
        devices:
          notes: {{type: disk, source: /srv, path: {json.dumps("/mnt/" + text_of("device"))}}}
  beta:
    machines:
      beta-one:
        roles: [firewall_router]
network_policies:
  - description: {json.dumps(text_of("policy"))}
    from: alpha
    to: beta
    ports: [5900]
"""


def with_user_role(tmp_path: Path) -> None:
    tasks = tmp_path / "roles_custom" / "show_infra_text" / "tasks"
    tasks.mkdir(parents=True)
    (tasks / "main.yml").write_text(SHOW_INFRA_TEXT)


def text_in(daemon, machine: str) -> dict:
    shown = in_machine(daemon, machine, "cat", "/root/infra-text.json")
    assert shown.returncode == 0, shown.stderr
    return json.loads(shown.stdout)


def test_template_code_in_every_infra_text_reaching_ansible_runs_nowhere(incusd, debian_image, tmp_path):
    marker = f"/tmp/anklume-never-{uuid.uuid4().hex}"

    def text_of(field: str) -> str:
        lookup = f"{{{{ lookup('pipe', 'touch {marker}-{field}') }}}}"
        return f"{field} {lookup}"

    infra = write_lab(tmp_path, incusd, lab(text_of))
    with_user_role(tmp_path)
    apply_without_provisioning(incusd, tmp_path, infra)
    # beta-one is a container playing the firewall VM: the folders and the `nft` check its role expects
    in_machine(incusd, "beta-one", "mkdir", "-p", "/etc/systemd/network", "/etc/sysctl.d")
    in_machine(
        incusd, "beta-one", "sh", "-c", "printf '#!/bin/sh\\nexit 0\\n' >/usr/sbin/nft && chmod 755 /usr/sbin/nft"
    )

    result = anklume(incusd, tmp_path, "provision", infra, "--json")

    leaked = sorted(str(p) for p in Path("/tmp").glob(Path(marker).name + "*"))
    assert leaked == [], f"infra text ran as template code on the host: {leaked}\n{result.stdout}"
    for machine in ("alpha-one", "beta-one"):
        inside = in_machine(incusd, machine, "sh", "-c", f"ls {marker}* 2>/dev/null").stdout
        assert inside == "", f"{machine}: {inside}"
    assert result.stdout.startswith("{"), result.stderr + result.stdout
    report = json_of(result)
    # beta-one is a container without systemd: only the role's first systemd task, after the ruleset is written,
    # fails (its last two tasks start systemd-networkd and enable nftables.service)
    problems = [(p["host"], p["task"]) for p in report["problems"]]
    assert problems == [("beta-one", "firewall_router : Run systemd-networkd now and at boot")], result.stdout
    shown = text_in(incusd, "alpha-one")
    assert shown["project"] == text_of("project") and shown["connection"] == text_of("connection")
    assert (shown["domain"], shown["machine"]) == (text_of("domain"), text_of("machine"))
    assert shown["policies"][0]["description"] == text_of("policy")
    assert shown["config"]["user.note"] == text_of("config")
    assert shown["profiles"]["tagged"]["config"]["user.note"] == text_of("profile")
    assert shown["devices"]["notes"]["path"] == "/mnt/" + text_of("device")
    assert f"# {text_of('policy')}" in shown["ruleset"]
    # the shipped role wrote the ruleset as given: the policy's comment is text in the file
    written = in_machine(incusd, "beta-one", "cat", "/etc/nftables.d/anklume-firewall.nft").stdout
    assert f"# {text_of('policy')}\n" in written


def test_a_description_with_braces_provisions_normally(incusd, debian_image, tmp_path):
    text = "Ports {{ 80 }} and {% not jinja"
    infra_text = f"""\
project_name: braces
global:
  addressing: {{}}
  default_os_image: debian
  default_user: student
domains:
  alpha:
    description: "{text} (domain)"
    trust_level: trusted
    machines:
      alpha-one:
        description: "{text} (machine)"
        roles: [show_infra_text]
  beta:
    machines:
      beta-one: {{}}
network_policies:
  - description: "{text} (policy)"
    from: alpha
    to: beta
"""
    infra = write_lab(tmp_path, incusd, infra_text, custom=OFFLINE_LAB_VARS)
    with_user_role(tmp_path)
    applied = anklume(incusd, tmp_path, "apply", infra, "--json")
    assert applied.returncode == 0, applied.stderr + applied.stdout
    report = json_of(applied)["provision"]
    assert report["ok"] is True and report["problems"] == []
    shown = text_in(incusd, "alpha-one")
    assert (shown["domain"], shown["machine"]) == (f"{text} (domain)", f"{text} (machine)")
    assert shown["policies"][0]["description"] == f"{text} (policy)"
    assert in_machine(incusd, "beta-one", "getent", "passwd", "student").returncode == 0


def test_a_role_that_is_template_code_is_refused_before_anything_runs(tmp_path):
    marker = f"/tmp/anklume-never-{uuid.uuid4().hex}"
    infra = tmp_path / "infra.yml"
    infra.write_text(
        "project_name: roles\nglobal:\n  addressing: {}\ndomains:\n  alpha:\n    machines:\n      alpha-one:\n"
        f"        roles: [\"{{{{ lookup('pipe', 'touch {marker}') }}}}\"]\n"
    )
    found = subprocess.run(
        [sys.executable, "-m", "anklume_tui", "--batch", "provision", "--infra", str(infra)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "XDG_STATE_HOME": str(tmp_path), "ANKLUME_INCUS": "unix:///nonexistent"},
    )
    assert found.returncode == 2, found.stderr + found.stdout
    assert f"{infra}:8:17: error[M13]: Machine 'alpha-one': role " in found.stdout + found.stderr
    assert "Traceback" not in found.stderr
    assert not Path(marker).exists()
