"""`restore-backup PATH [--project P] [--name NEW] [--replace --yes] [--infra-out DIR] [--allow-unsafe-config]
[--allow-disk-source DIR]... [--allow-unsigned]`: re-import what `backup` wrote (SPEC §2)."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import exitcodes
from ..errors import Invalid, Refused
from ..reports import RestoreBackupReport, RestoredOut
from .common import add_incus_arguments, emit_json, reported, run_with_incus
from .progress import StderrProgress

HELP = (
    "re-import instances from a backup: PATH is a backup folder (every machine in it) or one archive "
    "(<instance>.tar.gz[.gpg], also a gzip `incus export` tarball). Each archive is read to its end and checked "
    "(checksum from the folder's manifest, tar stream) before Incus is touched. The instance goes back into its "
    "own project (--project P for another) under its own name (--name NEW, one archive only: new MAC addresses, "
    "static addresses dropped); restored instances are left stopped. An existing instance is never overwritten: "
    "--replace --yes replaces it (imported first, then the old one is deleted; never a protected one). "
    "--infra-out DIR also extracts the folder's infra source into DIR, never over existing files. Encrypted "
    "archives need the secret key in the gpg keyring, and a manifest signed by a key the keyring trusts "
    "(--allow-unsigned: without one). An archive asking for host privileges is refused, naming what and the flag "
    "that allows it: --allow-unsafe-config for security.privileged, raw.*, security.idmap.*, "
    "linux.kernel_modules, syscall interception, host devices and sockets, nics on host interfaces; "
    "--allow-disk-source DIR (repeatable) for disk devices taking a host path under DIR (none by default). "
    "Exit 0 ok; 1 corrupt or truncated archive, entry outside the backup, signature not matching, name taken, "
    "project missing, Incus or gpg error (nothing is created); 2 bad arguments or PATH not found; 3 Incus "
    "unreachable; 4 --replace without --yes, the instance to replace is protected, or the backup asks for what "
    "only a flag allows (nothing is created)"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", metavar="PATH", help="backup folder or instance archive")
    parser.add_argument("--project", metavar="P", help="restore into this Incus project (default: the backup's)")
    parser.add_argument("--name", metavar="NEW", help="restore under this instance name (one archive only)")
    parser.add_argument("--replace", action="store_true", help="replace an existing instance of that name")
    parser.add_argument("--yes", action="store_true", help="confirm --replace (destructive)")
    parser.add_argument("--infra-out", metavar="DIR", help="also extract the backup's infra source into DIR")
    parser.add_argument(
        "--allow-unsafe-config", action="store_true", help="allow privileged, raw.*, idmap keys and host devices"
    )
    parser.add_argument(
        "--allow-disk-source",
        metavar="DIR",
        action="append",
        default=[],
        help="allow disk devices taking a host path under DIR (repeatable)",
    )
    parser.add_argument(
        "--allow-unsigned", action="store_true", help="allow an encrypted backup without a trusted signature"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    add_incus_arguments(parser)


def run(args: argparse.Namespace) -> int:
    path = Path(args.path)
    report = RestoreBackupReport(source=str(path), restored=[], infra_files=[], error=None)
    with reported(args, report, _print):
        _restore(args, path, report)
    _show(args, report)
    return exitcodes.OK


def _restore(args: argparse.Namespace, path: Path, report: RestoreBackupReport) -> None:
    from ..engine.backup import RestoreTrust, check_restore, import_checked, restore_infra

    if args.replace and not args.yes:
        raise Refused("--replace deletes the existing instance: re-run with --yes")
    if not path.exists():
        raise Invalid(f"{path}: no such file or folder")
    if args.infra_out and not path.is_dir():
        raise Invalid("--infra-out needs PATH to be a backup folder")
    trust = RestoreTrust(
        unsafe_config=args.allow_unsafe_config,
        disk_sources=tuple(Path(d).absolute() for d in args.allow_disk_source),
        unsigned=args.allow_unsigned,
    )

    async def work(client) -> None:
        with StderrProgress() as progress:
            targets = await check_restore(
                client,
                path,
                project=args.project,
                name=args.name,
                replace=args.replace,
                trust=trust,
                on_progress=progress,
            )
            if args.infra_out:
                written = restore_infra(path, Path(args.infra_out), trust)
                report.infra_files = [str(p) for p in written]
            report.restored = [_out(r) for r in await import_checked(client, targets, on_progress=progress)]

    run_with_incus(args, work)


def _out(r) -> RestoredOut:
    return RestoredOut(
        file=str(r.path),
        project=r.project,
        instance=r.instance,
        from_instance=r.source_instance,
        replaced=r.replaced,
        readdressed=r.readdressed,
    )


def _show(args: argparse.Namespace, report: RestoreBackupReport) -> None:
    if args.json:
        emit_json(report)
    else:
        _print(report)


def _print(report: RestoreBackupReport) -> None:
    for path in report.infra_files:
        print(f"infra source restored: {path}")
    for r in report.restored:
        notes = [f"from {r.from_instance}"] if r.from_instance != r.instance else []
        notes += ["replaced the existing one"] if r.replaced else []
        notes += ["new MAC, DHCP"] if r.readdressed else []
        extra = f" ({'; '.join(notes)})" if notes else ""
        print(f"restored {r.project}/{r.instance} from {r.file}, stopped{extra}")
