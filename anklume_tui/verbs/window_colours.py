"""`window-colours --wm i3|sway`: each machine's windows in its domain's trust colour (issue 21)."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys

from .. import exitcodes
from ..errors import Invalid
from .common import checked_infra

HELP = (
    "print (or --write to $XDG_CONFIG_HOME/<wm>/config.d/anklume) the i3 or sway fragment that draws each "
    "machine's windows with its domain's console colour and a [domain] marker in the title bar: a pango font "
    "and --watch started with the session, which marks each new window through the WM's IPC by the container "
    "its client runs in or reaches the display through (the display relay), as the host sees it. Exit 0 done; "
    "1 the window manager or its X server cannot be reached (--watch); 2 invalid infra, no --wm, or --watch "
    "outside an i3/sway session"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--infra", metavar="PATH", help="infra file, or an infra/ directory holding base.yml")
    parser.add_argument("--wm", choices=("i3", "sway"), help="the window manager (print and --write)")
    parser.add_argument("--write", action="store_true", help="write the fragment (atomically) instead of printing")
    parser.add_argument(
        "--watch",
        action="store_true",
        help="mark every new window until the session ends ($I3SOCK or $SWAYSOCK, and $DISPLAY, as the WM gives them)",
    )


def run(args: argparse.Namespace) -> int:
    from ..psot.window_colours import render_config, window_rules

    infra = checked_infra(args).infra
    if args.watch:
        return _watch(args, window_rules(infra))
    if args.wm is None:
        raise Invalid("window-colours: say which window manager (--wm i3 or --wm sway)")
    text = render_config(infra, args.wm, marker_command=_marker_command(args))
    if not args.write:
        sys.stdout.write(text)
        return exitcodes.OK
    from ..engine.host import window_manager_config_file
    from ..psot.generate import write_atomic

    path = window_manager_config_file(args.wm)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, text)
    print(f"wrote {path} (include it from your {args.wm} config; reload {args.wm} to apply it)")
    return exitcodes.OK


def _marker_command(args: argparse.Namespace) -> str:
    import shlex

    command = ["anklume-tui", "--batch", "window-colours", "--watch"]
    if args.infra:
        command += ["--infra", os.path.abspath(args.infra)]
    return shlex.join(command)


def _watch(args: argparse.Namespace, first: list) -> int:
    from ..engine.desktop import mark_windows
    from ..psot.window_colours import window_rules

    socket = os.environ.get("SWAYSOCK") or os.environ.get("I3SOCK")
    display = os.environ.get("DISPLAY")
    if not socket or not display:
        raise Invalid("window-colours --watch: run it from i3 or sway: it needs $I3SOCK or $SWAYSOCK, and $DISPLAY")
    last = [first]

    def rules() -> list:
        # The infra is read again at each window, so machines added since the session began are coloured too;
        # while it does not validate, the last valid rules stay.
        with contextlib.suppress(Invalid):
            last[0] = window_rules(checked_infra(args).infra)
        return last[0]

    def seen(title: str, machine: str | None) -> None:
        print(f"window {title!r} from {machine or 'no machine of the infra'}", flush=True)

    mark_windows(socket, display, rules, seen)
    return exitcodes.OK
