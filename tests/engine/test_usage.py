"""CPU and memory of running instances: one bulk request per reading, CPU share from two readings."""

from __future__ import annotations

import asyncio

import pytest

from anklume_tui.engine.host.usage import Reading, Usage, UsageMeter, usage_between
from tests.engine.usage_helpers import BUSY_PERCENT, incus_usage, keep_busy


def test_cpu_share_is_cpu_time_used_between_two_readings_over_the_wall_time_between_them():
    before = Reading(at=10.0, cpu_ns={("p", "a"): 1_000_000_000, ("p", "b"): 5}, memory={("p", "a"): 1, ("p", "b"): 2})
    after = Reading(at=12.0, cpu_ns={("p", "a"): 2_000_000_000, ("p", "c"): 7}, memory={("p", "a"): 3, ("p", "c"): 4})
    assert usage_between(before, after) == {("p", "a"): Usage(50.0, 3), ("p", "c"): Usage(None, 4)}


def test_no_cpu_share_from_a_first_reading_or_a_counter_that_went_back():
    first = Reading(at=1.0, cpu_ns={("p", "a"): 900}, memory={("p", "a"): 10})
    assert usage_between(None, first) == {("p", "a"): Usage(None, 10)}
    restarted = Reading(at=2.0, cpu_ns={("p", "a"): 100}, memory={("p", "a"): 10})
    assert usage_between(first, restarted) == {("p", "a"): Usage(None, 10)}


@pytest.mark.incus
async def test_one_request_per_reading_gives_every_running_instance_as_incus_counts_it(incusd):
    incusd.incus("project", "create", "other", "-c", "features.images=false", "-c", "features.profiles=false")
    incusd.incus("launch", "busybox", "busy")
    incusd.incus("launch", "busybox", "idle", "--project=other")
    incusd.incus("init", "busybox", "stopped")
    keep_busy(incusd, "busy")
    meter = UsageMeter(incusd.url)
    first = await meter.read()
    assert first[("default", "busy")].cpu_percent is None  # one reading gives no share yet
    their_cpu, their_memory = await asyncio.to_thread(incus_usage, incusd, "busy", "default", 1.5)
    second = await meter.read()
    assert meter.requests == 2
    assert not meter.due(meter.finished + meter.took / 2) and meter.due(meter.finished + meter.took)
    assert set(second) == {("default", "busy"), ("other", "idle")}
    busy, idle = second[("default", "busy")], second[("other", "idle")]
    assert busy.cpu_percent > BUSY_PERCENT and their_cpu > BUSY_PERCENT
    assert abs(busy.cpu_percent - their_cpu) < 35
    assert idle.cpu_percent < 10
    assert 0.5 < busy.memory_bytes / their_memory < 2
