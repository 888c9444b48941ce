"""`golden create|derive|publish|list`: golden images from a template machine (SPEC §10.3)."""

from __future__ import annotations

import argparse
import sys

from .. import exitcodes
from ..reports import GoldenOut, GoldenReport
from .common import add_incus_arguments, add_infra_arguments, check_infra, emit_json, print_findings, run_with_incus
from .common import summary as infra_summary

HELP = (
    "golden images. create TEMPLATE: stop it and (re)create its snapshot `pristine`; derive TEMPLATE NAME: "
    "copy TEMPLATE/pristine to a new stopped instance <prefix>NAME in the same project (tagged managed); "
    "publish TEMPLATE [--alias A]: image alias A (default golden-TEMPLATE) from TEMPLATE/pristine in its "
    "project, usable as os_image by machines of that domain (other domains get it copied by apply); "
    "list: instances owning `pristine`. TEMPLATE is a declared machine or an existing instance. "
    "Exit 1: no pristine, name taken, Incus error; 2: invalid infra or unknown template; 3: Incus unreachable"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("create", "derive", "publish", "list"))
    parser.add_argument("template", nargs="?", metavar="TEMPLATE", help="machine (or instance) holding pristine")
    parser.add_argument("name", nargs="?", metavar="NAME", help="derive: the new machine's name")
    parser.add_argument("--alias", metavar="A", help="publish: image alias (default golden-TEMPLATE)")
    add_infra_arguments(parser)
    add_incus_arguments(parser)


def run(args: argparse.Namespace) -> int:
    if args.action != "list" and not args.template:
        print(f"error: golden {args.action} needs TEMPLATE", file=sys.stderr)
        return exitcodes.INVALID
    if args.action == "derive" and not args.name:
        print("error: golden derive needs TEMPLATE NAME", file=sys.stderr)
        return exitcodes.INVALID
    result = check_infra(args)
    if not result.valid:
        print_findings(result.findings)
        print(infra_summary(result), file=sys.stderr)
        return exitcodes.INVALID
    infra = result.infra

    async def work(client) -> int:
        from ..engine.machines import golden
        from ..engine.machines.snapshots import UnknownTarget, resolve_targets

        try:
            if args.action == "list":
                items = await golden.list_golden(client)
            else:
                try:
                    found, _ = resolve_targets(infra, await client.list_instances(), args.template)
                except UnknownTarget as exc:
                    print(f"error: {exc}", file=sys.stderr)
                    return exitcodes.INVALID
                if len(found) != 1:
                    print(
                        f"error: TEMPLATE {args.template!r} names {len(found)} instances: name one machine",
                        file=sys.stderr,
                    )
                    return exitcodes.INVALID
                items = [await _act(golden, client, found[0], args, infra.prefix)]
        except golden.GoldenError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return exitcodes.FAILED
        _show(args, items)
        return exitcodes.OK

    return run_with_incus(args, work)


async def _act(golden, client, template, args: argparse.Namespace, prefix: str):
    if args.action == "create":
        return await golden.create(client, template)
    if args.action == "derive":
        return await golden.derive(client, template, f"{prefix}{args.name}")
    return await golden.publish(client, template, args.alias or f"golden-{args.template}")


def _show(args: argparse.Namespace, items) -> None:
    if args.json:
        outs = [
            GoldenOut(
                project=g.project,
                instance=g.instance,
                snapshot="pristine",
                derived=g.derived,
                alias=g.alias,
                fingerprint=g.fingerprint,
            )
            for g in items
        ]
        emit_json(GoldenReport(action=args.action, items=outs))
        return
    for g in items:
        where = f"{g.project}/{g.instance}/pristine"
        if g.derived:
            print(f"derived {g.project}/{g.derived} from {where} (stopped)")
        elif g.alias:
            print(f"published {where} as image {g.alias} ({(g.fingerprint or '')[:12]}) in project {g.project}")
        elif args.action == "create":
            print(f"created {where}")
        else:
            print(where)
    if args.action == "list" and not items:
        print("no instance owns a pristine snapshot", file=sys.stderr)
