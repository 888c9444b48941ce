"""`disp`: a disposable (Incus-ephemeral) instance in a domain, destroyed when it stops (SPEC §10.2)."""

from __future__ import annotations

import argparse
import subprocess
import sys
from typing import TYPE_CHECKING

from .. import exitcodes
from ..errors import Failed
from ..printable import printable
from ..reports import DispReport
from .common import add_incus_arguments, add_infra_arguments, checked_infra, emit_json, run_with_incus

if TYPE_CHECKING:
    from ..engine.incus import ExecResult
    from ..engine.machines import Disposable

HELP = (
    "start a disposable: an Incus-ephemeral instance <prefix>disp-YYYYMMDD-HHMMSS in the --domain's project "
    "(default: the first enabled domain with trust level disposable; never project default), on that domain's "
    "bridge and under its isolation, from --image (default: default_os_image, else images:debian/13). "
    "With -- CMD ...: run the command, print its output, pass its exit code through, then stop (destroy) it. "
    "With --no-attach (or --json): leave it running and print its name. Otherwise: a shell through `incus exec` "
    "(the incus CLI must be installed), and the disposable is destroyed when the shell ends. Stopping it "
    "always destroys it, even if this tool was killed. Exit 2: no domain / invalid infra; 1: Incus error; "
    "3: Incus unreachable"
)
EXEC_TIMEOUT = 24 * 3600


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--domain", metavar="D", help="domain to run it in (its network isolation applies)")
    parser.add_argument("--image", metavar="I", help="image: a local alias or remote:alias")
    parser.add_argument("--vm", action="store_true", help="a virtual machine instead of a container")
    parser.add_argument("--no-attach", action="store_true", help="leave it running (after CMD, if given)")
    add_infra_arguments(parser)
    add_incus_arguments(parser)
    parser.add_argument("command", nargs=argparse.REMAINDER, metavar="-- CMD ...", help="command to run inside")


def run(args: argparse.Namespace) -> int:
    from ..engine.machines import create_disposable, stop_disposable

    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    result = checked_infra(args)

    async def work(client) -> tuple[Disposable, ExecResult | None]:
        disp = await create_disposable(client, result.infra, domain=args.domain, image=args.image, vm=args.vm)
        print(f"disposable {disp.project}/{disp.name} started ({disp.image})", file=sys.stderr)
        if not command:
            return disp, None
        try:
            return disp, await client.exec(disp.name, command, timeout=EXEC_TIMEOUT, project=disp.project)
        finally:
            if not args.no_attach:
                await stop_disposable(client, disp)

    disp, ran = run_with_incus(args, work)
    if args.json:
        emit_json(
            DispReport(
                project=disp.project,
                name=disp.name,
                image=disp.image,
                type=disp.type,
                exit_code=ran.exit_code if ran else None,
                stdout=ran.stdout if ran else "",
                stderr=ran.stderr if ran else "",
            )
        )
    elif ran is not None:
        # What reaches a terminal loses its escape sequences; a pipe gets the command's output as it was.
        sys.stdout.write(printable(ran.stdout) if sys.stdout.isatty() else ran.stdout)
        sys.stderr.write(printable(ran.stderr))
    if ran is not None:
        return ran.exit_code
    if args.no_attach or args.json:  # one JSON document on stdout: no shell on it
        if not args.json:
            print(disp.name)
        return exitcodes.OK
    return _attach_shell(args, disp)


def _attach_shell(args: argparse.Namespace, disp) -> int:
    """Hand the terminal to `incus exec` (the CLI does the pty and resizing), then stop the disposable."""
    from ..engine.console import ConsoleError
    from ..engine.machines import shell_argv, stop_disposable

    try:
        argv = shell_argv(args.incus, disp)
    except ConsoleError as exc:
        raise Failed(f"{exc}; {disp.name} is left running") from exc
    code = subprocess.call(argv)

    async def stop(client) -> int:
        await stop_disposable(client, disp)
        print(f"disposable {disp.project}/{disp.name} stopped and destroyed", file=sys.stderr)
        return exitcodes.OK

    stopped = run_with_incus(args, stop)
    return code if stopped == exitcodes.OK else stopped
