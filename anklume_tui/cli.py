"""Command line: `anklume-tui [--infra PATH]` opens the TUI; `--batch VERB` runs one verb headless."""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import os
import sys
import traceback
from collections.abc import Iterator, Mapping
from types import ModuleType

from . import exitcodes
from .errors import AnklumeError
from .pydantic_plugins import skip_plugin_lookup

# verb -> (its module under anklume_tui.verbs, one line for the top-level help). A verb's module, and what it
# imports, is imported only when that verb is run or asked for its --help: `--help`, `--version` and each verb
# start without the others' imports (issue 17).
VERB_TABLE: dict[str, tuple[str, str]] = {
    "validate": ("validate", "load and validate the infra; write nothing"),
    "sync": ("sync", "validate, then write the Ansible tree"),
    "plan": ("plan", "desired vs real Incus: the actions apply would take"),
    "apply": ("apply", "carry out the plan, then provision"),
    "status": ("status", "each domain and machine with its real state"),
    "flush": ("flush", "destroy what the tool created for this infra"),
    "import-infra": ("import_infra", "write an infra file from what Incus holds"),
    "console": ("console", "the coloured tmux console"),
    "nftables": ("nftables", "render and load the isolation ruleset"),
    "ai-switch": ("ai_switch", "give a domain the exclusive AI access"),
    "telemetry": ("telemetry", "local, opt-in usage log"),
    "snapshot": ("snapshot", "create, restore, delete or list snapshots"),
    "disp": ("disp", "start a disposable machine"),
    "golden": ("golden", "golden images"),
    "doctor": ("doctor", "check the host (--fix: apply the fixes it names)"),
    "bootstrap": ("bootstrap", "set the host up: Incus installed, started, initialised"),
    "gpu": ("gpu", "GPUs, VRAM use and who holds them"),
    "provision": ("provision", "run the Ansible roles inside the machines"),
    "backup": ("backup", "export machines and the infra source"),
    "restore-backup": ("restore_backup", "re-import machines from a backup"),
    "copy-file": ("copy_file", "copy one file between machines"),
    "clipboard": ("clipboard", "copy a machine's clipboard to the host buffer, or paste it into a machine"),
    "window-colours": ("window_colours", "each machine's windows in its domain's trust colour (i3, sway)"),
    "launch": ("launch", "run an application inside its machine (what export_apps' menu entries run)"),
    "move": ("move", "move a machine to another cluster member (stop, move, start)"),
    "smoke": ("smoke", "run the declared checks inside the machines"),
    "collect-logs": ("collect_logs", "gather the machines' logs into one archive, secrets redacted"),
    "explain": ("explain", "explain a failed provisioning or apply with your own model; propose a fix"),
}


class _Verbs(Mapping[str, ModuleType]):
    """Verb name -> its module, imported on first look-up."""

    def __getitem__(self, name: str) -> ModuleType:
        return importlib.import_module(f"{__package__}.verbs.{VERB_TABLE[name][0]}")

    def __iter__(self) -> Iterator[str]:
        return iter(VERB_TABLE)

    def __len__(self) -> int:
        return len(VERB_TABLE)


VERBS: Mapping[str, ModuleType] = _Verbs()


class _Version(argparse.Action):
    """`--version`: the installed package's version, read only when asked for."""

    def __init__(self, option_strings: list[str], dest: str, help: str | None = None) -> None:
        super().__init__(option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, nargs=0, help=help)

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        print(f"anklume-tui {_installed_version()}")
        parser.exit()


def _installed_version() -> str:
    """The Version of the installed package's metadata, read from the first anklume_tui-*.dist-info on the
    path as importlib.metadata would find it, without importing importlib.metadata (email, zipfile, ...: more
    than half of `--version`'s time)."""
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            if name.startswith("anklume_tui-") and name.endswith(".dist-info"):
                try:
                    with open(os.path.join(entry or ".", name, "METADATA"), encoding="utf-8") as metadata:
                        for line in metadata:
                            if line.startswith("Version:"):
                                return line.partition(":")[2].strip()
                            if not line.strip():  # the headers end at the first blank line
                                break
                except OSError:
                    continue
    return "unknown"  # a source tree that was never installed


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # usage errors: exit 2 with one clear line, as CLI.md says
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(exitcodes.INVALID)


def _top_parser(add_help: bool = True) -> argparse.ArgumentParser:
    width = max(map(len, VERB_TABLE))
    verbs = "\n".join(f"  {name:<{width}}  {line}" for name, (_, line) in VERB_TABLE.items())
    parser = _Parser(
        prog="anklume-tui",
        description="QubesOS-style compartments on Incus and Ansible.",
        epilog=f"verbs (anklume-tui --batch VERB --help shows one's usage):\n{verbs}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        add_help=add_help,
    )
    if add_help:  # the first pass leaves --version, like --help, to the second
        parser.add_argument("--version", action=_Version, help="print the version and exit")
    parser.add_argument("--infra", metavar="PATH", help="infra file, or an infra/ directory holding base.yml")
    parser.add_argument(
        "--incus", metavar="URL", help="unix:///path/unix.socket or https://host:8443 (wins over global.incus)"
    )
    parser.add_argument(
        "--batch",
        metavar="VERB",
        choices=sorted(VERB_TABLE),
        help="run one verb headless: " + ", ".join(sorted(VERB_TABLE)),
    )
    return parser


def _verb_parser(name: str) -> argparse.ArgumentParser:
    module = VERBS[name]
    parser = _Parser(prog=f"anklume-tui --batch {name}", description=module.HELP)
    module.add_arguments(parser)
    return parser


_KINDS = {
    exitcodes.FAILED: "failed",
    exitcodes.INVALID: "invalid",
    exitcodes.UNREACHABLE: "unreachable",
    exitcodes.REFUSED: "refused",
}


def _json_error(wanted: bool, message: str, exit_code: int, kind: str | None = None) -> None:
    """With --json, a run that ends on an error before printing its document prints this one instead
    (CLI.md: exactly one JSON document on stdout; the line on stderr is said as always)."""
    if not wanted:
        return
    from .verbs.common import JSON_PRINTED, emit_json

    if JSON_PRINTED:
        return
    from .reports import ErrorOut, ErrorReport

    kind = kind or _KINDS.get(exit_code, "failed")
    emit_json(ErrorReport(error=ErrorOut(kind=kind, message=message, exit_code=exit_code)))  # type: ignore[arg-type]


def _run_verb(name: str, args: argparse.Namespace, reads_infra: bool) -> int:
    """The verb, against the Incus its infra's `global.incus` names unless --incus or $ANKLUME_INCUS say."""
    from .verbs.common import use_declared_incus

    declared = reads_infra and use_declared_incus(args.infra, args.incus)
    try:
        return VERBS[name].run(args)
    finally:
        if declared:
            from .engine.incus import use_infra_incus

            use_infra_incus(None)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    wants_json = False
    threshold = gc.get_threshold()
    try:
        # without its own --help, so that `--batch VERB --help` reaches the verb's parser (CLI.md)
        top, rest = _top_parser(add_help=False).parse_known_args(argv)
        if top.batch is None:
            top, rest = _top_parser().parse_known_args(argv)
            if rest:
                _top_parser().error(f"unrecognized arguments: {' '.join(rest)}")
            from .app import run_tui

            skip_plugin_lookup()  # before any model is built
            return run_tui(top.infra, top.incus)
        _BATCH[0] = True
        # A batch verb is one short process: the collector runs 100x less often than its default (every 700
        # allocations) while it imports and runs; still bounded (~20 M instructions of a status, issue 17).
        gc.set_threshold(100_000, 50, 50)
        args = _verb_parser(top.batch).parse_args(rest)
        skip_plugin_lookup()  # before any model is built
        wants_json = getattr(args, "json", False) is True
        printed = sys.modules.get("anklume_tui.verbs.common")  # a run before this one in the same process
        if printed is not None:
            printed.JSON_PRINTED.clear()
        from .engine.host import recorded_run

        reads_infra = hasattr(args, "infra")  # global.incus: for the verbs that read an infra
        if getattr(args, "infra", None) is None:
            args.infra = top.infra
        if getattr(args, "incus", None) is None:
            args.incus = top.incus
        domain = getattr(args, "limit", None) or getattr(args, "domain", None)  # telemetry: SPEC §10.7
        return recorded_run(
            top.batch, domain if isinstance(domain, str) else None, lambda: _run_verb(top.batch, args, reads_infra)
        )
    except AnklumeError as exc:  # the one place errors are said to the user and mapped to exit codes
        print(f"error: {exc.user_message()}", file=sys.stderr)
        _json_error(wants_json, exc.user_message(), exc.exit_code)
        return exc.exit_code
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else exitcodes.INVALID
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader of stdout went away (`status | head`): nothing more can be said there
        with contextlib.suppress(OSError):  # and the flush at exit must not try again
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return exitcodes.FAILED
    except Exception as exc:  # the last line of defence: never a traceback for a user
        if os.environ.get("ANKLUME_DEBUG"):
            traceback.print_exc()
        said = f"internal error: {type(exc).__name__}: {exc} (ANKLUME_DEBUG=1 shows details)"
        print(f"anklume-tui: {said}", file=sys.stderr)
        _json_error(wants_json, said, exitcodes.FAILED, "internal")
        return exitcodes.FAILED
    finally:
        gc.set_threshold(*threshold)  # as it was, for a caller that goes on in this process (tests)


_BATCH = [False]  # whether main() ran a batch verb (`entry` then ends the process at once)


def entry() -> None:
    """The `anklume-tui` command (and `python -m anklume_tui`): `main`, then, after a batch verb, the process ends
    at once: its output flushed, without tearing its modules and objects down one by one (~40 ms of a 0.3 s
    `status`, issue 17). A verb has written and closed every file by then (atomic writes, `with` blocks) and
    left no thread of its own running. The TUI ends as any Python program does."""
    code = main()
    if not _BATCH[0]:
        sys.exit(code)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # a closed pipe (`status | head`) has nothing left to say
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    entry()
