"""`copy-file SOURCE DEST`: one file from a machine to another, only between connected machines."""

from __future__ import annotations

import argparse

from .. import exitcodes
from ..reports import CopyFileReport
from .common import add_incus_arguments, add_infra_arguments, checked_infra, emit_json, reported, run_with_incus
from .progress import StderrProgress

HELP = (
    "copy one file from a machine to another through the Incus files API, keeping its mode, uid and gid. "
    "SOURCE and DEST are MACHINE:/absolute/path with machines declared in the infra; a DEST that is an existing "
    "directory (or ends with /) receives the file under its own name. Allowed only between machines of the same "
    "domain, or joined by a network policy (either direction; host policies do not count) or by a shared volume "
    "both consume. Exit 0 copied; 1 missing source file, a directory, or an Incus error; 2 bad location, "
    "unknown machine or invalid infra; 3 Incus unreachable; 4 refused: nothing connects the two machines"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", metavar="SOURCE", help="MACHINE:/absolute/path of the file to copy")
    parser.add_argument("destination", metavar="DEST", help="MACHINE:/absolute/path to write (or a directory)")
    add_infra_arguments(parser)
    add_incus_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from ..engine.machines import (
        TransferFailed,
        check_link,
        copy_file,
        parse_location,
    )

    report = CopyFileReport(
        source=args.source,
        destination=args.destination,
        copied=False,
        link=None,
        link_detail=None,
        size=0,
        mode=None,
        uid=None,
        gid=None,
        error=None,
    )
    with reported(args, report):
        source, destination = parse_location(args.source), parse_location(args.destination)
        result = checked_infra(args)
        check_link(result.infra, source.machine, destination.machine)

        async def work(client):
            with StderrProgress() as progress:
                try:
                    return await copy_file(client, result.infra, source, destination, progress)
                except TransferFailed:
                    progress.end()
                    raise

        copied = run_with_incus(args, work)
    report.copied, report.destination, report.size = True, str(copied.destination), copied.size
    report.link, report.link_detail = copied.link.kind, copied.link.detail
    report.mode, report.uid, report.gid = f"{copied.mode:04o}", copied.uid, copied.gid
    if args.json:
        emit_json(report)
    else:
        print(f"copied {copied.source} to {copied.destination} ({copied.size} bytes, {copied.link.detail})")
    return exitcodes.OK
