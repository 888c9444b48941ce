"""`snapshot create|restore|delete|list [TARGET]`: snapshot timelines of machines (SPEC §10.1)."""

from __future__ import annotations

import argparse
import sys

from .. import exitcodes
from ..errors import Invalid, Refused
from ..reports import SnapshotOut, SnapshotOutcomeOut, SnapshotReport, SnapshotTimelineOut
from .common import add_incus_arguments, add_infra_arguments, checked_infra, emit_json, reported, run_with_incus

HELP = (
    "create, restore, delete or list snapshots of a machine, a domain, or (no TARGET) every machine of the "
    "enabled domains; TARGET may also name any existing instance. create names it snap-YYYYMMDD-HHMMSS unless "
    "--name (an existing name is skipped); restore and delete need --name and --yes (a running instance is "
    "restarted by the restore); restore --pre-apply [TIMESTAMP] rolls back to the latest (or given) pre-apply "
    "snapshot on every instance that has it. Exit 0 ok; 1 missing snapshot or Incus error (nothing changed "
    "when a snapshot is missing); 2 invalid infra, unknown target or bad arguments; 3 Incus unreachable; "
    "4 restore/delete without --yes"
)
ACTIONS = ("create", "restore", "delete", "list")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=ACTIONS)
    parser.add_argument("target", nargs="?", metavar="TARGET", help="machine, domain or instance (default: all)")
    parser.add_argument("--name", metavar="NAME", help="snapshot name")
    parser.add_argument(
        "--pre-apply",
        nargs="?",
        const="",
        metavar="TIMESTAMP",
        help="restore: the latest (or this YYYYMMDD-HHMMSS) pre-apply snapshot",
    )
    parser.add_argument("--yes", action="store_true", help="confirm restore/delete (destructive)")
    add_infra_arguments(parser)
    add_incus_arguments(parser)


def _usage_error(args: argparse.Namespace) -> str | None:
    if args.pre_apply is not None and args.action != "restore":
        return "--pre-apply only goes with restore"
    if args.action in ("restore", "delete") and not args.name and args.pre_apply is None:
        return f"snapshot {args.action} needs --name NAME" + (" (or --pre-apply)" if args.action == "restore" else "")
    return None


def run(args: argparse.Namespace) -> int:
    problem = _usage_error(args)
    if problem:
        raise Invalid(problem)
    if args.action in ("restore", "delete") and not args.yes:
        raise Refused(f"snapshot {args.action} is destructive: re-run with --yes")
    infra = checked_infra(args).infra
    report = SnapshotReport(action=args.action, instances=[], outcomes=[], missing=[], error=None)

    async def work(client) -> None:
        from ..engine.host import state_dir
        from ..engine.machines import (
            create_snapshots,
            delete_snapshots,
            list_snapshots,
            resolve_targets,
            restore_snapshots,
            rollback_pre_apply,
        )

        targets, report.missing = resolve_targets(infra, await client.list_instances(), args.target)
        for where in report.missing:
            print(f"note: {where} does not exist: skipped", file=sys.stderr)
        if args.action == "list":
            timeline = await list_snapshots(client, targets)
            report.instances = [_timeline_out(t, snaps) for t, snaps in timeline.items()]
        elif args.action == "create":
            report.outcomes = _outcomes(await create_snapshots(client, targets, args.name))
        elif args.action == "delete":
            report.outcomes = _outcomes(await delete_snapshots(client, targets, args.name))
        elif args.pre_apply is not None:
            scope = targets if args.target else None
            found = await rollback_pre_apply(client, state_dir(), args.pre_apply or None, scope)
            report.outcomes = _outcomes(found)
        else:
            for inst in targets:
                if inst.running:
                    print(f"{inst.project}/{inst.name} is running: the restore restarts it", file=sys.stderr)
            report.outcomes = _outcomes(await restore_snapshots(client, targets, args.name))

    with reported(args, report):
        run_with_incus(args, work)
    _show(args, report)
    return exitcodes.OK


def _outcomes(outcomes) -> list[SnapshotOutcomeOut]:
    return [
        SnapshotOutcomeOut(
            project=o.target.project,
            instance=o.target.instance,
            snapshot=o.snapshot,
            outcome=o.outcome,
            restarted=o.running,
        )
        for o in outcomes
    ]


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _timeline_out(target, snaps) -> SnapshotTimelineOut:
    return SnapshotTimelineOut(
        project=target.project,
        instance=target.instance,
        snapshots=[
            SnapshotOut(
                name=s.name, created_at=_iso(s.created_at), expires_at=_iso(s.expires_at), origin=s.origin, size=s.size
            )
            for s in snaps
        ],
    )


def _show(args: argparse.Namespace, report: SnapshotReport) -> None:
    if args.json:
        emit_json(report)
        return
    for timeline in report.instances:
        print(f"{timeline.project}/{timeline.instance}: {len(timeline.snapshots)} snapshot(s)")
        for s in timeline.snapshots:
            expires = f", expires {s.expires_at}" if s.expires_at else ""
            size = f", {s.size} bytes" if s.size is not None else ""
            print(f"  {s.name}  {s.created_at or '?'}  {s.origin}{size}{expires}")
    for o in report.outcomes:
        note = " (it was running: Incus stopped and restarted it)" if o.restarted else ""
        print(f"{o.outcome} {o.snapshot} on {o.project}/{o.instance}{note}")
    if report.action != "list" and not report.outcomes:
        print("no instance to act on", file=sys.stderr)
