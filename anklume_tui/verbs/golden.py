"""`golden create|derive|publish|list`: golden images from a template machine (SPEC §10.3)."""

from __future__ import annotations

import argparse
import sys

from .. import exitcodes
from ..errors import Invalid
from ..reports import GoldenOut, GoldenReport
from .common import add_incus_arguments, add_infra_arguments, checked_infra, emit_json, run_with_incus

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
        raise Invalid(f"golden {args.action} needs TEMPLATE")
    if args.action == "derive" and not args.name:
        raise Invalid("golden derive needs TEMPLATE NAME")
    infra = checked_infra(args).infra

    async def work(client) -> list:
        from ..engine.machines import list_golden, resolve_targets

        if args.action == "list":
            return await list_golden(client)
        found, _ = resolve_targets(infra, await client.list_instances(), args.template)
        if len(found) != 1:
            raise Invalid(f"TEMPLATE {args.template!r} names {len(found)} instances: name one machine")
        return [await _act(client, found[0], args, infra.prefix)]

    _show(args, run_with_incus(args, work))
    return exitcodes.OK


async def _act(client, template, args: argparse.Namespace, prefix: str):
    from ..engine.machines import create_golden, derive_golden, publish_golden

    if args.action == "create":
        return await create_golden(client, template)
    if args.action == "derive":
        return await derive_golden(client, template, f"{prefix}{args.name}")
    return await publish_golden(client, template, args.alias or f"golden-{args.template}")


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
