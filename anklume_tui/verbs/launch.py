"""`launch MACHINE [--] APP [ARGS]`: run an application in its machine, as an exported application's menu
entry does (issue 21)."""

from __future__ import annotations

import argparse
import sys

from .common import add_incus_arguments, checked_infra, run_with_incus

HELP = (
    "run APP (with its ARGS) inside MACHINE through Incus, with the display its domain's desktop gives it, and "
    "wait for it to end: "
    "what the menu entries of export_apps run. Its output is printed once it ends. Exit: the application's "
    "own exit code (capped at 125); 1 Incus could not run it; 2 unknown machine or invalid infra; "
    "3 Incus unreachable; 4 the machine's domain is disabled"
)
HIGHEST_OWN_CODE = 125  # above are the shell's and ours: 126/127 not run, 128+N a signal


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("machine", metavar="MACHINE", help="a machine declared in the infra")
    parser.add_argument("command", metavar="APP [ARGS]", nargs=argparse.REMAINDER, help="what to run (after --)")
    parser.add_argument("--infra", metavar="PATH", help="infra file, or an infra/ directory holding base.yml")
    add_incus_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from ..engine.apps import launch_app

    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    checked = checked_infra(args)
    done = run_with_incus(args, lambda client: launch_app(client, checked.infra, args.machine, command))
    sys.stdout.write(done.stdout)
    sys.stderr.write(done.stderr)
    return min(done.exit_code, HIGHEST_OWN_CODE) if done.exit_code >= 0 else 1
