"""Documents about provisioning (engine/provision/runner.py): its own report and the part apply carries."""

from __future__ import annotations

from typing import Literal

from .base import Model, Report


class ProvisionHostOut(Model):
    """Ansible's recap for one machine (ok counts changed tasks too, as Ansible does), and what became of it:
    provisioned (every play ran), failed or unreachable (a task of its own), skipped (the run stopped before
    its roles); `not_run` names the roles that never started on it."""

    host: str
    ok: int
    changed: int
    failed: int
    unreachable: int
    skipped: int
    rescued: int
    ignored: int
    outcome: Literal["provisioned", "failed", "unreachable", "skipped"]
    not_run: list[str]


class ProvisionProblemOut(Model):
    kind: Literal["failed", "unreachable"]
    host: str
    task: str
    message: str


class ProvisionOut(Model):
    """What a provisioning run did: per machine counts, every failed or unreachable task."""

    ok: bool
    hosts: list[ProvisionHostOut]
    problems: list[ProvisionProblemOut]
    synced: list[str]  # generated files rewritten (managed sections) before the run
    log: str | None  # Ansible's full output
    error: str | None  # the run itself broke (not one machine's task)


class ProvisionReport(Report, ProvisionOut):
    limit: str | None
