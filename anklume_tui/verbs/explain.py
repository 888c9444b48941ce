"""`explain [LAST|FILE] [--send] [--apply] [--rounds N] [--history] [--forget] [--json]`: the local assistant.

Gathers a failed step's context (LAST: the newer of the last provisioning run and the last apply's journal;
or FILE, a `provision --json` document) and shows
exactly what would be sent to the model configured in `<config>/assistant.toml`; sends only with --send and
prints the explanation and the proposed patch; --apply applies it after validation and re-runs the step. A
fix confirmed before (applied, then the step passed) is offered first, without asking any model.

Exit codes: 0 shown, explained, or fixed; 1 the model's server failed, or the step still fails after the
rounds; 2 usage error, unreadable report or config, --send with no backend configured; 4 refused: exclusive
AI access held by another domain, or a patch touching a file it may not (nothing written).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .. import exitcodes
from ..printable import printable
from .common import add_incus_arguments, add_infra_arguments, emit_json, infra_path

HELP = (
    "explain the last failed provisioning or apply (or FILE, a `provision --json` document) with your own model "
    "(configured in ~/.config/anklume/assistant.toml; off until then): shows "
    "what would be sent; --send asks and prints an explanation and a patch; --apply applies it after validation "
    "and re-runs the step; --history lists, --forget clears the fixes you confirmed"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", nargs="?", default="LAST", metavar="LAST|FILE", help="what failed (default LAST)")
    add_infra_arguments(parser)
    add_incus_arguments(parser)
    parser.add_argument("--send", action="store_true", help="send the context to the model (nothing is sent without)")
    parser.add_argument("--apply", action="store_true", help="apply the proposed patch, then re-run the failed step")
    parser.add_argument("--rounds", type=int, default=3, metavar="N", help="--apply: at most N rounds (default 3)")
    parser.add_argument("--out", metavar="DIR", help="the generated Ansible tree (default: the failed run's)")
    parser.add_argument("--history", action="store_true", help="list the fixes you confirmed")
    parser.add_argument("--forget", action="store_true", help="clear the fixes you confirmed")


def run(args: argparse.Namespace) -> int:
    from ..engine.assistant import experiences, forget, load_config
    from ..errors import AnklumeError, Invalid
    from ..reports import ExplainReport

    if args.rounds < 1:
        raise Invalid("--rounds: at least 1")
    config = load_config()
    report = ExplainReport(backend=config.backend)
    if args.history or args.forget:
        return _library(args, report, experiences, forget)
    try:
        return _explain(args, config, report)
    except AnklumeError as exc:
        if args.json:
            report.error = exc.user_message()
            emit_json(report)
        raise


def _library(args, report, experiences, forget) -> int:
    from ..reports import ExperienceOut

    if args.forget:
        report.forgotten = forget()
        if not args.json:
            print(f"forgot {report.forgotten} confirmed fix(es)")
    else:
        report.history = [ExperienceOut(**vars(e)) for e in experiences()]
        if not args.json:
            for e in report.history:
                print(f"{e.stored}  {e.signature}  {printable(e.task)}: {printable(e.message)}")
            print(f"{len(report.history)} confirmed fix(es)")
    if args.json:
        emit_json(report)
    return exitcodes.OK


def _explain(args, config, report) -> int:
    from ..engine.assistant import (
        explain,
        failure_context,
        how_to_configure,
        provision_again,
        request_for,
    )
    from ..reports import ExplainRoundOut

    infra = infra_path(args)
    source = None if args.source == "LAST" else Path(args.source)
    context = failure_context(source, infra, Path(args.out) if args.out else None)
    if context is None:
        if not args.json:
            print("the run passed: nothing to explain")
        else:
            emit_json(report)
        return exitcodes.OK
    report.failure = _failure_out(context)
    report.prompt = context.prompt()
    request = request_for(config, context)
    report.request = request.shown() if request else None
    known = _known(context)
    if not args.send and known is None:
        _show_unsent(args, report, request, how_to_configure())
        return exitcodes.OK
    infra_model = _infra_model(args)
    from .provision import print_progress

    done = explain(
        context,
        config,
        infra_model,
        apply=args.apply,
        rounds=args.rounds if args.apply else 1,
        rerun=provision_again(args.incus, print_progress),
        on_chunk=None if args.json else _stream,
        allow_model=args.send,
    )
    report.sent = done.sent
    report.rounds = [ExplainRoundOut.model_validate(r, from_attributes=True) for r in done.rounds]
    report.fixed = done.fixed
    if args.json:
        emit_json(report)
    else:
        _print_rounds(done, args.apply)
    if args.apply and not done.fixed:
        return exitcodes.FAILED
    return exitcodes.OK


def _known(context):
    from ..engine.assistant import known_fix

    return known_fix(context.failure.signature())


def _infra_model(args):
    from .common import checked_infra

    return checked_infra(args).infra


def _show_unsent(args, report, request, how) -> None:
    """Exactly what --send would post (the key masked), or the prompt and how to configure a backend."""
    if args.json:
        emit_json(report)
        return
    if request is None:
        print(report.prompt, end="")
        print(f"nothing sent: {how}", file=sys.stderr)
        return
    shown = request.shown()
    print(f"{shown['method']} {shown['url']}")
    for name, value in shown["headers"].items():
        print(f"{name}: {value}")
    print(json.dumps(shown["body"], indent=2, ensure_ascii=False))
    print("nothing sent: add --send to ask the model", file=sys.stderr)


def _stream(piece: str) -> None:
    print(printable(piece), end="", file=sys.stderr, flush=True)


def _print_rounds(done, applied: bool) -> None:
    if done.sent:
        print(file=sys.stderr)
    for r in done.rounds:
        print(f"round {r.number} ({'a fix you confirmed before' if r.source == 'experience' else 'the model'}):")
        if r.explanation:
            print(printable(r.explanation))
        print(printable(r.diff) if r.diff else "no patch proposed")
        if r.applied:
            print(f"applied: {', '.join(r.applied)}")
        if r.rerun_ok is not None:
            print("the step passed" if r.rerun_ok else "the step still fails")
    if not applied and any(r.diff for r in done.rounds):
        print("nothing applied: add --apply to apply the patch and re-run the step", file=sys.stderr)


def _failure_out(context):
    from ..reports import FailureOut

    f = context.failure
    return FailureOut(
        host=f.host,
        domain=f.domain,
        task=f.task,
        message=f.message,
        signature=f.signature(),
        infra_lines=context.infra_lines,
        role_files=list(context.role_files),
    )
