"""`status`: each declared domain and machine with its real state, IP, protection, snapshots and drift."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from .. import exitcodes
from .common import (
    add_incus_arguments,
    add_infra_arguments,
    checked_infra,
    emit_json,
    infra_path,
    run_with_incus,
)

if TYPE_CHECKING:
    import threading

    from ..engine.reconcile import StatusListings
    from ..reports import StatusReport

HELP = (
    "each declared domain and machine with its real Incus state, IP, protection, snapshot count and drift "
    "(exit 0 even with drift; 2 invalid infra; 3 Incus unreachable)"
)
COLUMNS = ("DOMAIN", "MACHINE", "INSTANCE", "STATE", "TYPE", "IP", "PROTECTED", "SNAPSHOTS", "DRIFT")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_infra_arguments(parser)
    add_incus_arguments(parser)
    parser.add_argument("--details", action="store_true", help="list each drifting key under its machine")


def run(args: argparse.Namespace) -> int:
    from ..engine.reconcile import start_status_read

    # The three requests go to a local Incus first, with the standard library alone: Incus works out each
    # instance's live state on another core while this process imports the client's models, the check and the
    # reports. When they cannot be sent, or are not simply answered, the read through the client below says why.
    answered = start_status_read(getattr(args, "incus", None))
    if answered is not None:
        infra_path(args)  # no infra found: said as before
        from ..engine.reconcile import prior_allocation, status_of
        from ..psot import pipeline  # noqa: F401 - imported while Incus answers
        from ..reports import StatusReport  # noqa: F401

        quick = answered()
        if quick is not None:
            result = checked_infra(args, prior_allocation((quick.networks, quick.instances)))
            return _show(args, status_of(quick, result.infra))
    return _run_through_client(args)


def _run_through_client(args: argparse.Namespace) -> int:
    import threading
    from concurrent.futures import ThreadPoolExecutor

    # One round of requests, started first, in a thread: while Incus works out each instance's live state
    # (most of its answer's time), the main thread imports the check, once Incus has the requests (both
    # threads importing at once, sharing the interpreter, would only send the requests later). What
    # status shows also holds what the check's stable allocation reads (the bridges, each instance's eth0):
    # the check does not read Incus again. Incus failing is said once the infra is found valid, as before:
    # an invalid infra exits 2 whether or not Incus answers.
    held: StatusListings | None = None
    failure: Exception | None = None
    with ThreadPoolExecutor(1) as pool:
        ready = threading.Event()
        reading = pool.submit(_read, args, ready)
        ready.wait()
        infra_path(args)  # no infra found: said as before (the read is waited for, then left)
        from ..engine.incus import IncusError, IncusUnreachable, IncusUrlError
        from ..engine.reconcile import prior_allocation, status_of
        from ..psot import pipeline  # noqa: F401 - imported while Incus answers

        try:
            held = reading.result()
        except (IncusUnreachable, IncusUrlError, IncusError, OSError) as exc:
            failure = exc
    result = checked_infra(args, prior_allocation(None if held is None else (held.networks, held.instances)))
    if failure is not None:
        raise failure
    assert held is not None
    return _show(args, status_of(held, result.infra))


def _show(args: argparse.Namespace, report: StatusReport) -> int:
    if args.json:
        emit_json(report)
    else:
        print(render_table(report, details=getattr(args, "details", False)))
    return exitcodes.OK


def _read(args: argparse.Namespace, ready: threading.Event) -> StatusListings:
    """`read_status` through `run_with_incus`; `ready` is set as Incus has the requests (or the read failed)."""
    try:
        from ..engine.reconcile import read_status

        return run_with_incus(args, lambda client: read_status(client, answered=ready.set))
    finally:
        ready.set()


def _yes_no(value: bool | None) -> str:
    return "-" if value is None else "yes" if value else "no"


def render_table(report: StatusReport, details: bool = False) -> str:
    rows: list[tuple[str, ...]] = []
    notes: dict[int, list[str]] = {}
    for domain in report.domains:
        label = domain.name if domain.enabled else f"{domain.name} (disabled)"
        if not domain.exists:
            label += " [no project]"
        if not domain.machines:
            rows.append((label, "-", "-", "-", "-", "-", "-", "-", "-", "-"))
        for machine in domain.machines:
            rows.append(
                (
                    label,
                    machine.name,
                    machine.instance,
                    machine.state,
                    machine.type,
                    machine.ip_text(),
                    _yes_no(machine.protected),
                    "-" if machine.snapshots is None else str(machine.snapshots),
                    machine.drift,
                    machine.location or "-",
                )
            )
            if details and machine.differences:
                notes[len(rows) - 1] = machine.differences
        for disposable in domain.disposables:
            rows.append((label, "(disposable)", disposable.name, disposable.state, disposable.type) + ("-",) * 5)
    # On a cluster, the member each machine runs on; elsewhere the column would only ever say "-".
    columns = (*COLUMNS, "LOCATION") if any(m.location for d in report.domains for m in d.machines) else COLUMNS
    rows = [row[: len(columns)] for row in rows]
    widths = [max(len(row[i]) for row in [columns, *rows]) for i in range(len(columns))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(columns, widths, strict=True)).rstrip()]
    for index, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        lines += [f"    {note}" for note in notes.get(index, [])]
    machines = [m for d in report.domains for m in d.machines]
    drifting = sum(m.drift in ("drift", "missing") for m in machines)
    disposables = sum(len(d.disposables) for d in report.domains)
    also = f", {disposables} disposable(s)" if disposables else ""
    lines.append(f"{len(report.domains)} domain(s), {len(machines)} machine(s){also}, {drifting} drifting or missing")
    return "\n".join(lines)
