"""Rules on declared smoke checks (issue 22): K1-K5 on each machine's `checks:` (psot/checks.py)."""

from __future__ import annotations

from typing import Any

from ..checks import parse_checks
from .common import Collector, Inventory


def check_smoke_checks(data: dict[str, Any], inv: Inventory, out: Collector) -> None:
    names = {name for name in inv.machines if isinstance(name, str)}
    for dname, domain in inv.domains.items():
        machines = domain.get("machines")
        if not isinstance(machines, dict):
            continue
        for mname, machine in machines.items():
            if not isinstance(machine, dict) or "checks" not in machine:
                continue
            path = ("domains", dname, "machines", mname, "checks")
            for problem in parse_checks(machine["checks"], names)[1]:
                out.error(problem.rule, f"Machine '{mname}': {problem.message}", path + problem.path)
