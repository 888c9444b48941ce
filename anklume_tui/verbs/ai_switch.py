"""`ai-switch DOMAIN`: move exclusive access to the ai-tools domain (SPEC §10.5)."""

from __future__ import annotations

import argparse
import asyncio
import sys

from .. import exitcodes
from ..errors import Failed
from ..reports import AiSwitchReport, AiSwitchStepOut
from .common import (
    add_incus_arguments,
    add_infra_arguments,
    checked_infra,
    emit_json,
    run_with_incus,
)

HELP = (
    "give DOMAIN the exclusive access to ai-tools (ai_access_policy: exclusive): stop the AI services in gpu-server "
    "(ollama and stt-server, as roles ollama_server and stt_server name them), flush GPU memory (kill the GPU "
    "processes of ai-tools' instances; ai_vram_flush; --no-flush skips it), reload the nftables rule (the "
    "previous holder's open connections end), restart the services, record the "
    "holder; all under the apply lock. Exit 0 switched (or already the holder); 1 a step failed (the previous "
    "holder keeps access) or an apply, provision or other switch holds the lock; 2 invalid infra, unknown domain, "
    "ai-tools itself or an open policy; 3 Incus unreachable"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("domain", metavar="DOMAIN", help="the domain that gets AI access")
    add_infra_arguments(parser)
    add_incus_arguments(parser)
    parser.add_argument("--no-flush", action="store_true", help="do not flush GPU memory between the two domains")
    parser.add_argument("--dry-run", action="store_true", help="print the steps, change nothing")


def run(args: argparse.Namespace) -> int:
    from ..engine.isolation import ai_switch, check_switch

    infra = checked_infra(args).infra
    check_switch(infra, args.domain)
    flush = False if args.no_flush else None
    stream = sys.stderr if args.json else sys.stdout

    def show(step) -> None:
        print(f"{step.step}: {step.outcome}{f' ({step.detail})' if step.detail else ''}", file=stream, flush=True)

    async def work(client) -> int:
        outcome = await ai_switch(client, infra, args.domain, flush=flush, dry_run=args.dry_run, on_step=show)
        return _finish(args, outcome)

    if args.dry_run:
        return _finish(args, asyncio.run(ai_switch(None, infra, args.domain, flush=flush, dry_run=True, on_step=show)))
    return run_with_incus(args, work)


def _finish(args: argparse.Namespace, outcome) -> int:
    if args.json:
        emit_json(
            AiSwitchReport(
                dry_run=outcome.dry_run,
                target=outcome.target,
                previous=outcome.previous,
                switched=outcome.switched,
                steps=[AiSwitchStepOut(step=s.step, outcome=s.outcome, detail=s.detail) for s in outcome.steps],
            )
        )
    if outcome.error:
        raise Failed(outcome.error)
    if outcome.dry_run and not outcome.error:
        print("dry run: nothing changed", file=sys.stderr)
    if outcome.switched:
        print(f"AI access: {outcome.previous or '-'} -> {outcome.target}", file=sys.stderr)
    return exitcodes.OK
