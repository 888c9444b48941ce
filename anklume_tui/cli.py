"""Command line: `anklume-tui [--infra PATH]` opens the TUI; `--batch VERB` runs one verb headless."""

from __future__ import annotations

import argparse
import os
import sys
import traceback

from . import exitcodes
from .engine.host import recorded_run
from .errors import AnklumeError
from .verbs import ai_switch, apply, console, flush, import_infra, nftables, plan, status, sync, validate
from .verbs import backup as backup_verb
from .verbs import copy_file as copy_file_verb
from .verbs import disp as disp_verb
from .verbs import doctor as doctor_verb
from .verbs import golden as golden_verb
from .verbs import gpu as gpu_verb
from .verbs import provision as provision_verb
from .verbs import restore_backup as restore_backup_verb
from .verbs import snapshot as snapshot_verb
from .verbs import telemetry as telemetry_verb

VERBS = {
    "validate": validate,
    "sync": sync,
    "plan": plan,
    "apply": apply,
    "status": status,
    "flush": flush,
    "import-infra": import_infra,
    "console": console,
    "nftables": nftables,
    "ai-switch": ai_switch,
    "telemetry": telemetry_verb,
    "snapshot": snapshot_verb,
    "disp": disp_verb,
    "golden": golden_verb,
    "doctor": doctor_verb,
    "gpu": gpu_verb,
    "provision": provision_verb,
    "backup": backup_verb,
    "restore-backup": restore_backup_verb,
    "copy-file": copy_file_verb,
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # usage errors: exit 2 with one clear line, as CLI.md says
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(exitcodes.INVALID)


def _top_parser(add_help: bool = True) -> argparse.ArgumentParser:
    parser = _Parser(
        prog="anklume-tui", description="QubesOS-style compartments on Incus and Ansible.", add_help=add_help
    )
    parser.add_argument("--infra", metavar="PATH", help="infra file, or an infra/ directory holding base.yml")
    parser.add_argument("--incus", metavar="URL", help="unix:///path/unix.socket or https://host:8443")
    parser.add_argument(
        "--batch", metavar="VERB", choices=sorted(VERBS), help="run one verb headless: " + ", ".join(sorted(VERBS))
    )
    return parser


def _verb_parser(name: str) -> argparse.ArgumentParser:
    module = VERBS[name]
    parser = _Parser(prog=f"anklume-tui --batch {name}", description=module.HELP)
    module.add_arguments(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        # without its own --help, so that `--batch VERB --help` reaches the verb's parser (CLI.md)
        top, rest = _top_parser(add_help=False).parse_known_args(argv)
        if top.batch is None:
            top, rest = _top_parser().parse_known_args(argv)
            if rest:
                _top_parser().error(f"unrecognized arguments: {' '.join(rest)}")
            from .app import run_tui

            return run_tui(top.infra, top.incus)
        args = _verb_parser(top.batch).parse_args(rest)
        if getattr(args, "infra", None) is None:
            args.infra = top.infra
        if getattr(args, "incus", None) is None:
            args.incus = top.incus
        domain = getattr(args, "limit", None) or getattr(args, "domain", None)  # telemetry: SPEC §10.7
        return recorded_run(top.batch, domain if isinstance(domain, str) else None, lambda: VERBS[top.batch].run(args))
    except AnklumeError as exc:  # the one place errors are said to the user and mapped to exit codes
        print(f"error: {exc.user_message()}", file=sys.stderr)
        return exc.exit_code
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else exitcodes.INVALID
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the last line of defence: never a traceback for a user
        if os.environ.get("ANKLUME_DEBUG"):
            traceback.print_exc()
        print(
            f"anklume-tui: internal error: {type(exc).__name__}: {exc} (ANKLUME_DEBUG=1 shows details)", file=sys.stderr
        )
        return exitcodes.FAILED


if __name__ == "__main__":
    sys.exit(main())
