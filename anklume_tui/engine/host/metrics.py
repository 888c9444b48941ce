"""CPU and memory history of running instances, from Incus's `/1.0/metrics` (Prometheus text format).

One request gives every project's running instances. CPU comes as seconds used since the instance started
(per CPU and mode), so a share needs two readings, as in `usage.py`; memory in use is `MemTotal -
MemAvailable`, which is what Incus's own state endpoint reports for a container. Incus caches each project's
figures for 8 s: a reading identical to the previous one within about that time is the cached answer again
and adds no point (it would show a flat CPU followed by a burst).
"""

from __future__ import annotations

import re
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

from ..incus.client import IncusClient
from .usage import InstanceKey, cpu_share

CPU_SECONDS = "incus_cpu_seconds_total"
MEMORY_TOTAL = "incus_memory_MemTotal_bytes"
MEMORY_AVAILABLE = "incus_memory_MemAvailable_bytes"
CACHE_SECONDS = 8.0  # how long Incus serves the same figures for a project (cmd/incusd/api_metrics.go)
# Its 8 s run from when it finished reading, ours from the middle of our request: a margin past them.
REPEAT_SECONDS = CACHE_SECONDS + 4.0
HISTORY_POINTS = 200  # per instance: about half an hour at one new reading every 9 s

_SAMPLE = re.compile(r"^(?P<name>[A-Za-z_:][A-Za-z0-9_:]*)(?:\{(?P<labels>.*)\})?\s+(?P<value>\S+)(?:\s+\S+)?$")
_LABEL = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?')
_ESCAPES = {"\\\\": "\\", '\\"': '"', "\\n": "\n"}


@dataclass(frozen=True)
class Sample:
    """One line of the exposition: a metric name, its labels and its value."""

    name: str
    labels: dict[str, str]
    value: float


def _labels(text: str) -> dict[str, str] | None:
    labels, position = {}, 0
    while position < len(text):
        found = _LABEL.match(text, position)
        if found is None:
            return None
        value = re.sub(r"\\.", lambda m: _ESCAPES.get(m.group(0), m.group(0)), found.group(2))
        labels[found.group(1)] = value
        position = found.end()
    return labels


def parse_samples(text: str) -> Iterator[Sample]:
    """Every sample line; comments (`# HELP`, `# TYPE`, `# EOF`), blank and malformed lines are skipped."""
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        found = _SAMPLE.match(line)
        if found is None:
            continue
        labels = _labels(found.group("labels") or "")
        try:
            value = float(found.group("value"))
        except ValueError:
            continue
        if labels is not None:
            yield Sample(found.group("name"), labels, value)


@dataclass(frozen=True)
class InstanceReading:
    cpu_seconds: float  # CPU time used since the instance started, all CPUs and modes
    memory_bytes: int | None  # in use; None when Incus gave no memory figures


def instance_readings(text: str) -> dict[InstanceKey, InstanceReading]:
    """(project, instance) → its reading, for every instance the document has CPU figures for."""
    cpu: dict[InstanceKey, float] = {}
    total: dict[InstanceKey, float] = {}
    available: dict[InstanceKey, float] = {}
    wanted = {CPU_SECONDS: cpu, MEMORY_TOTAL: total, MEMORY_AVAILABLE: available}
    for sample in parse_samples(text):
        into = wanted.get(sample.name)
        if into is None or "name" not in sample.labels:
            continue
        key = (sample.labels.get("project", "default"), sample.labels["name"])
        into[key] = into.get(key, 0.0) + sample.value
    readings = {}
    for key, seconds in cpu.items():
        memory = None
        if key in total and key in available:
            memory = max(0, round(total[key] - available[key]))
        readings[key] = InstanceReading(seconds, memory)
    return readings


@dataclass(frozen=True)
class Point:
    at: float  # monotonic seconds
    cpu_percent: float | None  # share of one CPU since the previous point; None for the first
    memory_bytes: int | None


class InstanceHistory:
    """The last points of one instance, in a ring buffer: the oldest fall off."""

    def __init__(self, size: int) -> None:
        self.points: deque[Point] = deque(maxlen=size)
        self._last: tuple[float, InstanceReading] | None = None

    def add(self, at: float, reading: InstanceReading) -> bool:
        """Add a point for `reading`; False when it is Incus's cached answer repeated."""
        last = self._last
        if last is not None and reading == last[1] and at - last[0] < REPEAT_SECONDS:
            return False
        share = None if last is None else cpu_share(last[1].cpu_seconds, reading.cpu_seconds, at - last[0])
        self._last = (at, reading)
        self.points.append(Point(at, share, reading.memory_bytes))
        return True


class MetricsHistory:
    """Ring buffers of CPU and memory points, one per instance ever read."""

    def __init__(self, size: int = HISTORY_POINTS) -> None:
        self.size = size
        self.instances: dict[InstanceKey, InstanceHistory] = {}

    def add(self, at: float, readings: dict[InstanceKey, InstanceReading]) -> int:
        """Record one reading of every instance; returns how many points were added."""
        added = 0
        for key, reading in readings.items():
            history = self.instances.setdefault(key, InstanceHistory(self.size))
            added += history.add(at, reading)
        return added

    def instance_keys(self) -> list[InstanceKey]:
        return sorted(self.instances)

    def points(self, key: InstanceKey) -> list[Point]:
        history = self.instances.get(key)
        return list(history.points) if history is not None else []


@dataclass(frozen=True)
class MetricsReading:
    at: float  # monotonic seconds: the middle of the request
    readings: dict[InstanceKey, InstanceReading]


class MetricsSampler:
    """Reads `/1.0/metrics` on demand. Each read opens its own connection: callers run it in a worker thread
    with its own event loop, and add the reading to their history where they draw it (one thread)."""

    def __init__(self, url: str | None) -> None:
        self.url = url
        self.requests = 0

    async def read(self) -> MetricsReading:
        """One request for every project; raises IncusError."""
        started = time.monotonic()
        async with IncusClient(self.url) as client:
            text = await client.metrics_text()
            self.requests += client.requests
        return MetricsReading((started + time.monotonic()) / 2, instance_readings(text))
