"""`apply`: validate, lock, plan, network-configuration backup, pre-apply snapshots, reconcile, isolation
ruleset, provisioning, then the check that every machine of the applied domains runs; progress on stderr.

Exit codes: 0 every action done, the isolation ruleset loaded and every machine Running (protected orphans
that --prune did not delete are reported, not a failure); 1 an action failed, nft refused the ruleset, or
another apply, provision or ai-switch holds the lock ("another apply, provision or ai-switch is running
(pid N)"), or provisioning (Ansible, unless --no-provision) had a failed task or an unreachable machine, or
a machine is not Running at the end, or a W9 move was left for --renumber (skipped, named with the
way on); 2 invalid infra, unknown --limit or --only step; 3 Incus
unreachable (mid-apply: the message names the object it was on); 4 `--prune` without `--yes`.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from .. import exitcodes
from ..engine.reconcile import STEPS, parse_steps
from ..errors import Invalid, Refused
from .common import (
    add_incus_arguments,
    add_infra_arguments,
    check_infra,
    emit_json,
    is_valid,
    print_findings,
    run_with_incus,
)

# The engine, the check and the reports are imported once Incus has apply's reads (`run`), not with this module.
if TYPE_CHECKING:
    from ..engine.isolation import IsolationResult
    from ..engine.reconcile import ApplyResult, PipelineEvent, PipelineResult
    from ..reports import ApplyReport, IsolationOut

HELP = (
    "carry out the plan: create and correct projects, bridges, profiles, images and instances; then provision "
    "them with Ansible unless --no-provision"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_infra_arguments(parser)
    add_incus_arguments(parser)
    parser.add_argument("--limit", metavar="DOMAIN", help="only this domain")
    parser.add_argument(
        "--only",
        metavar="STEP[,STEP...]",
        action="append",
        help=f"only these steps, in their usual order: {', '.join(STEPS)}; with instances, the isolation "
        "ruleset is still loaded before any instance starts; the check that machines run comes with instances",
    )
    parser.add_argument("--prune", action="store_true", help="delete undeclared managed instances (not protected ones)")
    parser.add_argument("--no-provision", action="store_true", help="skip provisioning (Ansible)")
    parser.add_argument("--renumber", action="store_true", help="carry out the W9 moves of applied addresses")
    parser.add_argument("--yes", action="store_true", help="confirm destructive changes (--prune)")


def print_event(event: PipelineEvent) -> None:
    """Progress, one line per event, on stderr (stdout stays for the result / the JSON document)."""
    print(event.line(), file=sys.stderr, flush=True)


def apply_report(result: ApplyResult) -> ApplyReport:
    from ..reports import AppliedActionOut, ApplyReport, DriftOut
    from .plan import orphans_out

    return ApplyReport(
        ok=result.ok,
        actions=[AppliedActionOut(**o.action.public(), status=o.status, error=o.error) for o in result.outcomes],
        drift=[DriftOut(**d.model_dump()) for d in result.plan.drift],
        orphans=orphans_out(result.plan.orphans),
        refused=orphans_out(result.refused),
        pre_apply_snapshot=result.snapshot,
        snapshotted=result.snapshotted,
        nftables=isolation_out(result.isolation),
        network_backup=str(result.network_backup) if result.network_backup else None,
    )


def isolation_out(isolation: IsolationResult | None) -> IsolationOut | None:
    if isolation is None:
        return None
    from ..reports import IsolationOut

    return IsolationOut(
        bridges=isolation.bridges,
        loaded=isolation.loaded,
        changed=isolation.changed,
        warnings=isolation.warnings,
        error=isolation.error,
    )


PRUNE = "`anklume-tui --batch apply --prune --yes`"
RENUMBER = "`anklume-tui --batch apply --renumber`"


def print_result(result: ApplyResult) -> None:
    from ..engine.isolation import summary
    from .plan import action_line

    for outcome in result.of("failed"):
        print(f"failed: {action_line(outcome.action).strip()}\n  {outcome.error}")
    for orphan in result.refused:
        print(f"refused: {orphan.project}/{orphan.name} is {orphan.reason or 'protected'}")
    if result.isolation is not None:
        for warning in result.isolation.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        if result.isolation.error:
            print(summary(result.isolation))
    unmoved = [o.action for o in result.of("skipped") if o.action.op == "renumber"]
    if unmoved:
        print(
            f"not moved (W9): {', '.join(a.target for a in unmoved)}; {RENUMBER} moves them "
            "(restarting the running machines that move)"
        )
    left = [] if result.plan.prune else result.plan.orphans
    for orphan in left:
        reason = f" ({orphan.reason})" if orphan.reason else ""
        how = f"protected, never deleted{reason}" if orphan.protected else f"{PRUNE} deletes it"
        print(f"orphan: {orphan.project}/{orphan.name}: no machine declares it; {how}")
    done, failed, skipped = (len(result.of(s)) for s in ("done", "failed", "skipped"))
    also = f"; {len(left)} orphan(s) left (above)" if left else ""
    if not result.outcomes:
        print(f"Nothing to do: 0 actions{also}.")
    else:
        print(f"{done} action(s) done, {failed} failed, {skipped} skipped{also}")


def run(args: argparse.Namespace) -> int:
    if args.prune and not args.yes:
        raise Refused("apply --prune deletes undeclared managed instances: add --yes to confirm")
    steps = parse_steps(args.only)
    if steps is not None and args.no_provision and "provision" in steps:
        raise Invalid("apply: --only provision and --no-provision contradict each other")
    from ..engine.reconcile import ApplyStart

    # The apply lock first, then, under it, what apply reads of a local Incus, sent before the engine and the
    # check are imported (engine/reconcile/apply_start.py): Incus lists while this process imports them.
    with ApplyStart.begin(getattr(args, "incus", None)) as start:
        from ..engine.host import gather_host_context
        from ..engine.reconcile import apply_pipeline
        from ..psot import pipeline  # noqa: F401 - imported while Incus answers
        from ..psot.load import default_output_dir

        result = check_infra(args, start.allocation(), start.cluster())
        print_findings(result.findings)
        if not is_valid(result):
            raise Invalid("apply: the infra is invalid; nothing was changed")

        async def work(client) -> PipelineResult:
            return await apply_pipeline(
                client,
                result.infra,
                tree=default_output_dir(result.loaded.path),
                host=gather_host_context(False),
                limit=args.limit,
                prune=args.prune,
                renumber=args.renumber,
                provision=not args.no_provision,
                steps=steps,
                on_event=print_event,
                infra_file=result.loaded.path,
                start=start,
            )

        done = run_with_incus(args, work)
    if args.json:
        from .provision import provision_out

        report = apply_report(done.applied)
        report.provision = provision_out(done.provisioned) if done.provisioned is not None else None
        report.not_running = done.not_running
        emit_json(report)
    else:
        print_result(done.applied)
        if done.provisioned is not None:
            from .provision import print_summary as print_provision_summary

            print_provision_summary(done.provisioned)
        if done.not_running:
            print(f"not Running at the end: {', '.join(done.not_running)}")
    return exitcodes.OK if done.ok else exitcodes.FAILED
