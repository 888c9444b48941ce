"""`smoke`: run every declared check (infra `checks:` and role meta/anklume_checks.yml) inside the machines,
in parallel; a line per machine and check; exit 1 when one fails (issue 22)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import exitcodes
from ..psot.generate import default_output_dir
from ..reports import IdempotenceOut, SmokeReport
from .common import add_incus_arguments, add_infra_arguments, checked_infra, emit_json, run_with_incus

HELP = (
    "run each machine's declared checks (commands inside it, TCP ports and HTTP URLs from it or from the "
    "machine its check names with from:); exit 1 when one fails, 2 invalid infra, 3 Incus unreachable"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_infra_arguments(parser)
    add_incus_arguments(parser)
    parser.add_argument("--limit", metavar="DOMAIN", help="only this domain's machines")
    parser.add_argument("--parallel", type=int, default=8, metavar="N", help="checks run at once (default 8)")
    parser.add_argument(
        "--idempotent",
        action="store_true",
        help="first apply (and provision), then both again: fail naming whatever the second run changed",
    )
    parser.add_argument("--no-provision", action="store_true", help="with --idempotent: apply only, no Ansible")
    parser.add_argument(
        "--out", metavar="DIR", help="the generated Ansible tree, for roles_custom/ (default: the infra's folder)"
    )


def run(args: argparse.Namespace) -> int:
    from ..engine.smoke import run_smoke

    checked = checked_infra(args)
    tree = Path(args.out) if args.out else default_output_dir(checked.loaded.path)

    async def work(client) -> SmokeReport:
        twice = None
        if args.idempotent:
            from ..engine.host import gather_host_context
            from ..engine.smoke import check_idempotence

            twice = await check_idempotence(
                client,
                checked.infra,
                tree,
                host=gather_host_context(False),
                limit=args.limit,
                provision=not args.no_provision,
                on_event=lambda event: print(event.line(), file=sys.stderr, flush=True),
            )
            if not twice.first_ok:
                return SmokeReport(limit=args.limit, ok=False, passed=0, failed=0, machines=[], idempotence=_out(twice))
        report = await run_smoke(client, checked.infra, tree, limit=args.limit, parallel=max(1, args.parallel))
        if twice is not None:
            report.idempotence = _out(twice)
            report.ok = report.ok and twice.ok
        return report

    report = run_with_incus(args, work)
    if args.json:
        emit_json(report)
    else:
        print(render(report))
    return exitcodes.OK if report.ok else exitcodes.FAILED


def _out(twice) -> IdempotenceOut:
    return IdempotenceOut(ok=twice.ok, first_error=twice.first_error, changes=twice.changes)


def render(report: SmokeReport) -> str:
    lines = []
    if report.idempotence is not None:
        if report.idempotence.first_error:
            lines.append(f"FAIL idempotence: the first run failed: {report.idempotence.first_error}")
        lines += [f"FAIL idempotence: the second run changed: {change}" for change in report.idempotence.changes]
        if report.idempotence.ok:
            lines.append("ok   idempotence: the second apply/provision changed nothing")
    for machine in report.machines:
        for check in machine.checks:
            where = "" if check.ran_in == machine.machine else f" (from {check.ran_in})"
            mark = "ok  " if check.ok else "FAIL"
            lines.append(f"{mark} {machine.domain}/{machine.machine}: {check.name}{where}: {check.detail}")
    if not report.machines:
        lines.append("no declared checks")
    lines.append(f"smoke: {report.passed} passed, {report.failed} failed")
    return "\n".join(lines)
