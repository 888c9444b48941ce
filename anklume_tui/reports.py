"""JSON documents printed by `--batch VERB --json`: a contract for scripts.

Each model's JSON Schema is kept in anklume_tui/schemas/ (tests check they match).
"""

from __future__ import annotations

from typing import Any, Literal

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


# status (engine/status.py builds it; the TUI shows the same model)


class MachineStatus(BaseModel):
    name: str
    instance: str  # the Incus name (with the nesting prefix)
    state: str  # Incus status (Running, Stopped, Frozen, Error...) or "missing"
    type: Literal["lxc", "vm"]  # the real type when the instance exists, else the declared one
    ip: str | None  # live eth0 address when running, else the static one set on eth0, else null
    protected: bool | None  # security.protection.delete; null when missing
    snapshots: int | None  # null when missing
    # disabled: the domain is not reconciled, so nothing is compared
    drift: Literal["ok", "missing", "drift", "disabled"]
    differences: list[str]  # what differs, one line per key, when drift is "drift"


class DomainStatus(BaseModel):
    name: str
    project: str
    network: str
    trust_level: str  # effective trust level
    enabled: bool
    exists: bool  # the project exists
    network_exists: bool
    machines: list[MachineStatus]


class StatusReport(Report):
    domains: list[DomainStatus]


# flush (engine/flush.py)


class FlushObject(BaseModel):
    kind: Literal["instance", "profile", "image", "project", "network"]
    project: str | None  # null for projects and networks
    name: str
    outcome: Literal["deleted", "refused", "failed"]
    reason: str = ""


class FlushFile(BaseModel):
    path: str  # relative to output_dir
    outcome: Literal["deleted", "kept"]
    reason: str = ""


class FlushReport(Report):
    output_dir: str | None
    objects: list[FlushObject]
    files: list[FlushFile]

    def of(self, outcome: str) -> list[FlushObject]:
        return [o for o in self.objects if o.outcome == outcome]

    @property
    def refused(self) -> bool:
        return bool(self.of("refused"))

    @property
    def failed(self) -> bool:
        return bool(self.of("failed"))


# import-infra (engine/import_infra.py)


class ImportReport(Report):
    path: str
    domains: list[str]
    machines: list[str]
    notes: list[str]  # what could not be carried over and needs review
    valid: bool
    errors: list[FindingOut]
    warnings: list[FindingOut]


# plan and apply (engine/plan.py, engine/reconcile.py)


class PlanActionOut(BaseModel):
    op: str
    kind: str
    project: str
    name: str
    detail: str


class DriftOut(BaseModel):
    kind: str
    project: str
    name: str
    field: str
    expected: Any
    actual: Any  # null: absent in Incus


class InstanceOrphanOut(BaseModel):
    project: str
    name: str
    protected: bool


class PlanReport(Report):
    actions: list[PlanActionOut]
    drift: list[DriftOut]
    orphans: list[InstanceOrphanOut]


class AppliedActionOut(PlanActionOut):
    status: Literal["done", "failed", "skipped"]
    error: str


class ApplyReport(Report):
    ok: bool
    actions: list[AppliedActionOut]
    drift: list[DriftOut]  # what the plan found before apply
    orphans: list[InstanceOrphanOut]
    refused: list[InstanceOrphanOut]  # protected orphans --prune did not delete
    pre_apply_snapshot: str | None
    snapshotted: list[str]  # project/instance


class NftablesReport(Report):
    dry_run: bool
    ruleset: str
    bridges: list[str]
    bridges_from: Literal["incus", "infra"]  # infra: dry run without Incus (enabled domains' bridges)
    ai_override: str | None
    loaded: bool
    changed: bool
    state_file: str | None
    persisted: str | None
    warnings: list[str]
    error: str | None


class AiSwitchStepOut(BaseModel):
    step: str
    outcome: Literal["planned", "done", "skipped", "failed"]
    detail: str


class AiSwitchReport(Report):
    dry_run: bool
    target: str
    previous: str | None
    switched: bool
    steps: list[AiSwitchStepOut]


SCHEMAS: dict[str, type[Report]] = {
    "validate": ValidateReport,
    "sync": SyncReportOut,
    "status": StatusReport,
    "flush": FlushReport,
    "import-infra": ImportReport,
    "plan": PlanReport,
    "apply": ApplyReport,
    "nftables": NftablesReport,
    "ai-switch": AiSwitchReport,
}
