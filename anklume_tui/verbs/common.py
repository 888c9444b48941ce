"""What every batch verb shares: finding the infra, running the PSOT, printing results."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeGuard, TypeVar

from ..errors import AnklumeError, Invalid
from ..psot.findings import Finding, Severity

T = TypeVar("T")
R = TypeVar("R", bound="Report")

# The check (psot.pipeline, its models, YAML) is imported when a verb first runs it, not with this module: a
# verb can start reading Incus first and import the check while Incus answers (status does, issue 17).
if TYPE_CHECKING:
    from ..engine.incus import IncusClient
    from ..psot.check_cache import Checked
    from ..psot.pipeline import PsotResult, ValidResult
    from ..psot.stability import PriorAllocation
    from ..reports import Report


def add_infra_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--infra", metavar="PATH", help="infra file, or an infra/ directory holding base.yml")
    parser.add_argument("--json", action="store_true", help="print one JSON document on stdout")


def infra_path(args: argparse.Namespace) -> Path:
    from ..psot.load import discover_infra

    return discover_infra(args.infra, Path.cwd())


def check_infra(
    args: argparse.Namespace,
    allocation: PriorAllocation | None = None,
    cluster: tuple[tuple[str, ...], tuple[str, ...]] | None = None,
) -> PsotResult:
    """The PSOT's check of the infra; what was applied is read from Incus unless given (`allocation`, and the
    cluster's members and groups with it, `cluster`, when the caller read them)."""
    from concurrent.futures import ThreadPoolExecutor

    from ..engine.host import gather_host_context
    from ..psot.load import load_infra
    from ..psot.pipeline import check_loaded

    path = infra_path(args)
    with ThreadPoolExecutor(1) as pool:  # the infra is read and parsed while Incus and `ip` answer
        host = pool.submit(gather_host_context, infra=path, allocation=allocation, cluster=cluster)
        loaded = load_infra(path)
        return check_loaded(loaded, host.result())


def is_valid(result: PsotResult) -> TypeGuard[ValidResult]:
    """psot.pipeline's `is_valid`."""
    from ..psot.pipeline import is_valid as valid

    return valid(result)


def checked_infra(args: argparse.Namespace, allocation: PriorAllocation | None = None) -> ValidResult:
    """The valid infra; else its findings go to stderr and `Invalid` goes up, saying what was found."""
    result = check_infra(args, allocation)
    if is_valid(result):
        return result
    print_findings(result.findings)
    raise Invalid(summary(result))


def findings_out(result: PsotResult | Checked) -> dict:
    from ..reports import FindingOut

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


def summary(result: PsotResult | Checked) -> str:
    errors, warnings = len(result.of(Severity.ERROR)), len(result.of(Severity.WARNING))
    where = result.display
    if errors:
        return f"{where}: {errors} error(s), {warnings} warning(s); nothing was written"
    return f"{where}: valid ({warnings} warning(s))"


JSON_PRINTED: list[Report] = []  # what emit_json printed in this process (cli.main prints an error document if none)


def emit_json(report: Report) -> None:
    print(json.dumps(report.model_dump(mode="json"), indent=2, ensure_ascii=False))
    JSON_PRINTED.append(report)


def use_declared_incus(infra: str | Path | None, incus: str | None) -> bool:
    """Make the infra's `global.incus` the Incus this run reaches, unless `--incus` (`incus`) or
    `$ANKLUME_INCUS` names one: they win over the infra. Whether it did (`True`: undo with
    `engine.incus.use_infra_incus(None)`). A wrong shape raises Invalid with its rule (IN1); an unknown remote
    raises Invalid naming the remotes."""
    import os

    if incus or os.environ.get("ANKLUME_INCUS"):
        return False
    from ..psot.incus_target import declared_incus, incus_problems, incus_target
    from ..psot.load import discover_infra

    declared = declared_incus(discover_infra(str(infra) if infra else None, Path.cwd()))
    if declared is None:
        return False
    value, where = declared
    target = incus_target(value, where.parent)
    if target is None:
        message = incus_problems(value)[0][0]
        raise Invalid(f"{where}: error[IN1]: {message} (`anklume-tui --batch validate` shows the line)")
    if target.is_local:
        return False
    from ..engine.incus import use_infra_incus

    try:
        use_infra_incus(target)
    except Invalid as exc:
        raise Invalid(f"{where}: error[IN2]: {exc}") from None
    return True


def add_incus_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--incus", metavar="URL", help="unix:///path/unix.socket or https://host:8443 (wins over global.incus)"
    )


def run_with_incus(args: argparse.Namespace, work: Callable[[IncusClient], Awaitable[T]]) -> T:
    """`await work(client)` against Incus, and its value. Errors (Incus unreachable, Incus said no, a bad
    `--incus`) go up to `cli.main`, which says them in one line with their exit code."""
    import asyncio

    from ..engine.incus import IncusClient

    # The value leaves through `done`, not as the main task's result: on its way out asyncio.run (3.11) formats
    # its SIGINT handler, and with it the task and a repr of its result, twice (a whole status: ~30 M
    # instructions for a line nobody reads).
    done: list[T] = []

    async def main() -> None:
        async with IncusClient(getattr(args, "incus", None)) as client:
            done.append(await work(client))

    asyncio.run(main())
    return done[0]


@contextmanager
def reported(args: argparse.Namespace, report: R, text: Callable[[R], None] | None = None) -> Iterator[None]:
    """A failure inside still shows what was done: with `--json` the verb's JSON document, its `error` set to
    the message; else `text(report)` when given. The error itself goes on up to `cli.main`, which says it."""
    try:
        yield
    except AnklumeError as exc:
        if getattr(args, "json", False):
            report.error = exc.user_message()  # type: ignore[attr-defined]
            emit_json(report)
        elif text is not None:
            text(report)
        raise
