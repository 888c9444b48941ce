"""`--batch validate` warns (W10) about a role that no role folder holds: the shipped roles/, and the user's
roles_custom/ and roles_vendor/ beside the infra (SPEC §8.5), read by the engine and handed to psot."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

LAB = """\
project_name: lab
global:
  addressing: {}
domains:
  work:
    machines:
      work-dev:
        roles:
          - docker_engine
          - my_role
          - vendored.role
          - code_sandbo
"""


def validate(infra: Path) -> dict:
    env = dict(os.environ, ANKLUME_SKIP_HOST_SUBNET_CHECK="1", ANKLUME_CONTEXT_DIR="/nonexistent")
    done = subprocess.run(
        [sys.executable, "-m", "anklume_tui", "--batch", "validate", "--infra", str(infra), "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr  # a warning never blocks
    return json.loads(done.stdout)


def test_validate_names_only_the_role_no_folder_holds(tmp_path):
    infra = tmp_path / "infra.yml"
    infra.write_text(LAB)
    (tmp_path / "roles_custom" / "my_role" / "tasks").mkdir(parents=True)
    (tmp_path / "roles_vendor" / "vendored.role" / "tasks").mkdir(parents=True)
    warnings = validate(infra)["warnings"]
    assert [(w["rule"], w["line"]) for w in warnings] == [("W10", 12)], warnings
    assert "'code_sandbo', found in no role folder" in warnings[0]["message"]
    assert "did you mean 'code_sandbox'?" in warnings[0]["message"]


def test_a_role_folder_without_tasks_holds_no_role(tmp_path):
    """As provisioning looks roles up (a folder with tasks/): an empty folder named like the role is no role."""
    infra = tmp_path / "infra.yml"
    infra.write_text(LAB.replace("          - code_sandbo\n", ""))
    (tmp_path / "roles_custom" / "my_role").mkdir(parents=True)
    (tmp_path / "roles_vendor" / "vendored.role" / "tasks").mkdir(parents=True)
    warnings = validate(infra)["warnings"]
    assert [(w["rule"], "'my_role'" in w["message"]) for w in warnings] == [("W10", True)]
