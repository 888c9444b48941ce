"""`--batch provision` refuses what cannot work before touching Incus or Ansible (no daemon needed: the Incus
URL points at a socket that does not exist, so reaching for Incus would exit 3 instead)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from anklume_tui.engine.host import paths as state
from anklume_tui.engine.host.apply_lock import ApplyLock
from anklume_tui.engine.provision.runner import ProvisionRefused
from anklume_tui.engine.provision.runner import provision as engine_provision
from anklume_tui.psot.context import HostContext
from anklume_tui.psot.pipeline import run_psot
from tests.engine.apply_helpers import ROOT

INFRA = """\
project_name: refused
global:
  addressing: {}
domains:
  lab:
    machines:
      lab-box:
        roles: [base_system, no_such_role]
"""


def provision(tmp_path, *args):
    infra = tmp_path / "infra.yml"
    infra.write_text(INFRA)
    env = dict(os.environ)
    env.pop("ANKLUME_INFRA", None)
    env.update(
        ANKLUME_INCUS=f"unix://{tmp_path}/no-daemon.socket",
        ANKLUME_SKIP_HOST_SUBNET_CHECK="1",
        ANKLUME_CONTEXT_DIR=str(tmp_path / "no-context"),
        XDG_STATE_HOME=str(tmp_path / "state"),
    )
    command = [sys.executable, "-m", "anklume_tui", "--batch", "provision", "--infra", str(infra), *args]
    return subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_role_found_in_no_role_folder_is_refused_with_machine_and_role(tmp_path):
    result = provision(tmp_path)
    assert result.returncode == 2, result.stderr
    assert "lab-box: role 'no_such_role' found in none of " in result.stderr
    assert "roles_custom" in result.stderr and "roles_vendor" in result.stderr
    assert not (tmp_path / "inventory").exists()  # refused before writing anything
    assert "Traceback" not in result.stderr


def test_unknown_limit_is_a_usage_error(tmp_path):
    result = provision(tmp_path, "--limit", "nowhere")
    assert result.returncode == 2
    assert "--limit 'nowhere': no enabled domain of that name (enabled: lab)" in result.stderr


def test_unreachable_incus_exits_3(tmp_path):
    (tmp_path / "roles_custom" / "no_such_role" / "tasks").mkdir(parents=True)
    result = provision(tmp_path)
    assert result.returncode == 3, result.stderr
    assert "Incus unreachable" in result.stderr


def test_provisioning_while_an_apply_holds_the_lock_is_refused_naming_it(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("ANKLUME_SKIP_HOST_SUBNET_CHECK", "1")
    monkeypatch.setenv("ANKLUME_CONTEXT_DIR", str(tmp_path / "no-context"))
    infra = tmp_path / "infra.yml"
    infra.write_text(INFRA.replace(", no_such_role", ""))
    loaded = run_psot(infra, HostContext(skip_subnet_check=True))
    assert loaded.valid
    with ApplyLock(state.state_dir()), pytest.raises(ProvisionRefused) as refused:
        engine_provision(loaded.infra, tmp_path, incus_url=f"unix://{tmp_path}/no-daemon.socket")
    assert str(refused.value) == f"another apply, provision or ai-switch is running (pid {os.getpid()})"
    assert not (tmp_path / "inventory").exists()  # refused before the tree was synced
