"""Reading the usage log back (SPEC §10.7): its events, validated, and their summary by operation. Apart from
telemetry.py, which records, so that a verb's run imports no pydantic model for its one appended line."""

from __future__ import annotations

import json

from pydantic import BaseModel, ConfigDict

from ...reports import OperationStats, TelemetryReport
from . import paths as state
from .telemetry import is_enabled

TOP = 15


class UsageEvent(BaseModel):
    model_config = ConfigDict(extra="ignore")
    timestamp: str
    target: str
    domain: str | None = None
    duration_seconds: float
    exit_code: int


def read_events() -> tuple[list[UsageEvent], int]:
    """The events of the log and the count of lines that could not be read as one."""
    try:
        text = state.telemetry_log_file().read_text(encoding="utf-8", errors="replace")
    except OSError:
        return [], 0
    events, bad = [], 0
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            events.append(UsageEvent.model_validate(json.loads(line)))
        except (ValueError, TypeError):
            bad += 1
    return events, bad


def summarize(events: list[UsageEvent], top: int = TOP) -> list[OperationStats]:
    grouped: dict[str, list[UsageEvent]] = {}
    for event in events:
        grouped.setdefault(event.target, []).append(event)
    stats = [
        OperationStats(
            target=target,
            count=len(group),
            succeeded=sum(e.exit_code == 0 for e in group),
            success_rate=round(sum(e.exit_code == 0 for e in group) / len(group), 2),
            mean_duration_seconds=round(sum(e.duration_seconds for e in group) / len(group), 2),
        )
        for target, group in grouped.items()
    ]
    stats.sort(key=lambda s: (-s.count, s.target))
    return stats[:top]


def telemetry_summary() -> TelemetryReport:
    events, bad = read_events()
    return TelemetryReport(
        enabled=is_enabled(),
        log_file=str(state.telemetry_log_file()),
        events=len(events),
        unreadable_lines=bad,
        operations=summarize(events),
    )
