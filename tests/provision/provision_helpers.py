"""Shared by the provisioning tests: a lab infra on the Debian+python3 image, running `--batch` verbs, and
reading machines back through the incus CLI (never only through our own code)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.engine.apply_helpers import ROOT, batch_env
from tests.incusd_helpers import ThrowawayIncus


def two_domains(alpha_one: str = "{}") -> str:
    """The lab infra: alpha (trusted) holding alpha-one, whose body is `alpha_one` (flow YAML), and beta
    holding beta-one."""
    return f"""\
project_name: provlab
global:
  addressing: {{}}
  default_os_image: debian
  default_user: student
domains:
  alpha:
    trust_level: trusted
    machines:
      alpha-one: {alpha_one}
  beta:
    machines:
      beta-one: {{}}
"""


TWO_DOMAINS = two_domains()
MACHINES = {"alpha-one": "alpha", "beta-one": "beta"}

# The throwaway daemon's containers never have a route out, so nothing can be downloaded: the lab says so
# the way a user without internet would, below the managed section of group_vars/all.yml. The test image's
# init is a shell loop (containers start in a second), not systemd.
OFFLINE_LAB_VARS = "anklume_offline: true\nbase_system_require_systemd: false\n"


def anklume(daemon: ThrowawayIncus, state: Path, verb: str, infra: Path, *args: str) -> subprocess.CompletedProcess:
    """`anklume-tui --batch VERB` as a user runs it (apply provisions unless the test passes --no-provision)."""
    return subprocess.run(
        [sys.executable, "-m", "anklume_tui", "--batch", verb, "--infra", str(infra), *args],
        env=batch_env(daemon, state),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )


def write_lab(tmp_path: Path, daemon: ThrowawayIncus, text: str = TWO_DOMAINS, custom: str = OFFLINE_LAB_VARS) -> Path:
    """The infra, synced, with `custom` added below the managed section of group_vars/all.yml."""
    infra = tmp_path / "infra.yml"
    infra.write_text(text)
    synced = anklume(daemon, tmp_path, "sync", infra)
    assert synced.returncode == 0, synced.stderr
    with (tmp_path / "group_vars" / "all.yml").open("a") as all_vars:
        all_vars.write(custom)
    return infra


def apply_without_provisioning(daemon: ThrowawayIncus, tmp_path: Path, infra: Path) -> None:
    result = anklume(daemon, tmp_path, "apply", infra, "--no-provision")
    assert result.returncode == 0, result.stderr


def in_machine(daemon: ThrowawayIncus, machine: str, *command: str) -> subprocess.CompletedProcess:
    """Run a command inside a machine with the incus CLI."""
    return daemon.incus("exec", machine, f"--project={MACHINES[machine]}", "--", *command, check=False)


def json_of(result: subprocess.CompletedProcess) -> dict:
    return json.loads(result.stdout)
