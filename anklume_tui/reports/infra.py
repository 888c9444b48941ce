"""Documents about the infra file: validate, sync, import-infra (psot/, engine/reconcile/infra_import.py)."""

from __future__ import annotations

from ..psot.findings import Finding
from .base import Model, Report


class FindingOut(Model):
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


class OrphanOut(Model):
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


class ImportReport(Report):
    path: str
    domains: list[str]
    machines: list[str]
    notes: list[str]  # what could not be carried over and needs review
    valid: bool
    errors: list[FindingOut]
    warnings: list[FindingOut]
