"""JSON documents printed by `--batch VERB --json`: a contract for scripts.

Each model's JSON Schema is kept in anklume_tui/schemas/ (tests check they match).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from .psot.findings import Finding

SCHEMA_VERSION = 1


class Report(BaseModel):
    model_config = ConfigDict(extra="forbid")
    schema_version: int = SCHEMA_VERSION


class FindingOut(BaseModel):
    rule: str
    message: str
    file: str | None
    line: int | None
    column: int | None

    @classmethod
    def of(cls, finding: Finding) -> FindingOut:
        return cls(**finding.as_json())


class ValidateReport(Report):
    valid: bool
    errors: list[FindingOut]
    warnings: list[FindingOut]
    notes: list[FindingOut]


class OrphanOut(BaseModel):
    path: str
    protected: bool


class SyncReportOut(ValidateReport):
    dry_run: bool
    output_dir: str
    written: list[str]
    unchanged: list[str]
    orphans: list[OrphanOut]
    deleted: list[str]
    skipped: list[str]


SCHEMAS: dict[str, type[Report]] = {"validate": ValidateReport, "sync": SyncReportOut}
