"""CPU and memory use of every running instance, read in one bulk request.

Incus gives CPU as time used since the instance started, so a CPU share needs two readings: the CPU time
used between them over the wall time between them. Shares are of one CPU, as `top` shows them (a machine
busy on two CPUs shows 200%).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the client is imported by the first read: the TUI builds its meter before its first paint
    from ..incus.client import IncusClient

InstanceKey = tuple[str, str]  # (project, instance)


@dataclass(frozen=True)
class Reading:
    """CPU time (ns) and memory (bytes) of each running instance, and when they were read (monotonic s)."""

    at: float
    cpu_ns: dict[InstanceKey, int]
    memory: dict[InstanceKey, int]


@dataclass(frozen=True)
class Usage:
    """What one running instance uses: `cpu_percent` is None until a second reading gives a share."""

    cpu_percent: float | None
    memory_bytes: int


async def read_usage(client: IncusClient) -> Reading:
    started = time.monotonic()
    instances = await client.list_instances_with_state()
    # Incus reads each instance's counters during the request: its middle is the best single moment.
    at = (started + time.monotonic()) / 2
    running = [(i, state) for i in instances if i.running and (state := i.state) is not None]
    return Reading(
        at=at,
        cpu_ns={(i.project, i.name): state.cpu.usage for i, state in running},
        memory={(i.project, i.name): state.memory.usage for i, state in running},
    )


def cpu_share(used_before: float | None, used_after: float, elapsed: float) -> float | None:
    """The share of one CPU (percent) that a CPU-time counter read twice gives, `elapsed` in the counter's
    unit; None without a first reading or elapsed time, or when the counter went back (the instance
    restarted between the readings and counts from zero again)."""
    if used_before is None or elapsed <= 0 or used_after < used_before:
        return None
    return 100.0 * (used_after - used_before) / elapsed


def usage_between(before: Reading | None, after: Reading) -> dict[InstanceKey, Usage]:
    """Each instance running at `after`, with its CPU share since `before` when both readings have it."""
    elapsed_ns = (after.at - before.at) * 1e9 if before is not None else 0.0
    usage = {}
    for key, cpu_ns in after.cpu_ns.items():
        previous = before.cpu_ns.get(key) if before is not None else None
        usage[key] = Usage(cpu_share(previous, cpu_ns, elapsed_ns), after.memory[key])
    return usage


class UsageMeter:
    """Reads usage on demand, keeping the last reading so that each CPU share covers the time since it.
    Each read opens its own connection: callers run it in a worker thread with its own event loop."""

    def __init__(self, url: str | None) -> None:
        self.url = url
        self.requests = 0
        self.took = 0.0  # seconds the last read took
        self.finished = float("-inf")  # when it ended (monotonic)
        self._last: Reading | None = None

    async def read(self) -> dict[InstanceKey, Usage]:
        """Usage of every running instance; raises IncusError."""
        from ..incus.client import IncusClient

        started = time.monotonic()
        async with IncusClient(self.url) as client:
            reading = await read_usage(client)
            self.requests += client.requests
        self.finished = time.monotonic()
        self.took = self.finished - started
        usage, self._last = usage_between(self._last, reading), reading
        return usage

    def due(self, now: float | None = None) -> bool:
        """Whether to read again: Incus reads every running instance for it (about 15 ms each), so after a
        read that took T seconds it rests T seconds, whatever the caller's pace."""
        return (time.monotonic() if now is None else now) - self.finished >= self.took

    def forget(self) -> None:
        """Drop the last reading: after a pause, the next share should not average over the pause."""
        self._last = None
