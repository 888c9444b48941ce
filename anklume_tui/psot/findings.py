"""Findings: what validation says about an infra, as values (never exceptions)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Location:
    """Where a YAML node sits; line and column are 1-based."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    severity: Severity
    message: str
    location: Location | None = None

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def render(self, fallback_file: str = "") -> str:
        where = str(self.location) if self.location else fallback_file
        head = f"{where}: " if where else ""
        return f"{head}{self.severity.value}[{self.rule}]: {self.message}"

    def as_json(self) -> dict[str, Any]:
        loc = self.location
        return {
            "rule": self.rule,
            "message": self.message,
            "file": loc.file if loc else None,
            "line": loc.line if loc else None,
            "column": loc.column if loc else None,
        }


def has_errors(findings: list[Finding]) -> bool:
    return any(f.is_error for f in findings)
