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
    nftables: IsolationOut | None = None  # step 7; None when apply did not get that far
    provision: ProvisionOut | None = None  # None with --no-provision, or when reconciling failed


class IsolationOut(BaseModel):
    """What loading the host isolation ruleset did at the end of apply."""

    bridges: list[str]
    loaded: bool
    changed: bool
    warnings: list[str]
    error: str | None


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


# telemetry, doctor, gpu (engine/telemetry.py, engine/doctor.py, engine/gpu.py build them; the TUI reuses them)


class OperationStats(BaseModel):
    target: str
    count: int
    succeeded: int  # exit code 0
    success_rate: float  # 0..1, 2 decimals
    mean_duration_seconds: float  # 2 decimals


class TelemetryReport(Report):
    enabled: bool
    log_file: str
    events: int
    unreadable_lines: int  # lines that are not a usage event (skipped)
    operations: list[OperationStats]  # the 15 most frequent, most frequent first


class DoctorFinding(BaseModel):
    check: str
    status: Literal["ok", "warning", "error"]
    message: str
    fix: str | None  # a command to copy, when there is something to do


class DoctorReport(Report):
    ok: bool  # no error finding
    incus_reachable: bool
    findings: list[DoctorFinding]


class GpuProcessOut(BaseModel):
    pid: int
    used_memory_mib: int | None
    instance: str | None  # the Incus instance whose cgroup holds the process, null for the host
    project: str | None


class GpuOut(BaseModel):
    index: int
    uuid: str
    name: str
    memory_total_mib: int | None  # null when nvidia-smi says [N/A] (MIG)
    memory_used_mib: int | None
    pci_address: str | None  # from Incus /1.0/resources when known
    holders: list[str]  # project/instance with a gpu device that reaches this GPU
    processes: list[GpuProcessOut]


class GpuDeviceOut(BaseModel):
    project: str
    instance: str
    device: str
    selector: str  # "all", or id=/pci=/vendorid=/productid= as the device names them
    gpus: list[int]  # indexes of the GPUs it reaches, as far as they could be matched


class GpuReport(Report):
    nvidia_smi: bool  # nvidia-smi found on PATH
    message: str  # one plain line: what was found, or why nothing was
    gpus: list[GpuOut]
    devices: list[GpuDeviceOut]  # gpu devices of instances (direct or through a profile)
    incus_reachable: bool | None  # null: Incus was not asked


# snapshot, disp, golden (engine/snapshots.py, disposable.py, golden.py)


class SnapshotOut(BaseModel):
    name: str
    created_at: str | None  # ISO 8601
    expires_at: str | None  # ISO 8601; null: never expires
    origin: Literal["manual", "pre-apply", "scheduled"]
    size: int | None  # bytes, when Incus reports it


class SnapshotTimelineOut(BaseModel):
    project: str
    instance: str
    snapshots: list[SnapshotOut]


class SnapshotOutcomeOut(BaseModel):
    project: str
    instance: str
    snapshot: str
    outcome: Literal["created", "skipped", "restored", "deleted"]
    restarted: bool  # restore of a running instance: Incus stopped and started it again


class SnapshotReport(Report):
    action: Literal["create", "restore", "delete", "list"]
    instances: list[SnapshotTimelineOut]  # list only
    outcomes: list[SnapshotOutcomeOut]
    missing: list[str]  # declared machines with no instance (project/instance)
    error: str | None


class DispReport(Report):
    project: str
    name: str
    image: str
    type: Literal["container", "virtual-machine"]
    exit_code: int | None  # the command's, when one ran
    stdout: str
    stderr: str


class GoldenOut(BaseModel):
    project: str
    instance: str
    snapshot: str
    derived: str | None  # derive: the new instance
    alias: str | None  # publish: the image alias
    fingerprint: str | None


class GoldenReport(Report):
    action: Literal["create", "derive", "publish", "list"]
    items: list[GoldenOut]


# backup, restore-backup (engine/backup.py, engine/backup_restore.py)


class BackupArchiveOut(BaseModel):
    file: str  # relative to the backup folder
    size: int  # bytes, as written (encrypted when encrypted_to is not empty)
    sha256: str
    project: str | None  # null for the infra archive
    instance: str | None
    type: str | None  # container | virtual-machine


class BackupReport(Report):
    path: str | None  # the backup folder; null when nothing was kept
    encrypted_to: list[str]  # gpg recipients; empty: not encrypted
    instances: list[BackupArchiveOut]
    infra: BackupArchiveOut | None
    missing: list[str]  # declared machines with no instance (project/instance)
    error: str | None


class RestoredOut(BaseModel):
    file: str
    project: str
    instance: str
    from_instance: str  # its name in the backup
    replaced: bool  # an existing instance of that name was replaced (--replace)
    readdressed: bool  # new name or project: new MAC addresses, static addresses dropped (DHCP)


class RestoreBackupReport(Report):
    source: str  # the file or backup folder given
    restored: list[RestoredOut]  # restored instances are left stopped
    infra_files: list[str]  # written by --infra-out
    error: str | None


class ProvisionHostOut(BaseModel):
    """Ansible's recap for one machine (ok counts changed tasks too, as Ansible does)."""

    host: str
    ok: int
    changed: int
    failed: int
    unreachable: int
    skipped: int
    rescued: int
    ignored: int


class ProvisionProblemOut(BaseModel):
    kind: Literal["failed", "unreachable"]
    host: str
    task: str
    message: str


class ProvisionOut(BaseModel):
    """What a provisioning run did: per machine counts, every failed or unreachable task."""

    ok: bool
    hosts: list[ProvisionHostOut]
    problems: list[ProvisionProblemOut]
    synced: list[str]  # generated files rewritten (managed sections) before the run
    log: str | None  # Ansible's full output
    error: str | None  # the run itself broke (not one machine's task)


class ProvisionReport(Report, ProvisionOut):
    limit: str | None


class CopyFileReport(Report):
    """`copy-file`: what was copied where, and what in the infra allowed it (or why it was refused)."""

    source: str
    destination: str  # the file written (inside the destination directory when one was given)
    copied: bool
    link: Literal["same-domain", "network-policy", "shared-volume"] | None
    link_detail: str | None
    size: int  # bytes written
    mode: str | None  # octal, as kept from the source ("0640")
    uid: int | None
    gid: int | None
    error: str | None  # the refusal or failure, when not copied


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
    "telemetry": TelemetryReport,
    "doctor": DoctorReport,
    "gpu": GpuReport,
    "snapshot": SnapshotReport,
    "disp": DispReport,
    "golden": GoldenReport,
    "provision": ProvisionReport,
    "backup": BackupReport,
    "restore-backup": RestoreBackupReport,
    "copy-file": CopyFileReport,
}
