"""Live changes come from the event stream: a state change made behind our back shows up by itself."""

from __future__ import annotations

import asyncio

import pytest

from anklume_tui.engine.host.live import changes_from, instance_of
from tests.wait_helpers import wait_until_async

pytestmark = pytest.mark.incus


def test_snapshot_and_file_events_are_not_instance_changes():
    base = {"type": "lifecycle", "project": "p"}
    snap = dict(base, metadata={"action": "instance-snapshot-created", "source": "/1.0/instances/c1/snapshots/s"})
    assert instance_of(snap) is None
    started = dict(base, metadata={"action": "instance-started", "source": "/1.0/instances/c1?project=p"})
    assert instance_of(started) == ("p", "c1", "instance-started")
    assert instance_of({"type": "operation", "metadata": {}}) is None


async def test_a_container_started_and_deleted_by_someone_else_is_reported(incusd, incus_client):
    incusd.incus("init", "busybox", "c-live")
    changes: list = []

    async def watch(stream):
        async for change in changes_from(incus_client, stream):
            changes.append(change)
            if change.status is None:
                return

    async with incus_client.events(types=("lifecycle",)) as stream:  # subscribed before anything happens
        watcher = asyncio.create_task(watch(stream))
        await asyncio.to_thread(incusd.incus, "start", "c-live")
        await asyncio.to_thread(incusd.incus, "delete", "--force", "c-live")
        await asyncio.wait_for(watcher, 20)
    assert ("c-live", "Running") in {(c.name, c.status) for c in changes}
    assert changes[-1].name == "c-live" and changes[-1].status is None


async def test_each_lifecycle_change_reports_the_status_incus_then_holds(incusd, incus_client):
    incusd.incus("init", "busybox", "c-states")
    seen: list = []

    async def watch(stream):
        async for change in changes_from(incus_client, stream):
            if change.name == "c-states":
                seen.append((change.action, change.status))

    truth, shown = [], []
    async with incus_client.events(types=("lifecycle",)) as stream:  # subscribed before anything happens
        watcher = asyncio.create_task(watch(stream))
        try:
            for verb in ("start", "pause", "resume", "restart", "stop"):
                args = [verb, "c-states"] + (["--force"] if verb in ("stop", "restart") else [])
                await asyncio.to_thread(incusd.incus, *args)
                truth.append(incusd.incus_json("list", "c-states")[0]["status"])
                # the event may trail the command by a moment
                await wait_until_async(lambda: seen and seen[-1][1] == truth[-1], 5, f"the change after {verb}")
                shown.append(seen[-1][1])
        finally:
            watcher.cancel()
    assert truth == ["Running", "Frozen", "Running", "Running", "Stopped"]
    assert shown == truth  # after each command, the last change reported says what `incus list` says
    assert {action for action, _ in seen} >= {"instance-started", "instance-paused", "instance-resumed"}
