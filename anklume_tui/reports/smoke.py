"""`smoke --json`: each declared check of each machine, where it ran and what it found (issue 22)."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict

from .base import Model, Report


class CheckResultOut(Model):
    model_config = ConfigDict(extra="forbid")

    name: str
    kind: Literal["command", "tcp", "http"]
    declared_by: str  # "infra" or "role <name>"
    ran_in: str  # the machine the check ran inside (the checked one, or its `from:`)
    ok: bool
    detail: str  # what was found: exit code and output, connection result, HTTP status, or the error


class MachineChecksOut(Model):
    model_config = ConfigDict(extra="forbid")

    domain: str
    machine: str
    ok: bool
    checks: list[CheckResultOut]


class IdempotenceOut(Model):
    model_config = ConfigDict(extra="forbid")

    ok: bool
    first_error: str  # the first apply/provision failed: nothing more was run ("" when it passed)
    changes: list[str]  # what the second apply/provision changed, one line each


class SmokeReport(Report):
    limit: str | None
    idempotence: IdempotenceOut | None = None  # with --idempotent
    ok: bool
    passed: int
    failed: int
    machines: list[MachineChecksOut]


class CollectedMachineOut(Model):
    model_config = ConfigDict(extra="forbid")

    machine: str
    files: list[str]  # paths inside the archive
    errors: list[str]  # what could not be read (the rest of the archive is there)


class CollectLogsReport(Report):
    archive: str
    limit: str | None
    since: str
    machines: list[CollectedMachineOut]
    host_files: list[str]  # the last provisioning log and the apply journal, when present
    redacted: int  # secret-looking values and PEM blocks replaced by [REDACTED]
