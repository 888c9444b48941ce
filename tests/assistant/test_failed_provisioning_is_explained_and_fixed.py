"""One explain round on a real failure: a roles_custom role with a deliberate error fails provisioning on the
throwaway daemon; explain shows its context, --send --apply takes the stand-in's patch, re-runs the failed role
and it passes (the file it writes read back with the incus CLI). The fix is remembered: the same failure later
is fixed from the library with no request to any model."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.assistant.explain_lab_helpers import ANSWER, BROKEN_TASKS, FIX_DIFF
from tests.assistant.explain_lab_helpers import INFRA as LAB
from tests.assistant.model_standin_helpers import configure, model_standin
from tests.engine.apply_helpers import ROOT, batch_env
from tests.provision.provision_helpers import anklume, apply_without_provisioning, write_lab

# the error and its fix, in a role whose fixed form leaves a trace a reader can check
BROKEN = BROKEN_TASKS + "- name: Leave a trace\n  ansible.builtin.copy: {dest: /root/greeted, content: hello}\n"


def explain(daemon, tmp_path: Path, infra: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**batch_env(daemon, tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    return subprocess.run(
        [sys.executable, "-m", "anklume_tui", "--batch", "explain", "--infra", str(infra), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def greeted(daemon) -> str:
    return daemon.incus("exec", "work-box", "--project=work", "--", "cat", "/root/greeted", check=False).stdout


def test_a_failed_provisioning_is_explained_patched_rerun_and_remembered(incusd, debian_image, tmp_path):
    infra = write_lab(tmp_path, incusd, LAB)
    tasks = tmp_path / "roles_custom" / "greeter" / "tasks" / "main.yml"
    tasks.parent.mkdir(parents=True)
    tasks.write_text(BROKEN)
    apply_without_provisioning(incusd, tmp_path, infra)
    failed = anklume(incusd, tmp_path, "provision", infra, "--role", "greeter")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert greeted(incusd) == ""

    with model_standin() as standin:
        standin.answer = ANSWER
        configure(tmp_path / "config", standin.config("ollama"))

        shown = explain(incusd, tmp_path, infra, "--json")
        assert shown.returncode == 0, shown.stderr
        document = json.loads(shown.stdout)
        assert (document["failure"]["host"], document["failure"]["task"]) == (
            "work-box",
            "greeter : Write the greeting",
        )
        assert document["failure"]["message"] and "/bin/flase" in document["prompt"]
        assert document["failure"]["role_files"] == ["roles_custom/greeter/tasks/main.yml"]
        assert standin.requests == []

        fixed = explain(incusd, tmp_path, infra, "--send", "--apply", "--rounds", "2")
        assert fixed.returncode == 0, fixed.stdout + fixed.stderr
        assert len(standin.requests) == 1
        assert FIX_DIFF in fixed.stdout and "the step passed" in fixed.stdout
        assert "/bin/true" in tasks.read_text()
        assert greeted(incusd) == "hello"
        rounds = (tmp_path / "anklume" / "assistant" / "rounds.jsonl").read_text().splitlines()
        assert [json.loads(r)["rerun_ok"] for r in rounds] == [True]

        history = explain(incusd, tmp_path, infra, "--history", "--json")
        assert [e["task"] for e in json.loads(history.stdout)["history"]] == ["greeter : Write the greeting"]

        # the same failure again: the confirmed fix is offered and applied first, no model asked
        tasks.write_text(BROKEN)
        again = anklume(incusd, tmp_path, "provision", infra, "--role", "greeter")
        assert again.returncode == 1
        offered = explain(incusd, tmp_path, infra)
        assert "a fix you confirmed before" in offered.stdout and FIX_DIFF in offered.stdout
        refixed = explain(incusd, tmp_path, infra, "--apply")
        assert refixed.returncode == 0, refixed.stdout + refixed.stderr
        assert "/bin/true" in tasks.read_text()
        assert len(standin.requests) == 1

        forgot = explain(incusd, tmp_path, infra, "--forget")
        assert forgot.stdout == "forgot 1 confirmed fix(es)\n"
