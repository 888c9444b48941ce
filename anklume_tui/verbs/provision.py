"""`provision`: run the Ansible roles inside the machines (SPEC §8.5); a line per machine and task on stderr.

Exit codes: 0 every machine provisioned; 1 a task failed or a machine was unreachable (each named with
its task and Ansible's message), or Ansible could not run; 2 invalid infra, unknown --limit, a --role no
machine in scope gets (the message names those that are), or a role that no role folder holds; 3 Incus
unreachable.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import exitcodes
from ..engine.provision import ProvisionEvent, ProvisionResult, Selection, provision, provisionable
from ..errors import Failed
from ..psot.generate import default_output_dir
from ..reports import ProvisionHostOut, ProvisionOut, ProvisionProblemOut, ProvisionReport
from .common import (
    add_incus_arguments,
    add_infra_arguments,
    checked_infra,
    emit_json,
    run_with_incus,
)

HELP = "run the Ansible roles inside the machines: base_system, admin_bootstrap, and each machine's roles"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_infra_arguments(parser)
    add_incus_arguments(parser)
    parser.add_argument("--limit", metavar="DOMAIN", help="only this domain's machines")
    parser.add_argument(
        "--role",
        metavar="NAME",
        action="append",
        help="only this role (repeat, or NAME,NAME), on the machines that get it; base_system and "
        "admin_bootstrap are roles too",
    )
    parser.add_argument("--tags", metavar="T", help="only the tasks with these Ansible tags (T,T: any of them)")
    parser.add_argument(
        "--out", metavar="DIR", help="the generated Ansible tree (default: the folder holding the infra)"
    )


def print_progress(event: ProvisionEvent) -> None:
    """Stderr, one line per machine and task (stdout stays for the result / the JSON document)."""
    if event.kind != "skipped":
        print(event.line(), file=sys.stderr, flush=True)


def provision_out(result: ProvisionResult) -> ProvisionOut:
    return ProvisionOut(**_out_fields(result))


def _out_fields(result: ProvisionResult) -> dict:
    return {
        "ok": result.ok,
        "hosts": [ProvisionHostOut(**{**vars(h), "not_run": list(h.not_run)}) for h in result.hosts],
        "problems": [
            ProvisionProblemOut(kind=p.kind, host=p.host, task=p.task, message=p.message)
            for p in result.problems
            if p.kind in ("failed", "unreachable")  # what problems hold
        ],
        "synced": result.synced,
        "log": str(result.log) if result.log else None,
        "error": result.error or None,
    }


def print_summary(result: ProvisionResult) -> None:
    for problem in result.problems:
        where = f"{problem.host}: {problem.task}" if problem.task else problem.host
        print(f"{problem.kind}: {where}: {problem.message}")
    if result.error:
        print(f"provision failed: {result.error}")
    for host in result.hosts:
        print(host.line())
    for host in result.hosts:
        if host.outcome != "provisioned":
            print(host.outcome_line())
    if result.hosts:
        changed = sum(h.changed for h in result.hosts)
        print(f"Provisioning of {result.summary()}; {changed} change(s)")
    if result.log and not result.ok:
        print(f"Ansible's full output: {result.log}")


def run(args: argparse.Namespace) -> int:
    checked = checked_infra(args)
    tree = Path(args.out) if args.out else default_output_dir(checked.loaded.path)
    selection = Selection(roles=_roles(args.role), tags=args.tags)
    provisionable(checked.infra, tree, args.limit, selection.roles)

    async def reachable(client) -> None:
        await client.server_info()

    run_with_incus(args, reachable)
    try:
        result = provision(
            checked.infra, tree, limit=args.limit, incus_url=args.incus, on_event=print_progress, selection=selection
        )
    except OSError as exc:
        raise Failed(f"provision: cannot write the Ansible tree under {tree}: {exc.strerror or exc}") from exc
    if args.json:
        emit_json(ProvisionReport(limit=args.limit, **_out_fields(result)))
    else:
        print_summary(result)
    return exitcodes.OK if result.ok else exitcodes.FAILED


def _roles(given: list[str] | None) -> tuple[str, ...] | None:
    """`--role a --role b,c` as ("a", "b", "c"); None when no --role was given."""
    if given is None:
        return None
    return tuple(dict.fromkeys(part.strip() for text in given for part in text.split(",")))
