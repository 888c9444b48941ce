"""`import-infra`: write a best-effort infra file from what Incus holds, for review (SPEC §10.9)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import exitcodes
from ..engine.host import gather_host_context
from ..errors import Failed, Invalid, Refused
from ..psot.findings import Severity
from ..psot.generate import default_output_dir, write_atomic
from ..psot.load import resolve_infra_path
from ..psot.pipeline import run_psot
from ..reports import FindingOut, ImportReport
from .common import (
    add_incus_arguments,
    add_infra_arguments,
    emit_json,
    infra_path,
    print_findings,
    run_with_incus,
)
from .flush import prefix_of_active_infra

HELP = (
    "write an infra file from the projects, bridges and instances Incus holds (default: infra.imported.yml "
    "next to the infra), then validate it. Never the active infra file (exit 4); an existing output is "
    "overwritten only with --yes (else exit 4). Exit 1 when the written file does not validate"
)
DEFAULT_NAME = "infra.imported.yml"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_infra_arguments(parser)
    add_incus_arguments(parser)
    parser.add_argument("-o", "--output", metavar="FILE", help=f"where to write (default: {DEFAULT_NAME})")
    parser.add_argument("--yes", action="store_true", help="overwrite FILE if it exists")


def run(args: argparse.Namespace) -> int:
    active = resolve_infra_path(infra_path(args))
    if args.output:
        output = Path(args.output)
    else:
        output = (default_output_dir(active) if active is not None else Path.cwd()) / DEFAULT_NAME
    refusal = _refusal(output, active, args.yes)
    if refusal:
        raise (Invalid if output.is_dir() else Refused)(f"import-infra: {refusal}")
    prefix = prefix_of_active_infra(args, quiet=True)

    async def work(client) -> int:
        from ..engine.reconcile import import_infra

        imported = await import_infra(client, prefix)
        try:
            write_atomic(output, imported.text(client.url))
        except OSError as exc:
            raise Failed(f"import-infra: cannot write {output}: {exc.strerror or exc}") from exc
        result = run_psot(output, gather_host_context())
        if args.json:
            emit_json(
                ImportReport(
                    path=str(output),
                    domains=imported.domains,
                    machines=imported.machines,
                    notes=imported.notes,
                    valid=result.valid,
                    errors=[FindingOut.of(f) for f in result.of(Severity.ERROR)],
                    warnings=[FindingOut.of(f) for f in result.of(Severity.WARNING)],
                )
            )
        else:
            print_findings(result.of(Severity.ERROR) + result.of(Severity.WARNING))
            for note in imported.notes:
                print(f"review: {note}", file=sys.stderr)
            print(f"Written: {output} ({len(imported.domains)} domain(s), {len(imported.machines)} machine(s))")
            if not result.valid:
                print(f"import-infra: {output} does not validate: review it", file=sys.stderr)
        return exitcodes.OK if result.valid else exitcodes.FAILED

    return run_with_incus(args, work)


def _refusal(output: Path, active: Path | None, overwrite: bool) -> str:
    if output.is_dir():
        return f"{output} is a directory: give a file name"
    if active is not None and output.resolve() == active.resolve():
        return f"refusing to overwrite the active infra file {output}"
    if active is not None and active.is_dir() and output.resolve().is_relative_to(active.resolve()):
        return f"refusing to write inside the active infra directory {active}"
    if output.exists() and not overwrite:
        return f"{output} exists: re-run with --yes to overwrite it"
    return ""
