"""`console`: the coloured tmux session, one window per domain, one pane per machine (SPEC §10.4)."""

from __future__ import annotations

import argparse
import shutil
import sys

from .. import exitcodes
from ..errors import Failed
from .common import add_incus_arguments, checked_infra, run_with_incus

HELP = (
    "open (or reattach to) the coloured tmux console: one window per domain, one pane per machine "
    "(exit 2 invalid infra or unknown domain; 3 Incus unreachable; 1 tmux failed)"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--infra", metavar="PATH", help="infra file, or an infra/ directory holding base.yml")
    add_incus_arguments(parser)
    parser.add_argument("--domain", metavar="D", help="only this domain's window")
    parser.add_argument("--no-attach", action="store_true", help="build the session but do not attach to it")
    parser.add_argument("--kill", action="store_true", help="end the session and every process in its panes")
    parser.add_argument(
        "--dry-run", action="store_true", help="print the layout (reads instance states); create nothing"
    )
    parser.add_argument("--session", metavar="NAME", default=None, help="tmux session name (default: anklume)")
    parser.add_argument("--tmux-socket", metavar="NAME", help="tmux server socket name (tmux -L), default server else")


def run(args: argparse.Namespace) -> int:
    from ..engine.console import DEFAULT_SESSION, kill_console, tmux_server

    name = args.session or DEFAULT_SESSION
    if args.kill:
        if shutil.which("tmux") is None:
            print("no console: tmux is not installed", file=sys.stderr)
            return exitcodes.OK
        existed = kill_console(tmux_server(args.tmux_socket), name)
        print(f"console {name}: " + ("ended, with every process of its panes" if existed else "no such session"))
        return exitcodes.OK
    result = checked_infra(args)

    async def work(client) -> dict[tuple[str, str], str]:
        return {(i.project, i.name): i.status for i in await client.list_instances()}

    return _open(args, name, result.infra, run_with_incus(args, work))


def _open(args: argparse.Namespace, name: str, infra, states) -> int:
    from ..engine.console import attach, build_layout, incus_cli_environment, open_console, render_layout, tmux_server
    from ..engine.host import tmux_last_domain_file
    from ..engine.incus import resolve_endpoint

    environment = incus_cli_environment(resolve_endpoint(args.incus))
    layout = build_layout(infra, states, domain=args.domain, session=name, environment=environment)
    if args.dry_run:
        print(render_layout(layout))
        return exitcodes.OK
    if shutil.which("tmux") is None:
        raise Failed("tmux is not installed")
    server = tmux_server(args.tmux_socket)
    _, created = open_console(layout, server, tmux_last_domain_file(), focus=args.domain)
    panes = sum(len(w.panes) for w in layout.windows)
    verb = "created" if created else "reattached to"
    print(f"console {name}: {verb} ({len(layout.windows)} domain window(s), {panes} machine pane(s))")
    if args.no_attach or not (sys.stdin.isatty() and sys.stdout.isatty()):
        return exitcodes.OK
    return exitcodes.OK if attach(server, name) == 0 else exitcodes.FAILED
