"""`move MACHINE --to MEMBER`: a declared machine to another member of the cluster (stop, move, start)."""

from __future__ import annotations

import argparse
import sys

from .. import exitcodes
from ..errors import Invalid, Refused
from ..reports import MoveReport
from .common import add_incus_arguments, add_infra_arguments, checked_infra, emit_json, reported, run_with_incus

HELP = (
    "move a machine declared in the infra to another member of the Incus cluster: a running machine is stopped, "
    "moved and started again there (and started again where it was if Incus fails the move); a stopped one stays "
    "stopped. MEMBER is a member's name as `incus cluster list` shows it. Moving to another Incus server "
    "(--to REMOTE:[MEMBER] or --remote REMOTE) is refused with the incus CLI command that does it. "
    "Exit 0 moved (or already there); 1 Incus failed the move; 2 unknown machine, bad arguments or invalid infra; "
    "3 Incus unreachable; 4 refused: no --yes, not a cluster, an unknown or offline member, another server, a "
    "machine not created yet"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("machine", metavar="MACHINE", help="a machine declared in the infra")
    parser.add_argument("--to", required=True, metavar="MEMBER", help="the cluster member to move it to")
    parser.add_argument("--remote", metavar="REMOTE", help="another Incus server (refused: see above)")
    parser.add_argument("--yes", action="store_true", help="confirm: a running machine is stopped for the move")
    add_infra_arguments(parser)
    add_incus_arguments(parser)


def target_of(to: str, remote: str | None) -> tuple[str, str | None]:
    """(member, remote) from `--to MEMBER`, `--to REMOTE:` or `--to REMOTE:MEMBER`, and `--remote`."""
    if ":" in to:
        remote_part, _, member = to.partition(":")
        if not remote_part:
            raise Invalid(f"--to {to!r}: a remote's name goes before the ':' (REMOTE:[MEMBER])")
        if remote is not None and remote != remote_part:
            raise Invalid(f"--to {to!r} and --remote {remote!r} name two different servers")
        return member, remote_part
    return to, remote


def run(args: argparse.Namespace) -> int:
    from ..engine.incus import MoveProgress

    member, remote = target_of(args.to, args.remote)
    if not member and remote is None:
        raise Invalid("--to needs a member's name")
    if not args.yes:
        raise Refused(f"move stops {args.machine} while it moves: re-run with --yes")
    infra = checked_infra(args).infra
    place = next(
        ((d.project, m.instance_name) for d in infra.domains for m in d.machines if m.name == args.machine), None
    )
    if place is None:
        names = ", ".join(sorted(m.name for m in infra.machines)) or "none"
        raise Invalid(f"unknown machine {args.machine!r}: the infra declares {names}")
    project, instance = place
    report = MoveReport(
        machine=args.machine,
        project=project,
        instance=instance,
        source=None,
        target=member,
        moved=False,
        was_running=None,
        error=None,
    )

    def progress(step: MoveProgress) -> None:
        print(f"move: {step.text}", file=sys.stderr)

    with reported(args, report):
        moved = run_with_incus(
            args,
            lambda client: client.move_instance(project, instance, member or None, remote, on_progress=progress),
        )
    report.source, report.was_running, report.moved = moved.source, moved.was_running, not moved.already_there
    if args.json:
        emit_json(report)
    elif moved.already_there:
        print(f"{args.machine} is already on {member}: nothing moved")
    else:
        running = ", running" if moved.was_running else ", stopped as it was"
        print(f"moved {args.machine} ({project}/{instance}) from {moved.source} to {moved.target}{running}")
    return exitcodes.OK
