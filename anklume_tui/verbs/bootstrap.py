"""`bootstrap`: set the host up for anklume-tui — Incus installed, started and initialised with a preseed shown
first, the root id ranges, br_netfilter, the isolation ruleset at boot, the context files. Idempotent; it only
adds what is missing and says what it leaves."""

from __future__ import annotations

import argparse
import asyncio

from .. import exitcodes
from ..reports import BootstrapReport, SetupStepOut
from .common import add_incus_arguments, emit_json
from .setup_steps import exit_code, outcome_rows, planned_rows, row_lines, say_progress

HELP = (
    "set the host up: Incus installed, started, initialised (the preseed shown first), root id ranges, "
    "br_netfilter, inotify and keyring limits, the isolation ruleset at boot, context files; only adds what is missing "
    "(exit 0 set up, 1 a step failed, 3 Incus cannot be started from here, 4 refused or no --yes)"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", action="store_true", help="show what would be done, change nothing")
    parser.add_argument(
        "--storage",
        choices=("auto", "zfs", "btrfs", "lvm", "dir"),
        default="auto",
        help="driver of the 'default' pool when one is created (auto: zfs, else btrfs, else dir)",
    )
    parser.add_argument(
        "--mode", choices=("prod", "dev"), default="dev", help="prod refuses a dir pool unless --storage dir"
    )
    parser.add_argument("--yes", action="store_true", help="carry out the steps (without it: show them, exit 4)")
    parser.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    add_incus_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from ..engine.bootstrap import BootstrapHost, BootstrapOptions, carry_out, plan_bootstrap
    from ..engine.incus import connect

    options = BootstrapOptions(storage=args.storage, mode=args.mode)

    async def main() -> BootstrapReport:
        async with connect(args.incus) as client:
            plan = await plan_bootstrap(client, options, BootstrapHost())
            refused = any(s.state == "refused" for s in plan.steps)  # refused as a whole: nothing is done
            applying = bool(plan.todo) and args.yes and not args.dry_run and not refused
            rows = planned_rows(plan.steps)
            if applying and not args.json:  # shown before it is done
                print(_text(_report(args, plan.storage, plan.preseed, rows)) + "\n", flush=True)
            if applying:
                rows = outcome_rows(await carry_out(plan, on_step=say_progress))
            return _report(args, plan.storage, plan.preseed, rows)

    report = asyncio.run(main())
    if args.json:
        emit_json(report)
    else:
        print(_text(report) if not report.changed else "\n".join(row_lines(report.steps, commands=False)))
        print(_last_line(report, args))
    return _exit(report, args)


def _report(
    args: argparse.Namespace, storage: str | None, preseed: str | None, rows: list[SetupStepOut]
) -> BootstrapReport:
    return BootstrapReport(
        dry_run=args.dry_run,
        mode=args.mode,
        changed=any(r.status == "applied" for r in rows),
        storage=storage,
        preseed=preseed,
        steps=rows,
    )


def _text(report: BootstrapReport) -> str:
    lines = [
        f"bootstrap (mode {report.mode}): what the host has and what it needs",
        *row_lines(report.steps, commands=True),
    ]
    if report.preseed:
        lines += ["", "preseed (what is added to Incus):", *("  " + ln for ln in report.preseed.splitlines())]
    return "\n".join(lines)


def _pending(report: BootstrapReport) -> bool:
    return not report.changed and any(r.status == "todo" for r in report.steps)


def _last_line(report: BootstrapReport, args: argparse.Namespace) -> str:
    if report.changed:
        left = [r.id for r in report.steps if r.status in ("left", "manual", "failed", "refused", "todo")]
        return "bootstrap done" + (f"; see: {', '.join(left)}" if left else ": the host is set up")
    if any(r.status == "refused" for r in report.steps):
        return "refused: nothing changed (see the REFUSED line)"
    if not _pending(report):
        return "nothing to do: the host is already set up (nothing changed)"
    if args.dry_run:
        return "dry run: nothing changed"
    return "nothing changed: run again with --yes to carry out the steps above"


def _exit(report: BootstrapReport, args: argparse.Namespace) -> int:
    code = exit_code(report.steps)
    if code == exitcodes.OK and _pending(report) and not args.dry_run:
        return exitcodes.REFUSED  # the steps were shown, not done: --yes is needed
    if args.dry_run and code in (exitcodes.FAILED,):  # manual steps on a dry run: said, not a failure yet
        return exitcodes.OK
    return code
