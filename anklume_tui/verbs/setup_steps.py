"""What `bootstrap` and `doctor --fix` share: steps turned into report rows, said as text, and their exit code."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from .. import exitcodes
from ..reports import SetupStepOut

if TYPE_CHECKING:
    from ..engine.bootstrap import Outcome, Step

MARKS = {
    "done": "ok     ",
    "applied": "DONE   ",
    "todo": "PLANNED",
    "left": "LEFT   ",
    "manual": "MANUAL ",
    "refused": "REFUSED",
    "failed": "FAILED ",
}


def planned_rows(steps: list[Step]) -> list[SetupStepOut]:
    return [SetupStepOut(id=s.id, status=s.state, message=s.message, command=s.command) for s in steps]


def outcome_rows(outcomes: list[Outcome]) -> list[SetupStepOut]:
    return [
        SetupStepOut(id=o.step.id, status=o.status, message=o.message, command=o.step.command)  # type: ignore[arg-type]
        for o in outcomes
    ]


def row_lines(rows: list[SetupStepOut], *, commands: bool) -> list[str]:
    lines = []
    for row in rows:
        lines.append(f"[{MARKS[row.status]}] {row.id}: {row.message}")
        if commands and row.command and row.status == "todo":
            lines.append(f"          runs: {row.command}")
    return lines


def say_progress(outcome: Outcome) -> None:
    """Each step as it ends, on stderr (stdout keeps the one document)."""
    if outcome.status != "done":
        print(f"{outcome.step.id}: {outcome.status}: {outcome.message}", file=sys.stderr, flush=True)


def exit_code(rows: list[SetupStepOut]) -> int:
    statuses = {r.status for r in rows}
    if "failed" in statuses:
        return exitcodes.FAILED
    if "refused" in statuses:
        return exitcodes.REFUSED
    if any(r.status == "manual" and r.id == "incus" for r in rows):
        return exitcodes.UNREACHABLE
    if "manual" in statuses:
        return exitcodes.FAILED
    return exitcodes.OK
