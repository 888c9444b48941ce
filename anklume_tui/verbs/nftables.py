"""`nftables`: render the host isolation ruleset (SPEC §9.1) and, without --dry-run, load it atomically."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Literal

from .. import exitcodes
from ..errors import Failed
from ..reports import NftablesReport
from .common import (
    add_incus_arguments,
    add_infra_arguments,
    checked_infra,
    emit_json,
    run_with_incus,
)

HELP = (
    "render the isolation ruleset (table inet anklume: same-bridge traffic allowed, network_policies opened, "
    "every other inter-bridge and bridge-to-host packet dropped) for the managed bridges Incus holds, and "
    "without --dry-run load it atomically (nft -c, then one nft -f transaction; the inet incus table is never "
    "touched) and install it in $ANKLUME_NFT_PERSIST_DIR (default /etc/nftables.d). Exit 0 loaded (or "
    "rendered); 1 nft refused it (the previous ruleset stays); 2 invalid infra; 3 Incus unreachable"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_infra_arguments(parser)
    add_incus_arguments(parser)
    parser.add_argument("--dry-run", action="store_true", help="print the ruleset, load nothing")


def run(args: argparse.Namespace) -> int:
    from ..engine.isolation import apply_isolation, declared_bridges, enforce_isolation

    infra = checked_infra(args).infra
    if args.dry_run:
        bridges, source = _bridges_for_dry_run(args, infra.prefix)
        if bridges is None:
            bridges = declared_bridges(infra)
        outcome = enforce_isolation(infra, bridges, dry_run=True)
        if source != "incus":
            outcome.warnings.append(f"{source}: showing the enabled domains' bridges instead")
        return _report(args, outcome, "incus" if source == "incus" else "infra")

    async def work(client) -> int:
        return _report(args, await apply_isolation(client, infra), "incus")

    return run_with_incus(args, work)


def _bridges_for_dry_run(args: argparse.Namespace, prefix: str) -> tuple[list[str] | None, str]:
    """The bridges Incus holds, or None and why Incus could not tell."""
    from ..engine.incus import IncusClient, IncusError, IncusUnreachable, IncusUrlError
    from ..engine.isolation import existing_bridges

    async def ask() -> list[str]:
        async with IncusClient(getattr(args, "incus", None)) as client:
            return await existing_bridges(client, prefix)

    try:
        return asyncio.run(ask()), "incus"
    except (IncusUnreachable, IncusUrlError) as exc:
        return None, f"Incus unreachable ({exc})"
    except IncusError as exc:
        return None, f"Incus error ({exc})"


def _report(args: argparse.Namespace, outcome, bridges_from: Literal["incus", "infra"]) -> int:
    report = NftablesReport(
        dry_run=outcome.dry_run,
        ruleset=outcome.ruleset,
        bridges=outcome.bridges,
        bridges_from=bridges_from,
        ai_override=outcome.ai_override,
        loaded=outcome.loaded,
        changed=outcome.changed,
        state_file=str(outcome.state_file) if outcome.state_file else None,
        persisted=str(outcome.persisted) if outcome.persisted else None,
        warnings=outcome.warnings,
        error=outcome.error,
    )
    if args.json:
        emit_json(report)
    else:
        _print_text(report)
    if report.error:
        raise Failed(report.error)
    return exitcodes.OK


def _print_text(report: NftablesReport) -> None:
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if report.dry_run:
        print(report.ruleset, end="")
        print(f"dry run: nothing loaded ({len(report.bridges)} bridge(s))", file=sys.stderr)
        return
    if report.error:
        return
    what = "changed" if report.changed else "unchanged"
    print(f"loaded table inet anklume for {len(report.bridges)} bridge(s): {what}")
    if report.ai_override:
        print(f"AI access: {report.ai_override}")
    print(f"ruleset: {report.state_file}")
    if report.persisted:
        print(f"persisted: {report.persisted}")
