"""`clipboard copy|paste MACHINE`: the clipboard between domains, by explicit action only (issue 21)."""

from __future__ import annotations

import argparse

from .. import exitcodes
from .common import add_incus_arguments, add_infra_arguments, checked_infra, emit_json, reported, run_with_incus

HELP = (
    "copy: read MACHINE's clipboard (X11: xclip/xsel, Wayland: wl-paste, or the console's tmux buffer) into a "
    "buffer the host holds (a 0600 file in the state folder); paste: write that buffer into MACHINE's clipboard. "
    "Nothing moves otherwise. A paste from a less trusted domain into a more trusted one is refused unless the "
    "target's desktop.clipboard.paste_from lists the source (CB3), as is a copy out of a domain with "
    "desktop.clipboard.copy: false (CB1) or a paste into one with paste: false (CB2). Every transfer is logged "
    "(time, domains, machines, bytes, result; never the text) in <state>/clipboard/transfers.jsonl. Exit 0 done; "
    "1 the tool in the machine failed, its clipboard is empty, or an Incus error; 2 unknown machine, no display "
    "for the channel, empty host buffer, or invalid infra; 3 Incus unreachable; 4 refused by the clipboard rule"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("copy", "paste"), help="copy from MACHINE, or paste into it")
    parser.add_argument("machine", metavar="MACHINE", help="a machine declared in the infra")
    parser.add_argument(
        "--channel",
        choices=("auto", "x11", "wayland", "tmux"),
        default="auto",
        help="the machine's Wayland clipboard, else its X11 one (auto); or the console's tmux buffer",
    )
    parser.add_argument("--tmux-socket", metavar="NAME", help="the console's tmux server socket name (tmux -L)")
    add_infra_arguments(parser)
    add_incus_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from ..engine.desktop import (
        ClipboardRefused,
        Console,
        clipboard_log_file,
        copy_from_machine,
        host_buffer,
        paste_into_machine,
    )
    from ..reports import ClipboardEndOut, ClipboardReport

    report = ClipboardReport(
        op=args.action, machine=args.machine, done=False, source=None, target=None, bytes=0, rule=None, error=None
    )
    transfer = copy_from_machine if args.action == "copy" else paste_into_machine
    with reported(args, report):
        result = checked_infra(args)

        async def work(client):
            return await transfer(
                client,
                result.infra,
                args.machine,
                host_buffer(),
                clipboard_log_file(),
                channel=args.channel,
                console=Console(socket_name=args.tmux_socket),
            )

        try:
            done = run_with_incus(args, work)
        except ClipboardRefused as exc:
            report.rule = exc.rule
            raise
    report.done, report.bytes = True, done.size
    report.source = ClipboardEndOut.model_validate(done.source, from_attributes=True) if done.source else None
    report.target = ClipboardEndOut.model_validate(done.target, from_attributes=True) if done.target else None
    if args.json:
        emit_json(report)
    elif args.action == "copy":
        source = done.source
        print(f"copied {done.size} bytes from {source.machine} ({source.domain}, {source.channel}) to the host buffer")
    else:
        source, target = done.source, done.target
        print(
            f"pasted {done.size} bytes from {source.machine} ({source.domain}) into {target.machine} "
            f"({target.domain}, {target.channel}): {done.reason}"
        )
    return exitcodes.OK
