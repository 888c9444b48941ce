"""`plan`: what apply would do — ordered actions, drift, instance orphans. Reads Incus, changes nothing.

Exit codes: 0 (whatever the plan holds), 2 invalid infra or unknown --limit (findings on stderr, no JSON),
3 Incus unreachable, 1 another Incus error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable

from .. import exitcodes
from ..engine.host import gather_host_context
from ..engine.reconcile import Action, Orphan, Plan, make_plan
from ..errors import Invalid
from ..reports import DriftOut, InstanceOrphanOut, PlanActionOut, PlanReport
from .common import (
    add_incus_arguments,
    add_infra_arguments,
    check_infra,
    emit_json,
    is_valid,
    print_findings,
    run_with_incus,
)

HELP = "desired (infra) vs real (Incus): the ordered actions apply would take, drift and orphans"
SIGNS = {"create": "+", "update": "~", "start": ">", "copy": "+", "download": "+", "delete": "-", "move": "~"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_infra_arguments(parser)
    add_incus_arguments(parser)
    parser.add_argument("--limit", metavar="DOMAIN", help="only this domain")
    parser.add_argument("--prune", action="store_true", help="also list the deletion of undeclared managed instances")


def orphans_out(orphans: Iterable[Orphan]) -> list[InstanceOrphanOut]:
    return [InstanceOrphanOut(project=o.project, name=o.name, protected=o.protected) for o in orphans]


def plan_report(plan: Plan) -> PlanReport:
    return PlanReport(
        actions=[PlanActionOut(**a.public()) for a in plan.actions],
        drift=[DriftOut(**d.model_dump()) for d in plan.drift],
        orphans=orphans_out(plan.orphans),
    )


def action_line(action: Action) -> str:
    sign = SIGNS.get(action.op, "!")
    where = action.name if action.kind in ("project", "network") else f"{action.project}/{action.name}"
    text = f"  {sign} {action.op} {action.kind} {where}"
    return f"{text}: {action.detail}" if action.detail else text


def print_plan(plan: Plan, out=None) -> None:
    """Actions grouped by domain, in plan order; then orphans; then a one-line summary."""
    out = out or sys.stdout
    for domain, actions in plan.by_domain():
        print(f"domain {domain}:" if domain else "shared:", file=out)
        for action in actions:
            print(action_line(action), file=out)
    if plan.orphans:
        print("orphans (managed instances no machine declares):", file=out)
        for orphan in plan.orphans:
            note = (
                " (protected: never deleted)"
                if orphan.protected
                else ""
                if plan.prune
                else " (apply --prune deletes it)"
            )
            print(f"  {orphan.project}/{orphan.name}{note}", file=out)
    if plan.empty:
        print("Nothing to do: Incus matches the infra.", file=out)
    print(plan.summary(), file=out)


def run(args: argparse.Namespace) -> int:
    result = check_infra(args)
    if not is_valid(result):
        print_findings(result.findings)
        raise Invalid("plan: the infra is invalid; fix the errors above")
    if not args.json:
        print_findings(result.findings)

    async def work(client) -> Plan:
        host = gather_host_context(False)
        return await make_plan(client, result.infra, limit=args.limit, prune=args.prune, host=host)

    plan = run_with_incus(args, work)
    if args.json:
        emit_json(plan_report(plan))
    else:
        print_plan(plan)
    return exitcodes.OK
