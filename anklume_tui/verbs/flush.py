"""`flush`: destroy the managed Incus objects and the generated tree, keeping user data (SPEC §10.8)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import exitcodes
from ..engine.host import gather_host_context
from ..errors import Invalid, Refused
from ..psot.constants import nesting_prefix
from ..psot.generate import default_output_dir
from ..psot.load import resolve_infra_path
from ..psot.model import Infra
from ..psot.pipeline import prefix_for, run_psot
from ..reports import FlushFile, FlushObject, FlushReport
from .common import (
    add_incus_arguments,
    add_infra_arguments,
    emit_json,
    infra_path,
    run_with_incus,
)

HELP = (
    "destroy what the tool created for this infra: only Incus objects tagged user.anklume.managed=true and "
    "user.anklume.infra=<its project_name> with this host's nesting prefix (instances, profiles, projects, "
    "<prefix>net-* bridges; --all: every managed object, whichever infra), then the generated inventory/, "
    "group_vars/, host_vars/ files; persistent data, shared volumes, images of project default, custom "
    "volumes, untagged objects and other infras' objects stay. Needs --yes. Exit 0: everything deletable was "
    "deleted; 4: refused without --yes (nothing touched), or something was refused (protected instance, object "
    "still in use: listed); 1: a deletion failed; 2: no infra names a project_name (without --all); 3: Incus "
    "unreachable"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_infra_arguments(parser)
    add_incus_arguments(parser)
    parser.add_argument("--yes", action="store_true", help="confirm: flush is destructive")
    parser.add_argument("--all", action="store_true", help="every managed object, of every infra on this host")
    parser.add_argument("--out", metavar="DIR", help="generated tree to remove (default: the folder holding the infra)")


def run(args: argparse.Namespace) -> int:
    if not args.yes:
        raise Refused("flush is destructive: re-run with --yes")
    (prefix, infra, checked), out_dir = _active_infra(args), _output_dir(args)
    if infra is None and not args.all:
        raise Invalid(
            "flush: no valid infra names its project_name, so its objects cannot be told apart: give one with "
            "--infra, or flush every managed object with --all --yes"
        )
    stream = sys.stderr if args.json else sys.stdout

    async def work(client) -> int:
        from ..engine.reconcile import flush_infra

        def show(item: FlushObject | FlushFile) -> None:
            print(describe(item), file=stream, flush=True)

        report = await flush_infra(client, prefix, None if args.all else infra, out_dir, show, isolation=checked)
        if args.json:
            emit_json(report)
        else:
            print(summary(report), file=sys.stderr)
            print(isolation_line(report), file=sys.stderr)
            if report.refused:
                again = f"anklume-tui --batch flush --yes{' --all' if args.all else ''} --infra {infra_path(args)}"
                print(f"flush: to go on, do what each refusal says, then run `{again}` again", file=sys.stderr)
        return exit_code(report)

    return run_with_incus(args, work)


def _output_dir(args: argparse.Namespace) -> Path | None:
    found = resolve_infra_path(infra_path(args))
    if args.out:
        return Path(args.out)
    return default_output_dir(found) if found is not None else None


def prefix_of_active_infra(args: argparse.Namespace, *, quiet: bool = False) -> str:
    """The nesting prefix (SPEC §5.6) from the host context and the infra's `nesting_prefix`; a broken or
    missing infra does not stop the verb (the default setting then applies)."""
    return active_infra_names(args, quiet=quiet)[0]


def active_infra_names(args: argparse.Namespace, *, quiet: bool = False) -> tuple[str, str | None]:
    """The nesting prefix (as `prefix_of_active_infra`) and the infra's project_name, the `user.anklume.infra`
    tag of its objects (None without an infra file or a string project_name)."""
    return _active_infra(args, quiet=quiet)[:2]


def _active_infra(args: argparse.Namespace, *, quiet: bool = False) -> tuple[str, str | None, Infra | None]:
    """As `active_infra_names`, and the checked infra when it validates (the isolation ruleset is rendered
    from it after the flush)."""
    ctx = gather_host_context(with_networks=False)
    path = infra_path(args)
    found = resolve_infra_path(path)
    if found is None:
        if not quiet:
            print(f"no infra at {path}: default nesting prefix, no generated tree to remove", file=sys.stderr)
        return nesting_prefix(True, ctx.absolute_level), None, None
    result = run_psot(found, ctx)
    if result.infra is not None:
        return result.infra.prefix, result.infra.project_name, result.infra
    if not quiet:
        print(f"{found} does not validate: going on with its nesting_prefix and project_name", file=sys.stderr)
    data = result.loaded.data if isinstance(result.loaded.data, dict) else {}
    name = data.get("project_name")
    return prefix_for(data, ctx), name if isinstance(name, str) and name else None, None


def describe(item: FlushObject | FlushFile) -> str:
    if isinstance(item, FlushFile):
        return f"Deleted: {item.path}" if item.outcome == "deleted" else f"Kept: {item.path} ({item.reason})"
    where = f"{item.project}/{item.name}" if item.project else item.name
    text = f"{item.outcome.capitalize()} {item.kind} {where}"
    return f"{text}: {item.reason}" if item.reason else text


def summary(report: FlushReport) -> str:
    counts = ", ".join(f"{len(report.of(o))} {o}" for o in ("deleted", "refused", "failed"))
    files = sum(f.outcome == "deleted" for f in report.files)
    return f"flush: Incus objects {counts}; {files} generated file(s) deleted"


def isolation_line(report: FlushReport) -> str:
    """What became of the isolation ruleset once the bridges went."""
    loaded = report.isolation
    if loaded is None:
        return (
            "flush: the isolation ruleset was not reloaded (no valid infra to render it from): once one "
            "validates, `anklume-tui --batch nftables` loads it for the bridges left"
        )
    if loaded.error:
        return f"flush: the isolation ruleset was not reloaded (the previous one stays): {loaded.error}"
    return f"flush: isolation ruleset reloaded for the {len(loaded.bridges)} bridge(s) left"


def exit_code(report: FlushReport) -> int:
    if report.failed:
        return exitcodes.FAILED
    return exitcodes.REFUSED if report.refused else exitcodes.OK
