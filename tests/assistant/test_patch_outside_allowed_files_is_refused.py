"""A proposed patch is applied only to the infra's files (after psot validated the result) and to files under
roles_custom/: any other path refuses the whole patch, naming it, and nothing is written. So does a role change
that would run on or read from the host (Ansible's controller, root here): delegation, lookups, plugins."""

from __future__ import annotations

import json

import pytest

from tests.assistant.explain_lab_helpers import BROKEN_TASKS, FIX_DIFF, INFRA, explain, offline_env, write_failed_run
from tests.assistant.model_standin_helpers import configure, model_standin

OUTSIDE = """\
--- a/group_vars/all.yml
+++ b/group_vars/all.yml
@@ -1,1 +1,1 @@
-x: 1
+x: 2
"""

ESCAPE = """\
--- a/roles_custom/../../outside.txt
+++ b/roles_custom/../../outside.txt
@@ -0,0 +1,1 @@
+owned
"""

DELEGATED = FIX_DIFF.replace(
    "+  ansible.builtin.command: /bin/true\n", "+  ansible.builtin.command: /bin/true\n+  delegate_to: localhost\n"
).replace("@@ -1,3 +1,3 @@", "@@ -1,3 +1,4 @@")

LOOKUP = FIX_DIFF.replace("/bin/true", "\"echo {{ lookup('pipe', 'id') }}\"")

PLUGIN = """\
--- /dev/null
+++ b/roles_custom/greeter/filter_plugins/more.py
@@ -0,0 +1,1 @@
+import os
"""

INVALID_INFRA = """\
--- a/infra.yml
+++ b/infra.yml
@@ -7,3 +7,3 @@
     machines:
       work-box:
-        roles: [greeter]
+        type: box
"""


@pytest.mark.parametrize(
    ("diff", "named"),
    [
        (FIX_DIFF + OUTSIDE, "the patch touches group_vars/all.yml: only infra.yml and files under roles_custom/"),
        (ESCAPE, "the patch touches roles_custom/../../outside.txt"),
        (INVALID_INFRA, "infra.yml:9:15: error[M3]: Machine 'work-box': type must be one of"),
        (DELEGATED, "the patch's change to roles_custom/greeter/tasks/main.yml reaches this host ('delegate_to'"),
        (LOOKUP, "reaches this host ('lookup('"),
        (PLUGIN, "the patch adds roles_custom/greeter/filter_plugins/more.py: filter_plugins run on this host"),
    ],
    ids=["other-file", "dot-dot", "invalid-infra", "delegation", "lookup", "controller-plugin"],
)
def test_a_patch_outside_the_allowed_files_or_invalid_is_refused_and_nothing_written(
    diff, named, tmp_path, monkeypatch, capsys
):
    config_home = offline_env(monkeypatch, tmp_path)
    infra = write_failed_run(tmp_path)
    (tmp_path / "group_vars").mkdir()
    (tmp_path / "group_vars" / "all.yml").write_text("x: 1\n")
    with model_standin() as standin:
        standin.answer = f"Here is the fix.\n```diff\n{diff}```\n"
        configure(config_home, standin.config("openai"))
        assert explain(infra, "--send", "--apply") == 4
        assert len(standin.requests) == 1
    said = capsys.readouterr().err
    assert named in said and "nothing written" in said
    assert (tmp_path / "roles_custom" / "greeter" / "tasks" / "main.yml").read_text() == BROKEN_TASKS
    assert (tmp_path / "group_vars" / "all.yml").read_text() == "x: 1\n"
    assert infra.read_text() == INFRA
    assert not (tmp_path.parent / "outside.txt").exists()
    logged = json.loads((tmp_path / "state" / "anklume" / "assistant" / "rounds.jsonl").read_text())
    assert named in logged["refused"] and logged["applied"] == [] and logged["rerun_ok"] is None
