"""`collect-logs`: every machine's journal (or syslog) since a time and its Incus log, the last provisioning
log and the apply journal, in one timestamped tar.gz; secret-looking values redacted and counted (issue 22)."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import exitcodes
from ..errors import Failed
from ..reports import CollectedMachineOut, CollectLogsReport
from .common import add_incus_arguments, add_infra_arguments, checked_infra, emit_json, run_with_incus

HELP = (
    "write one timestamped tar.gz with each machine's journal (or syslog) since --since, its Incus log, the "
    "last provisioning log and the apply journal; values that look like secrets are redacted (exit 1 when a "
    "machine's logs could not all be read)"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_infra_arguments(parser)
    add_incus_arguments(parser)
    parser.add_argument("--limit", metavar="DOMAIN", help="only this domain's machines")
    parser.add_argument("--out", metavar="FILE", help="the archive (default: anklume-logs-<UTC time>.tar.gz here)")
    parser.add_argument("--since", metavar="TIME", help="journal entries since (journalctl's --since; default -1h)")


def run(args: argparse.Namespace) -> int:
    from ..engine.logs import SINCE, collect_logs, default_archive

    checked = checked_infra(args)
    out = Path(args.out) if args.out else default_archive()
    since = args.since or SINCE

    async def work(client):
        return await collect_logs(client, checked.infra, out, limit=args.limit, since=since)

    try:
        done = run_with_incus(args, work)
    except OSError as exc:
        raise Failed(f"collect-logs: cannot write {out}: {exc.strerror or exc}") from exc
    report = CollectLogsReport(
        archive=str(done.archive),
        limit=args.limit,
        since=since,
        machines=[CollectedMachineOut(machine=m.machine, files=m.files, errors=m.errors) for m in done.machines],
        host_files=done.host_files,
        redacted=done.redacted,
    )
    if args.json:
        emit_json(report)
    else:
        for machine in report.machines:
            for error in machine.errors:
                print(f"{machine.machine}: {error}")
        print(done.summary())
    return exitcodes.FAILED if any(m.errors for m in report.machines) else exitcodes.OK
