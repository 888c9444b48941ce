"""Everyday actions on real containers, checked with the incus CLI."""

from __future__ import annotations

import json

import pytest

from anklume_tui.engine.machines.lifecycle import Refused, Target, change_state, delete_machine, snapshot_now

pytestmark = pytest.mark.incus


def status(incusd, name: str) -> str:
    return json.loads(incusd.incus("list", name, "--format=json").stdout)[0]["status"]


async def test_start_freeze_unfreeze_stop_change_the_real_state(incusd, incus_client):
    incusd.incus("init", "busybox", "c1")
    target = Target("default", "c1")
    await change_state(incus_client, target, "start")
    assert status(incusd, "c1") == "Running"
    await change_state(incus_client, target, "freeze")
    assert status(incusd, "c1") == "Frozen"
    await change_state(incus_client, target, "unfreeze")
    await change_state(incus_client, target, "stop")
    assert status(incusd, "c1") == "Stopped"


async def test_snapshot_now_takes_a_dated_snapshot_once(incusd, incus_client):
    incusd.incus("init", "busybox", "c2")
    name = await snapshot_now(incus_client, Target("default", "c2"))
    assert name.startswith("snap-")
    await snapshot_now(incus_client, Target("default", "c2"), name)
    snaps = json.loads(incusd.incus("query", "/1.0/instances/c2/snapshots").stdout)
    assert snaps == [f"/1.0/instances/c2/snapshots/{name}"]


async def test_delete_refuses_unmanaged_and_protected_machines(incusd, incus_client):
    incusd.incus("init", "busybox", "mine", "-c", "user.anklume.managed=true")
    incusd.incus("init", "busybox", "theirs")
    incusd.incus("init", "busybox", "kept", "-c", "user.anklume.managed=true", "-c", "security.protection.delete=true")
    for name, reason in [("theirs", "not created by anklume-tui"), ("kept", "protected")]:
        with pytest.raises(Refused, match=reason):
            await delete_machine(incus_client, Target("default", name))
    await delete_machine(incus_client, Target("default", "mine"))
    names = {i["name"] for i in json.loads(incusd.incus("list", "--format=json").stdout)}
    assert names == {"theirs", "kept"}
    incusd.incus("config", "set", "kept", "security.protection.delete=false")
