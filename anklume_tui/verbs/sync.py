"""`sync`: validate, then write the Ansible tree's managed sections; report orphan files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .. import exitcodes
from ..errors import Failed
from ..psot.generate import default_output_dir, sync_tree
from ..psot.orphans import orphan_messages
from ..reports import OrphanOut, SyncReportOut
from .common import (
    add_infra_arguments,
    check_infra,
    emit_json,
    findings_out,
    is_valid,
    print_findings,
    summary,
)

HELP = "validate, then write inventory/, group_vars/ and host_vars/ (managed sections only)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_infra_arguments(parser)
    parser.add_argument("--dry-run", action="store_true", help="say what would be written; write nothing")
    parser.add_argument("--clean-orphans", action="store_true", help="delete unprotected orphan files")
    parser.add_argument("--out", metavar="DIR", help="output directory (default: the folder holding the infra)")


def run(args: argparse.Namespace) -> int:
    result = check_infra(args)
    out_dir = Path(args.out) if args.out else default_output_dir(result.loaded.path)
    empty: dict[str, Any] = {"written": [], "unchanged": [], "orphans": [], "deleted": [], "skipped": []}
    if not is_valid(result):
        if args.json:
            emit_json(SyncReportOut(**findings_out(result), dry_run=args.dry_run, output_dir=str(out_dir), **empty))
        else:
            print_findings(result.findings)
            print(summary(result), file=sys.stderr)
        return exitcodes.INVALID
    try:
        report = sync_tree(out_dir, result.infra, dry_run=args.dry_run, clean_orphans=args.clean_orphans)
    except OSError as exc:
        raise Failed(f"sync: cannot write under {out_dir}: {exc.strerror or exc}") from exc
    if args.json:
        emit_json(
            SyncReportOut(
                **findings_out(result),
                dry_run=report.dry_run,
                output_dir=str(out_dir),
                written=report.written,
                unchanged=report.unchanged,
                orphans=[OrphanOut(path=o.path, protected=o.protected) for o in report.orphans],
                deleted=report.deleted,
                skipped=report.skipped,
            )
        )
        return exitcodes.OK
    print_findings(result.findings)
    verb = "Would write" if report.dry_run else "Written"
    for path in report.written:
        print(f"{verb}: {out_dir / path}")
    for line in orphan_messages(report.orphans, report.deleted, report.skipped, out_dir):
        print(line)
    print(
        f"{len(report.written)} file(s) {'to write' if report.dry_run else 'written'}, "
        f"{len(report.unchanged)} unchanged, {len(report.orphans)} orphan(s)",
        file=sys.stderr,
    )
    return exitcodes.OK
