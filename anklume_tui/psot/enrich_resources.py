"""Enrichment step 4 (SPEC §6): share the host's CPU and memory among machines, then check overcommit (X3).

Host figures come from `HostContext` (the engine reads them); missing figures or a reserve that leaves
nothing give W6 and no allocation. Explicit limits are never overwritten.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .context import HostContext
from .findings import Finding, Location, Severity

KIB, MIB, GIB = 1024, 1024**2, 1024**3
MEMORY_UNITS = (("GiB", GIB), ("MiB", MIB), ("KiB", KIB), ("GB", 10**9), ("MB", 10**6))
MIN_MEMORY = 128 * MIB
CPU_TOLERANCE = 1.001  # 0.1 %
PERCENT = re.compile(r"^\s*(\d+)\s*%\s*$")


@dataclass(frozen=True)
class ResourcePolicy:
    equal: bool
    cpu_count: bool
    soft_memory: bool
    overcommit: bool
    cpu_reserve: float | str  # a count or "N%" (validated)
    memory_reserve: object


@dataclass(frozen=True)
class Pool:
    host_cpus: float
    cpus: float
    memory: int


def parse_memory(value: object) -> int:
    """Bytes of an Incus size (`2GiB`, `512MiB`, `4GB`, `1073741824`); 0 when unreadable."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    text = str(value).strip()
    for unit, factor in MEMORY_UNITS:
        if text.endswith(unit):
            try:
                return int(float(text[: -len(unit)]) * factor)
            except ValueError:
                return 0
    try:
        return int(text)
    except ValueError:
        return 0


def format_memory(size: int) -> str:
    """`NGiB` when a whole number of GiB, else `NMiB` (rounded down); bytes below 1 MiB."""
    if size >= GIB and size % GIB == 0:
        return f"{size // GIB}GiB"
    if size >= MIB:
        return f"{size // MIB}MiB"
    return str(size)


def allocate_resources(data: dict[str, Any], ctx: HostContext, where: Location | None) -> list[Finding]:
    """Mutates `data` (the enrichment's own copy); returns W6 or X3 findings."""
    policy = _policy(data)
    if policy is None:
        return []
    pool = _pool(policy, ctx)
    if isinstance(pool, str):
        return [Finding("W6", Severity.WARNING, f"{pool}: resource allocation skipped", where)]
    machines = [
        machine
        for domain in (data.get("domains") or {}).values()
        for machine in (domain.get("machines") or {}).values()
    ]
    _share_cpu(machines, pool, policy)
    _share_memory(machines, pool, policy)
    if policy.soft_memory:
        for machine in machines:
            config = machine.get("config") or {}
            if "limits.memory" in config:
                config.setdefault("limits.memory.enforce", "soft")
    return _overcommit(machines, pool, policy, where)


def _policy(data: dict[str, Any]) -> ResourcePolicy | None:
    raw = (data.get("global") or {}).get("resource_policy")
    if raw is True:
        raw = {}
    if not isinstance(raw, dict):
        return None
    reserve = raw.get("host_reserve") or {}
    return ResourcePolicy(
        equal=raw.get("mode") == "equal",
        cpu_count=raw.get("cpu_mode") == "count",
        soft_memory=raw.get("memory_enforce", "soft") == "soft",
        overcommit=raw.get("overcommit") is True,
        cpu_reserve=reserve.get("cpu", "20%"),
        memory_reserve=reserve.get("memory", "20%"),
    )


def _pool(policy: ResourcePolicy, ctx: HostContext) -> Pool | str:
    """What machines may share, or why nothing can be shared."""
    cpus, memory = ctx.host_cpus, ctx.host_memory_bytes
    if cpus is None or memory is None or cpus <= 0 or memory <= 0:
        return "host CPU and memory could not be detected"
    percent = PERCENT.match(str(policy.cpu_reserve))
    cpu_reserve = cpus * int(percent[1]) / 100 if percent else float(policy.cpu_reserve)
    percent = PERCENT.match(str(policy.memory_reserve))
    memory_reserve = int(memory * int(percent[1]) / 100) if percent else parse_memory(policy.memory_reserve)
    pool = Pool(host_cpus=cpus, cpus=cpus - cpu_reserve, memory=memory - memory_reserve)
    if pool.cpus <= 0 or pool.memory <= 0:
        return (
            f"host reserve (cpu {policy.cpu_reserve}, memory {policy.memory_reserve}) leaves nothing of "
            f"{cpus:g} CPUs and {format_memory(memory)}"
        )
    return pool


def _weight(machine: dict[str, Any]) -> int:
    weight = machine.get("weight")
    return weight if isinstance(weight, int) and not isinstance(weight, bool) and weight >= 1 else 1


def _shares(receivers: list[dict[str, Any]], available: float, equal: bool) -> list[tuple[dict[str, Any], float]]:
    """available × weight / Σweight of the receivers (`equal`: every weight is 1)."""
    weights = [1 if equal else _weight(m) for m in receivers]
    total = sum(weights)
    return [(m, available * w / total) for m, w in zip(receivers, weights, strict=True)]


def _config(machine: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(machine.get("config"), dict):
        machine["config"] = {}
    config: dict[str, Any] = machine["config"]
    return config


def _share_cpu(machines: list[dict[str, Any]], pool: Pool, policy: ResourcePolicy) -> None:
    receivers = [m for m in machines if not {"limits.cpu", "limits.cpu.allowance"} & set(m.get("config") or {})]
    if not receivers:
        return
    for machine, share in _shares(receivers, pool.cpus, policy.equal):
        if policy.cpu_count:
            _config(machine)["limits.cpu"] = str(max(1, int(share)))
        else:
            _config(machine)["limits.cpu.allowance"] = f"{max(1, int(share / pool.host_cpus * 100))}%"


def _share_memory(machines: list[dict[str, Any]], pool: Pool, policy: ResourcePolicy) -> None:
    receivers = [m for m in machines if "limits.memory" not in (m.get("config") or {})]
    if not receivers:
        return
    for machine, share in _shares(receivers, pool.memory, policy.equal):
        _config(machine)["limits.memory"] = format_memory(max(int(share), MIN_MEMORY))


def _whole(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _overcommit(
    machines: list[dict[str, Any]], pool: Pool, policy: ResourcePolicy, where: Location | None
) -> list[Finding]:
    """X3 over every machine's limits, allocated and explicit.

    `limits.cpu` counts whole cores; otherwise `limits.cpu.allowance` counts whole percents of the host.
    Values that are not plain numbers (`0-3`, `50ms/100ms`) are not counted.
    """
    cores = percents = memory = 0
    for machine in machines:
        config = machine.get("config") or {}
        if "limits.cpu" in config:
            cores += _whole(config["limits.cpu"]) or 0
        elif "limits.cpu.allowance" in config:
            allowance = str(config["limits.cpu.allowance"])
            if allowance.endswith("%"):
                percents += _whole(allowance[:-1]) or 0
        if "limits.memory" in config:
            memory += parse_memory(config["limits.memory"])
    allowed_percent = pool.cpus / pool.host_cpus * 100
    parts = []
    if cores > pool.cpus * CPU_TOLERANCE:
        parts.append(f"CPU: {cores} cores > {pool.cpus:.0f} available")
    if percents > allowed_percent * CPU_TOLERANCE:
        parts.append(f"CPU allowance: {percents}% > {allowed_percent:.0f}% available")
    if memory > pool.memory:
        parts.append(f"Memory: {format_memory(memory)} > {format_memory(pool.memory)}")
    if not parts:
        return []
    message = "Resource overcommit: " + "; ".join(parts)
    if policy.overcommit:
        return [Finding("X3", Severity.WARNING, f"{message} (allowed by resource_policy.overcommit)", where)]
    return [Finding("X3", Severity.ERROR, f"{message}. Set resource_policy.overcommit: true to allow.", where)]
