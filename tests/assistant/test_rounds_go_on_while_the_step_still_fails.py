"""--apply's rounds: while the re-run step still fails, its new failure is sent and the next patch applied, at
most --rounds N times; each round is logged; out of rounds with the step still failing, explain exits 1."""

from __future__ import annotations

import json

from tests.assistant.model_standin_helpers import configure, model_standin
from tests.assistant.test_failed_apply_is_explained_and_fixed import LAB
from tests.assistant.test_failed_provisioning_is_explained_and_fixed import explain
from tests.provision.provision_helpers import anklume


def memory_fix(old: str, new: str) -> str:
    return (
        f"`{old}` will not do.\n```diff\n--- a/infra.yml\n+++ b/infra.yml\n@@ -8,3 +8,3 @@\n       work-box:\n"
        f"         config:\n-          limits.memory: {old}\n+          limits.memory: {new}\n```\n"
    )


def test_each_round_sends_the_new_failure_until_the_step_passes_or_the_rounds_run_out(incusd, tmp_path):
    infra = tmp_path / "infra.yml"
    infra.write_text(LAB)
    assert anklume(incusd, tmp_path, "apply", infra, "--no-provision").returncode == 1
    rounds_log = tmp_path / "anklume" / "assistant" / "rounds.jsonl"  # XDG_STATE_HOME is tmp_path
    with model_standin() as standin:
        configure(tmp_path / "config", standin.config("openai"))

        standin.answers = [memory_fix("banana", "mango")]  # applied, but Incus refuses mango too
        one = explain(incusd, tmp_path, infra, "--send", "--apply", "--rounds", "1")
        assert one.returncode == 1 and "the step still fails" in one.stdout, one.stdout + one.stderr
        assert len(standin.requests) == 1 and "limits.memory: mango" in infra.read_text()

        standin.answers = [memory_fix("mango", "kiwi"), memory_fix("kiwi", "64MiB")]
        two = explain(incusd, tmp_path, infra, "--send", "--apply", "--rounds", "2")
        assert two.returncode == 0 and "the step passed" in two.stdout, two.stdout + two.stderr
        assert len(standin.requests) == 3
        # each round's request carries the failure the last re-run left, not the first one
        sent = [json.dumps(r["body"]["messages"]) for r in standin.requests]
        assert "banana" in sent[0] and "Invalid value: mango" in sent[1] and "Invalid value: kiwi" in sent[2]
    assert "limits.memory: 64MiB" in infra.read_text()
    logged = [json.loads(line) for line in rounds_log.read_text().splitlines()]
    assert [r["rerun_ok"] for r in logged] == [False, False, True]
    memory = incusd.incus("config", "get", "work-box", "limits.memory", "--project=work", check=False)
    assert memory.stdout.strip() == "64MiB", memory.stderr
