"""A failed provisioning as `explain` finds it, without Incus: the infra, a roles_custom role with a
deliberate error, and the last run's report the runner writes (same shape) in the test's state folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from anklume_tui.cli import main

INFRA = """\
project_name: explainlab
global:
  addressing: {}
  default_os_image: debian
domains:
  work:
    machines:
      work-box:
        roles: [greeter]
"""

BROKEN_TASKS = """\
---
- name: Write the greeting
  ansible.builtin.command: /bin/flase
"""

FIXED_TASKS = """\
---
- name: Write the greeting
  ansible.builtin.command: /bin/true
"""

FIX_DIFF = """\
--- a/roles_custom/greeter/tasks/main.yml
+++ b/roles_custom/greeter/tasks/main.yml
@@ -1,3 +1,3 @@
 ---
 - name: Write the greeting
-  ansible.builtin.command: /bin/flase
+  ansible.builtin.command: /bin/true
"""

ANSWER = (
    "The command `/bin/flase` does not exist: a typo for `/bin/false`, and what you meant is a command that "
    "succeeds.\n\n```diff\n" + FIX_DIFF + "```\n"
)

MESSAGE = "[Errno 2] No such file or directory: b'/bin/flase'"


def write_failed_run(tmp_path: Path, infra_text: str = INFRA) -> Path:
    infra = tmp_path / "infra.yml"
    infra.write_text(infra_text)
    tasks = tmp_path / "roles_custom" / "greeter" / "tasks"
    tasks.mkdir(parents=True)
    (tasks / "main.yml").write_text(BROKEN_TASKS)
    state = tmp_path / "state" / "anklume"
    state.mkdir(parents=True)
    report = {
        "ok": False,
        "tree": str(tmp_path),
        "limit": None,
        "log": None,
        "error": None,
        "problems": [
            {
                "host": "work-box",
                "domain": "work",
                "task": "greeter : Write the greeting",
                "message": MESSAGE,
                "kind": "failed",
            }
        ],
    }
    (state / "provision-last.json").write_text(json.dumps(report))
    return infra


def offline_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Config and state under tmp_path; Incus nowhere (what explain needs here reads no Incus)."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("ANKLUME_CONTEXT_DIR", str(tmp_path / "no-context"))
    monkeypatch.setenv("ANKLUME_SKIP_HOST_SUBNET_CHECK", "1")
    monkeypatch.setenv("ANKLUME_INCUS", f"unix://{tmp_path}/no-incus.socket")
    monkeypatch.delenv("ANKLUME_INFRA", raising=False)
    return tmp_path / "config"


def explain(infra: Path, *args: str) -> int:
    return main(["--batch", "explain", "--infra", str(infra), *args])
