"""`doctor`: check the host (Incus, storage pool, default profile, subuid/subgid, nft, br_netfilter, tmux,
ansible-playbook, GPU driver, context files, subnet conflicts), each finding with a fix to copy."""

from __future__ import annotations

import argparse
import asyncio

from .. import exitcodes
from ..reports import DoctorReport
from .common import add_incus_arguments, emit_json

HELP = (
    "check the host; every finding with a command that fixes it (exit 0 no error, 1 an error, "
    "3 when the only error is an unreachable Incus; every other check still runs)"
)
MARKS = {"ok": "ok  ", "warning": "WARN", "error": "FAIL"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--infra", metavar="PATH", help="infra file to check for host subnet conflicts")
    parser.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    add_incus_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from ..engine.host import run_doctor

    report = asyncio.run(run_doctor(args.incus, args.infra))
    if args.json:
        emit_json(report)
    else:
        print(render(report))
    return exit_code(report)


def exit_code(report: DoctorReport) -> int:
    errors = [f for f in report.findings if f.status == "error"]
    if not errors:
        return exitcodes.OK
    if not report.incus_reachable and len(errors) == 1:
        return exitcodes.UNREACHABLE
    return exitcodes.FAILED


def render(report: DoctorReport) -> str:
    lines = []
    for finding in report.findings:
        lines.append(f"[{MARKS[finding.status]}] {finding.check}: {finding.message}")
        if finding.fix and finding.status != "ok":
            lines.append(f"       fix: {finding.fix}")
    counts = {s: sum(f.status == s for f in report.findings) for s in MARKS}
    lines.append(f"{counts['error']} error(s), {counts['warning']} warning(s), {counts['ok']} ok")
    return "\n".join(lines)
