"""`sync`: validate, then write the Ansible tree's managed sections; report orphan files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .. import exitcodes
from ..engine.host import gather_host_context, state_dir
from ..errors import Failed
from ..psot.check_cache import Checked, cache_folder, check
from ..psot.load import default_output_dir
from ..psot.tree_record import record_folder, sync_checked
from .common import add_infra_arguments, emit_json, findings_out, infra_path, print_findings, summary

HELP = "validate, then write inventory/, group_vars/ and host_vars/ (managed sections only)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_infra_arguments(parser)
    parser.add_argument("--dry-run", action="store_true", help="say what would be written; write nothing")
    parser.add_argument("--clean-orphans", action="store_true", help="delete unprotected orphan files")
    parser.add_argument("--out", metavar="DIR", help="output directory (default: the folder holding the infra)")


def checked_for_sync(path: Path) -> Checked:
    """The infra's check with its generated files' sections, kept in the state folder from one run to the next
    (psot/check_cache.py): an unchanged infra on an unchanged host is not checked again."""
    return check(path, gather_host_context(infra=path), cache_folder(state_dir()), render=True)


def run(args: argparse.Namespace) -> int:
    result = checked_for_sync(infra_path(args))
    out_dir = Path(args.out) if args.out else default_output_dir(Path(result.display))
    empty: dict[str, Any] = {"written": [], "unchanged": [], "orphans": [], "deleted": [], "skipped": []}
    if not result.valid or result.files is None:
        if args.json:
            from ..reports import SyncReportOut

            emit_json(SyncReportOut(**findings_out(result), dry_run=args.dry_run, output_dir=str(out_dir), **empty))
        else:
            print_findings(result.findings)
            print(summary(result), file=sys.stderr)
        return exitcodes.INVALID
    try:
        # An unchanged tree is known from the record of the last sync (psot/tree_record.py), not read again.
        report = sync_checked(
            out_dir, result, record_folder(state_dir()), dry_run=args.dry_run, clean_orphans=args.clean_orphans
        )
    except OSError as exc:
        raise Failed(f"sync: cannot write under {out_dir}: {exc.strerror or exc}") from exc
    if args.json:
        from ..reports import OrphanOut, SyncReportOut

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
    lines = [f"{verb}: {out_dir / path}" for path in report.written]
    if report.orphans or report.deleted or report.skipped:
        from ..psot.orphans import orphan_messages

        lines += orphan_messages(report.orphans, report.deleted, report.skipped, out_dir)
    if lines:  # one write: a thousand lines were two thousand writes with PYTHONUNBUFFERED
        sys.stdout.write("\n".join(lines) + "\n")
    print(
        f"{len(report.written)} file(s) {'to write' if report.dry_run else 'written'}, "
        f"{len(report.unchanged)} unchanged, {len(report.orphans)} orphan(s)",
        file=sys.stderr,
    )
    return exitcodes.OK
