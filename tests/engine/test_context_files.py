"""The child's context files (SPEC §5.6) written by apply in a running instance, and a VM's agent waited for
before (§8.3 step 5). Read back with the incus CLI. VMs cannot run here (no vhost_vsock): the agent wait is
driven on a container, with Incus's answer for an agent not yet up injected in front of the real daemon."""

from __future__ import annotations

import pytest

from anklume_tui.engine.incus.client import IncusClient
from anklume_tui.engine.reconcile import steps as reconcile_steps
from anklume_tui.engine.reconcile.plan_models import Action
from anklume_tui.engine.reconcile.steps import StepFailed, wait_agent, write_context
from tests.engine.fault_helpers import inject
from tests.incusd_helpers import ThrowawayIncus

pytestmark = pytest.mark.anyio

AGENT_DOWN = "VM agent isn't currently running"
BOX = Action(op="update", kind="instance", project="default", name="box", instance="box")


def context(level: int) -> dict:
    files = {"absolute_level": f"{level}\n", "relative_level": f"{level}\n", "vm_nested": "false\n", "yolo": "false\n"}
    return {"files": files, "stamp": f"absolute_level={level}"}


@pytest.fixture
async def running_box(incus_client: IncusClient) -> IncusClient:
    await incus_client.create_instance("box", image="busybox", start=True)
    return incus_client


def listing(incusd: ThrowawayIncus) -> list[str]:
    return incusd.incus("exec", "box", "--", "ls", "-a", "/etc/anklume").stdout.split()


async def test_context_files_replace_the_old_ones_whole(running_box, incusd):
    await write_context(running_box, BOX, context(1))
    await write_context(running_box, BOX, context(2))
    pulled = incusd.incus("file", "pull", "box/etc/anklume/absolute_level", "-").stdout
    mode = incusd.incus("exec", "box", "--", "stat", "-c", "%a %u", "/etc/anklume/yolo").stdout.split()
    assert pulled == "2\n" and mode == ["644", "0"]
    assert sorted(listing(incusd)) == [".", "..", "absolute_level", "relative_level", "vm_nested", "yolo"]


async def test_context_files_that_cannot_be_written_fail_with_the_shells_reason(running_box, incusd):
    incusd.incus("file", "push", "-", "box/etc/anklume", input="a file where the folder goes\n")
    with pytest.raises(StepFailed) as failed:
        await write_context(running_box, BOX, context(1))
    assert "instance default/box" in str(failed.value) and "File exists" in str(failed.value)


async def test_an_agent_that_answers_late_is_waited_for(running_box, monkeypatch):
    monkeypatch.setattr(reconcile_steps, "WAIT_STEP", 0.01)
    fault = inject(running_box, "/exec", failures=2, error=AGENT_DOWN, status=400)
    await wait_agent(running_box, BOX)
    assert fault.seen == 3


async def test_an_agent_that_never_answers_fails_naming_the_machine(running_box, monkeypatch):
    monkeypatch.setattr(reconcile_steps, "WAIT_STEP", 0.01)
    monkeypatch.setattr(reconcile_steps, "AGENT_TRIES", 3)
    fault = inject(running_box, "/exec", failures=10, error=AGENT_DOWN, status=400)
    with pytest.raises(StepFailed, match="instance default/box: its VM agent did not run a command after 3 tries"):
        await wait_agent(running_box, BOX)
    assert fault.seen == 3
