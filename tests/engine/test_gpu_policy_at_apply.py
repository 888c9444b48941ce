"""gpu_policy: exclusive holds at apply: a GPU that Incus already gives to an instance the infra does not
declare as a consumer keeps the declared consumer from being made (SPEC §10.6; validation alone sees only
the file)."""

from __future__ import annotations

import json

import pytest

from anklume_tui.engine.incus.models import Instance
from anklume_tui.engine.reconcile.desired import desired_state
from anklume_tui.engine.reconcile.plan import compute_plan
from anklume_tui.engine.reconcile.plan_gpu import enforce_gpu_policy
from tests.engine.incus_helpers import batch, incus_list, isolate_host
from tests.engine.test_plan import converged, infra

ONE_CONSUMER = """\
project_name: g
global:
  addressing: {}
  default_os_image: busybox
domains:
  ai:
    trust_level: trusted
    machines:
      ai-box:
        gpu: true
      ai-plain: {}
"""


def gpu_holder(project: str, name: str) -> Instance:
    return Instance(name=name, project=project, status="Stopped", expanded_devices={"card": {"type": "gpu"}})


def refused(plan_actions) -> dict[str, str]:
    return {a.name: a.detail for a in plan_actions if a.op == "conflict"}


def test_an_undeclared_gpu_holder_turns_the_consumers_creation_into_a_conflict_naming_it(tmp_path):
    declared = infra(tmp_path, ONE_CONSUMER)
    desired = desired_state(declared)
    real = converged(desired)
    del real.instances[("ai", "ai-box")]
    real.instances[("other", "hog")] = gpu_holder("other", "hog")
    actions = enforce_gpu_policy(declared, desired, real, compute_plan(desired, real).actions)
    assert refused(actions) == {
        "ai-box": "GPU policy is 'exclusive' but other/hog already holds a GPU and is not a consumer this infra "
        "declares: remove that gpu device, or set gpu_policy: shared"
    }
    assert not [a for a in actions if a.name == "ai-box" and a.op != "conflict"]


def test_a_consumer_that_already_holds_its_gpu_is_left_alone(tmp_path):
    declared = infra(tmp_path, ONE_CONSUMER)
    desired = desired_state(declared)
    real = converged(desired)
    real.instances[("ai", "ai-box")] = real.instances[("ai", "ai-box")].model_copy(
        update={"expanded_devices": {"gpu": {"type": "gpu"}}}
    )
    real.instances[("other", "hog")] = gpu_holder("other", "hog")
    assert refused(enforce_gpu_policy(declared, desired, real, compute_plan(desired, real).actions)) == {}


def test_shared_policy_or_no_foreign_holder_changes_nothing(tmp_path):
    for text, foreign in [
        (ONE_CONSUMER.replace("addressing: {}", "addressing: {}\n  gpu_policy: shared"), True),
        (ONE_CONSUMER, False),
    ]:
        declared = infra(tmp_path, text)
        desired = desired_state(declared)
        real = converged(desired)
        del real.instances[("ai", "ai-box")]
        if foreign:
            real.instances[("other", "hog")] = gpu_holder("other", "hog")
        plan_actions = compute_plan(desired, real).actions
        assert enforce_gpu_policy(declared, desired, real, plan_actions) == plan_actions


@pytest.mark.incus
def test_apply_refuses_a_second_gpu_holder_and_makes_the_rest(incusd, tmp_path, monkeypatch, capsys):
    isolate_host(tmp_path, monkeypatch)
    incusd.incus("init", "busybox", "hog", "--quiet")  # an instance of someone else's, in project default
    incusd.incus("config", "device", "add", "hog", "card", "gpu")
    path = tmp_path / "infra.yml"
    path.write_text(ONE_CONSUMER)

    code, out, _ = batch(capsys, incusd, "plan", "--infra", str(path), "--json")
    assert code == 0
    conflicts = [a for a in json.loads(out)["actions"] if a["op"] == "conflict"]
    assert [(a["project"], a["name"]) for a in conflicts] == [("ai", "ai-box")]
    assert "default/hog already holds a GPU" in conflicts[0]["detail"]

    code, _, err = batch(capsys, incusd, "apply", "--infra", str(path), "--yes", "--no-provision")
    assert code == 1
    assert "ai-box" in err and "default/hog already holds a GPU" in err
    held = incus_list(incusd)
    assert ("ai", "ai-plain") in held and ("ai", "ai-box") not in held
