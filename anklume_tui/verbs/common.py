"""What every batch verb shares: finding the infra, running the PSOT, printing results."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from .. import exitcodes
from ..engine.host.hostinfo import gather_host_context
from ..psot.findings import Finding, Severity
from ..psot.load import discover_infra
from ..psot.pipeline import PsotResult, run_psot
from ..reports import FindingOut, Report


def add_infra_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--infra", metavar="PATH", help="infra file, or an infra/ directory holding base.yml")
    parser.add_argument("--json", action="store_true", help="print one JSON document on stdout")


def infra_path(args: argparse.Namespace) -> Path:
    return discover_infra(args.infra, Path.cwd())


def check_infra(args: argparse.Namespace) -> PsotResult:
    return run_psot(infra_path(args), gather_host_context())


def checked_infra(args: argparse.Namespace) -> PsotResult | None:
    """The valid infra, or None after printing its findings and a summary on stderr (the verb exits 2)."""
    result = check_infra(args)
    if result.valid:
        return result
    print_findings(result.findings)
    print(summary(result), file=sys.stderr)
    return None


def findings_out(result: PsotResult) -> dict:
    return {
        "valid": result.valid,
        "errors": [FindingOut.of(f) for f in result.of(Severity.ERROR)],
        "warnings": [FindingOut.of(f) for f in result.of(Severity.WARNING)],
        "notes": [FindingOut.of(f) for f in result.of(Severity.INFO)],
    }


def print_findings(findings: list[Finding], stream=None) -> None:
    stream = stream or sys.stderr
    for finding in findings:
        print(finding.render(), file=stream)


def summary(result: PsotResult) -> str:
    errors, warnings = len(result.of(Severity.ERROR)), len(result.of(Severity.WARNING))
    where = result.loaded.display
    if errors:
        return f"{where}: {errors} error(s), {warnings} warning(s); nothing was written"
    return f"{where}: valid ({warnings} warning(s))"


def emit_json(report: Report) -> None:
    print(json.dumps(report.model_dump(mode="json"), indent=2, ensure_ascii=False))


def add_incus_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--incus", metavar="URL", help="unix:///path/unix.socket or https://host:8443")


def run_with_incus(args: argparse.Namespace, work) -> int:
    """Run `await work(client)` against Incus; unreachable → exit 3, Incus errors → exit 1, one clear line."""
    from ..engine.incus.client import IncusClient
    from ..engine.incus.transport import IncusError, IncusUnreachable, IncusUrlError

    async def main() -> int:
        async with IncusClient(getattr(args, "incus", None)) as client:
            return await work(client)

    try:
        return asyncio.run(main())
    except IncusUrlError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exitcodes.INVALID
    except IncusUnreachable as exc:
        print(f"error: Incus unreachable: {exc}", file=sys.stderr)
        return exitcodes.UNREACHABLE
    except IncusError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exitcodes.FAILED
