"""Rows of the domains view: declared state first, real state merged in as it arrives."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ...psot.outline import OutlineDomain
from ...transfer_progress import human_bytes
from ...widgets.domain_table import UNKNOWN, Row

if TYPE_CHECKING:  # the first paint shows the outline: the model, the reports and Incus come after it
    from ...engine.host import InstanceChange, InstanceKey, Usage
    from ...psot.model import Domain
    from ...reports import MachineStatus, StatusReport

DRIFT_MARKS = {"ok": "✓", "drift": "≠ drift", "missing": "✗", "disabled": "off"}

Live = dict[str, dict[str, str]]  # row key -> field -> text


@dataclass(frozen=True)
class View:
    """How the user looks at the rows: a filter, running machines only, and the order inside each domain."""

    needle: str = ""
    running_only: bool = False
    sort: str = "declared"  # one of SORTS


SORTS = ("declared", "name", "state", "ip")


def _sort_key(sort: str):
    if sort == "name":
        return lambda row: row.name
    if sort == "state":
        return lambda row: (row.state != "Running", row.state, row.name)
    return lambda row: tuple(int(part) if part.isdigit() else 999 for part in row.ip.partition(" ")[0].split("."))


def _row(key: str, name: str, trust: str, kind: str, ip: str, enabled: bool, live: Live) -> Row:
    """A row from what is declared, overridden by what Incus says (its live IP wins over the declared one)."""
    fields = {"ip": ip, **live.get(key, {})}
    return Row(key=key, name=name, trust=trust, kind=kind, enabled=enabled, **fields)


def rows_of(
    domains: Sequence[Domain | OutlineDomain],
    view: View = View(),
    live: Live | None = None,
    extra: Mapping[str, Sequence[Row]] | None = None,
) -> list[Row]:
    """Domain rows, each followed by its machine rows; domains stay in declaration order (grouped as
    declared), machines follow the view's order. A filter keeps matching machines and their domain
    (a machine matches by its name, its domain's, or the whole name of the cluster member it runs on).
    `domains`: the checked infra's, or the quick outline's while the check runs. `extra`: rows of
    undeclared instances (disposables) by domain, shown among its machines."""
    rows: list[Row] = []
    live = live or {}
    needle = view.needle.lower()
    for domain in domains:
        trust = domain.effective_trust
        undeclared_ip = UNKNOWN if isinstance(domain, OutlineDomain) else "DHCP"  # the check computes it
        machines = [
            _row(f"m:{m.name}", m.name, trust, m.type, m.ip or undeclared_ip, domain.enabled, live)
            for m in domain.machines
            if not needle
            or needle in m.name.lower()
            or needle in domain.name.lower()
            or needle == live.get(f"m:{m.name}", {}).get("location", "").lower()  # a cluster member's name
        ]
        machines += [
            row
            for row in (extra or {}).get(domain.name, ())
            if not needle or needle in row.name.lower() or needle in domain.name.lower()
        ]
        if view.running_only:
            machines = [row for row in machines if row.state == "Running"]
        if view.sort != "declared":
            machines.sort(key=_sort_key(view.sort))
        domain_matches = bool(needle) and needle in domain.name.lower()
        if (needle or view.running_only) and not machines and not domain_matches:
            continue
        key = f"d:{domain.name}"
        rows.append(_row(key, domain.name, trust, "domain", domain.subnet or UNKNOWN, domain.enabled, live))
        rows.extend(machines)
    return rows


def machine_fields(status: MachineStatus) -> dict[str, str]:
    return {
        "state": status.state,
        "ip": status.ip_text(),
        "snapshots": "" if status.snapshots is None else str(status.snapshots),
        "drift": DRIFT_MARKS[status.drift],
        "location": status.location or "",
    }


def live_from_report(report: StatusReport) -> tuple[Live, dict[tuple[str, str], str]]:
    """Fields per row key, and the row key of each (project, instance) for later events."""
    live: Live = {}
    by_instance: dict[tuple[str, str], str] = {}
    for domain in report.domains:
        live[f"d:{domain.name}"] = {"state": "present" if domain.exists else "missing"}
        for machine in domain.machines:
            key = f"m:{machine.name}"
            live[key] = machine_fields(machine)
            by_instance[(domain.project, machine.instance)] = key
    return live, by_instance


def fields_after(change: InstanceChange) -> dict[str, str]:
    if change.status is None:
        return {"state": "missing", "drift": DRIFT_MARKS["missing"], "snapshots": "", "cpu": "", "memory": ""}
    if change.status != "Running":
        return {"state": change.status, "cpu": "", "memory": ""}
    return {"state": change.status}


def cpu_text(percent: float | None) -> str:
    if percent is None:
        return ""
    return f"{percent:.0f}%" if percent >= 9.95 else f"{percent:.1f}%"


def memory_text(size: int | None) -> str:
    return "" if size is None else human_bytes(size, compact=True)


def usage_fields(report: StatusReport, usage: dict[InstanceKey, Usage], live: Live) -> Live:
    """The cpu and memory cells that this reading changes: each machine's, and each domain's totals (a
    machine not running has none). A CPU share needs two readings: until then, the cell stays empty, and
    a domain's stays empty until each of its running machines has one."""
    changed: Live = {}
    for domain in report.domains:
        machines = [usage.get((domain.project, m.instance)) for m in domain.machines]
        running = [u for u in machines if u is not None]
        shares = [u.cpu_percent for u in running if u.cpu_percent is not None]
        fields = {f"m:{m.name}": _usage_cells(u) for m, u in zip(domain.machines, machines, strict=True)}
        fields[f"d:{domain.name}"] = {
            "cpu": cpu_text(sum(shares)) if running and len(shares) == len(running) else "",
            "memory": memory_text(sum(u.memory_bytes for u in running)) if running else "",
        }
        for key, cells in fields.items():
            if any(live.get(key, {}).get(name, "") != text for name, text in cells.items()):
                changed[key] = cells
    return changed


def _usage_cells(usage: Usage | None) -> dict[str, str]:
    if usage is None:
        return {"cpu": "", "memory": ""}
    return {"cpu": cpu_text(usage.cpu_percent), "memory": memory_text(usage.memory_bytes)}
