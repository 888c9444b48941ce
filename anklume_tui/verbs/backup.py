"""`backup [TARGET] [--dir DIR] [--recipient KEY]...`: export machines and the infra source (SPEC §2)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import exitcodes
from ..errors import Failed
from ..reports import BackupArchiveOut, BackupReport
from ..transfer_progress import human_bytes
from .common import add_incus_arguments, add_infra_arguments, checked_infra, emit_json, reported, run_with_incus
from .progress import StderrProgress

HELP = (
    "export machines and the infra source. TARGET is a declared machine, a domain, or nothing for every machine "
    "of the enabled domains (an existing instance's name works too). Writes DIR/anklume-backup-YYYYMMDD-HHMMSS/ "
    "(DIR default: $XDG_STATE_HOME/anklume/backups) holding <project>/<instance>.tar.gz per machine (an Incus "
    "export, snapshots included), infra.tar.gz, manifest.json and SHA256SUMS; the folder appears only once "
    "complete (private, 0700). --recipient KEY (repeatable) encrypts every archive with gpg (.gpg) and signs "
    "manifest.json (manifest.json.sig) with your default secret key, or --sign-key KEY (which alone signs a "
    "plain backup): restore-backup refuses an encrypted backup without a trusted signature. Progress on stderr. "
    "Exit 0 ok; 1 Incus, gpg or write error such as a full disk (nothing is kept); 2 invalid infra, unknown "
    "target, gpg missing, unknown recipient or no secret key to sign with; 3 Incus unreachable"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", nargs="?", metavar="TARGET", help="machine, domain or instance (default: all)")
    parser.add_argument("--dir", metavar="DIR", help="where to write the backup folder")
    parser.add_argument(
        "--recipient", metavar="KEY", action="append", default=[], help="encrypt to this gpg key (repeatable)"
    )
    parser.add_argument("--sign-key", metavar="KEY", help="sign the manifest with this secret key (default: gpg's)")
    add_infra_arguments(parser)
    add_incus_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from ..engine.host import backups_dir

    result = checked_infra(args)
    report = BackupReport(path=None, encrypted_to=args.recipient, instances=[], infra=None, missing=[], error=None)
    parent = Path(args.dir).absolute() if args.dir else backups_dir()

    async def work(client) -> None:
        from ..engine.backup import backup_machines, check_recipients
        from ..engine.machines import Target, resolve_targets

        # Before Incus is asked anything (the client connects on first use); backup_machines does not ask again.
        await check_recipients(args.recipient, args.sign_key)
        instances, report.missing = resolve_targets(result.infra, await client.list_instances(), args.target)
        for where in report.missing:
            print(f"note: {where} does not exist: skipped", file=sys.stderr)
        if not instances:
            raise Failed("no machine exists in Incus to back up: apply first")
        with StderrProgress() as progress:
            done = await backup_machines(
                client,
                [Target(i.project, i.name) for i in instances],
                parent,
                infra_files=result.loaded.files,
                infra_root=result.loaded.path,
                recipients=args.recipient,
                sign_key=args.sign_key,
                recipients_checked=True,
                on_progress=progress,
            )
        report.path = str(done.run.path)
        report.instances = [_out(e) for e in done.run.manifest.instances]
        report.infra = _out(done.run.manifest.infra) if done.run.manifest.infra else None

    with reported(args, report):
        run_with_incus(args, work)
    _show(args, report)
    return exitcodes.OK


def _out(entry) -> BackupArchiveOut:
    return BackupArchiveOut(
        file=entry.file,
        size=entry.size,
        sha256=entry.sha256,
        project=entry.project,
        instance=entry.instance,
        type=entry.type,
    )


def _show(args: argparse.Namespace, report: BackupReport) -> None:
    if args.json:
        emit_json(report)
        return
    how = f", encrypted to {', '.join(report.encrypted_to)}" if report.encrypted_to else ""
    print(f"backup written to {report.path}{how}")
    for archive in [*report.instances, *([report.infra] if report.infra else [])]:
        what = f"{archive.project}/{archive.instance}" if archive.instance else "infra source"
        print(f"  {archive.file}  {human_bytes(archive.size)}  {what}")
