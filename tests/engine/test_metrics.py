"""Metrics history: Incus's /1.0/metrics parsed into per-instance CPU and memory, kept in bounded ring buffers,
and read live from the throwaway daemon."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from anklume_tui.engine.host.metrics import (
    REPEAT_SECONDS,
    InstanceHistory,
    InstanceReading,
    MetricsHistory,
    MetricsSampler,
    instance_readings,
    parse_samples,
)
from tests.engine.usage_helpers import BUSY_PERCENT, keep_busy
from tests.wait_helpers import wait_until_async

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "incus-metrics" / "all-projects.txt"


def test_a_real_metrics_document_gives_each_running_instance_of_every_project():
    readings = instance_readings(FIXTURE.read_text())
    assert set(readings) == {("default", "busy"), ("work", "work-a")}  # the stopped one has no metrics
    busy = readings[("default", "busy")]
    assert busy.cpu_seconds == pytest.approx(0.01922903 + 0.651319443 + 0.059371575 + 2.371739864)
    assert busy.memory_bytes == 24684096000 - 24683424256
    assert readings[("work", "work-a")].cpu_seconds == pytest.approx(0.024)


def test_the_parser_reads_labels_with_escapes_and_skips_comments_and_garbage():
    text = (
        "# HELP x a metric\n# TYPE x gauge\n"
        'x{name="a\\"b",path="c:\\\\d",note="l1\\nl2"} 1.5e+03\n'
        "incus_uptime_seconds 12.5\n"
        "not a sample line at all\n"
        'broken{name="open 3\n'
        "# EOF\n"
    )
    samples = list(parse_samples(text))
    assert [(s.name, s.value) for s in samples] == [("x", 1500.0), ("incus_uptime_seconds", 12.5)]
    assert samples[0].labels == {"name": 'a"b', "path": "c:\\d", "note": "l1\nl2"}


def test_cpu_share_comes_from_two_readings_and_a_restart_gives_none():
    history = InstanceHistory(10)
    assert history.add(100.0, InstanceReading(5.0, 1000))
    assert history.add(110.0, InstanceReading(10.0, 2000))
    assert history.add(120.0, InstanceReading(0.5, 3000))  # restarted: the counter went back
    assert [(p.cpu_percent, p.memory_bytes) for p in history.points] == [(None, 1000), (50.0, 2000), (None, 3000)]


def test_the_cached_answer_repeated_adds_no_point_but_a_real_standstill_does():
    history = InstanceHistory(10)
    history.add(100.0, InstanceReading(5.0, 1000))
    assert not history.add(109.0, InstanceReading(5.0, 1000))  # Incus's cache answered again
    assert history.add(100.0 + REPEAT_SECONDS + 1, InstanceReading(5.0, 1000))  # idle for real
    assert [p.cpu_percent for p in history.points] == [None, 0.0]


def test_the_ring_buffer_keeps_only_the_last_points():
    history = MetricsHistory(size=3)
    for second in range(10):
        history.add(second * 10.0, {("p", "m"): InstanceReading(float(second), second)})
    assert [p.memory_bytes for p in history.points(("p", "m"))] == [7, 8, 9]
    assert history.points(("p", "unknown")) == []


@pytest.mark.incus
async def test_the_history_of_a_busy_container_fills_from_the_live_daemon(incusd):
    incusd.incus("launch", "busybox", "busy")
    keep_busy(incusd, "busy")
    incusd.incus("project", "create", "work", "-c", "features.profiles=false")
    incusd.import_image("work", "busybox")
    incusd.incus("launch", "busybox", "work-a", "--project", "work")
    history = MetricsHistory()
    sampler = MetricsSampler(incusd.url)
    theirs = []  # Incus's state endpoint read right after each sample that added a point: the same windows

    async def two_points() -> bool:
        reading = await sampler.read()
        if history.add(reading.at, reading.readings):
            state = await asyncio.to_thread(incusd.query, "/1.0/instances/busy/state")
            theirs.append((asyncio.get_running_loop().time(), state["cpu"]["usage"], state["memory"]["usage"]))
        return len(history.points(("default", "busy"))) >= 2

    # the second fresh answer comes after Incus's cache: a read a second
    await wait_until_async(two_points, 30, "a second point of busy's metrics", interval=1.0)
    assert sampler.requests >= 2
    assert ("work", "work-a") in history.instance_keys()  # one request covered both projects
    first, second = history.points(("default", "busy"))
    (t1, cpu1, _), (t2, cpu2, their_memory) = theirs
    their_cpu = 100 * (cpu2 - cpu1) / 1e9 / (t2 - t1)
    assert first.cpu_percent is None
    assert second.cpu_percent > BUSY_PERCENT and their_cpu > BUSY_PERCENT
    assert abs(second.cpu_percent - their_cpu) < 20
    assert 0.5 < second.memory_bytes / their_memory < 2
