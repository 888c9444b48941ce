"""`doctor`: check the host (Incus, storage pool, default profile, subuid/subgid, nft, br_netfilter, tmux,
ansible-playbook, GPU driver, context files, subnet conflicts), each finding with a fix to copy; `--fix` shows
the fixes it can apply itself (bootstrap's steps), applies them with `--yes`, then checks again."""

from __future__ import annotations

import argparse
import asyncio

from .. import exitcodes
from ..reports import DoctorReport, SetupStepOut
from .common import add_incus_arguments, emit_json
from .setup_steps import exit_code as setup_exit
from .setup_steps import outcome_rows, planned_rows, row_lines, say_progress

HELP = (
    "check the host; every finding with a command that fixes it (exit 0 no error, 1 an error, "
    "3 when the only error is an unreachable Incus; every other check still runs); --fix applies the fixes "
    "it can (shown first; without --yes nothing is changed and the exit is 4), then checks again"
)
MARKS = {"ok": "ok  ", "warning": "WARN", "error": "FAIL"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--infra", metavar="PATH", help="infra file to check for host subnet conflicts")
    parser.add_argument("--fix", action="store_true", help="apply the fixes doctor can apply itself, then re-check")
    parser.add_argument("--yes", action="store_true", help="with --fix: carry the fixes out (without: show them)")
    parser.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    add_incus_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from ..engine.host import run_doctor

    report = asyncio.run(run_doctor(args.incus, args.infra))
    if args.fix:
        return _fix(args, report)
    if args.json:
        emit_json(report)
    else:
        print(render(report))
    return exit_code(report)


def _fix(args: argparse.Namespace, before: DoctorReport) -> int:
    """The failing checks' fixes: shown; with --yes carried out, each said as it ends, then every check again."""
    from ..engine.bootstrap import BootstrapHost, BootstrapOptions, carry_out, fixing_steps, plan_bootstrap
    from ..engine.host import run_doctor
    from ..engine.incus import connect

    failing = {f.check for f in before.findings if f.status != "ok"}

    async def main() -> tuple[DoctorReport, list[SetupStepOut], bool]:
        async with connect(args.incus) as client:
            plan = await plan_bootstrap(client, BootstrapOptions(), BootstrapHost())
            ids = fixing_steps(plan, failing)
            chosen = [s for s in plan.steps if s.id in ids]
            if not args.yes or not any(s.state == "todo" for s in chosen):
                return before, planned_rows(chosen), False
            if not args.json:
                print(render(before) + "\n\nfixes:\n" + "\n".join(row_lines(planned_rows(chosen), commands=True)))
                print(flush=True)
            rows = outcome_rows(await carry_out(plan, only=ids, on_step=say_progress))
        return await run_doctor(args.incus, args.infra), rows, True

    after, rows, applied = asyncio.run(main())
    report = after.model_copy(update={"fixes": rows})
    pending = not applied and any(r.status == "todo" for r in rows)
    if args.json:
        emit_json(report)
    else:
        print(_fix_text(report, applied, pending))
    if pending:
        return exitcodes.REFUSED
    return exit_code(report) or setup_exit(rows)


def _fix_text(report: DoctorReport, applied: bool, pending: bool) -> str:
    fixes = row_lines(report.fixes, commands=not applied) or ["(none: nothing failing has a fix doctor can apply)"]
    head = "after the fixes, checked again:" if applied else "checks:"
    tail = "nothing changed: run again with --fix --yes to apply the fixes above" if pending else ""
    return "\n".join([head, render(report), "", "fixes:", *fixes, *([tail] if tail else [])])


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
