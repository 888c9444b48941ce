"""JSON documents printed by `--batch VERB --json`: a contract for scripts, one module per concern.

Each model's JSON Schema is kept in anklume_tui/schemas/ (tests check they match).

A model's module is imported on first use of one of its names (anklume_tui/lazy_exports.py): a verb pays for
its own reports, not for the 77 models of every verb (issue 17)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy_exports import exports_on_first_use

if TYPE_CHECKING:
    from .assistant import ExperienceOut, ExplainReport, ExplainRoundOut, FailureOut
    from .base import SCHEMA_VERSION, ErrorOut, ErrorReport, Report
    from .desktop import ClipboardEndOut, ClipboardReport
    from .host import (
        BootstrapReport,
        DoctorFinding,
        DoctorReport,
        GpuDeviceOut,
        GpuOut,
        GpuProcessOut,
        GpuReport,
        OperationStats,
        SetupStepOut,
        TelemetryReport,
    )
    from .infra import FindingOut, ImportReport, OrphanOut, SyncReportOut, ValidateReport
    from .isolation import AiSwitchReport, AiSwitchStepOut, IsolationOut, NftablesReport
    from .lifecycle import (
        BackupArchiveOut,
        BackupReport,
        CopyFileReport,
        DispReport,
        GoldenOut,
        GoldenReport,
        MoveReport,
        RestoreBackupReport,
        RestoredOut,
        SnapshotOut,
        SnapshotOutcomeOut,
        SnapshotReport,
        SnapshotTimelineOut,
    )
    from .provision import ProvisionHostOut, ProvisionOut, ProvisionProblemOut, ProvisionReport
    from .reconcile import (
        AppliedActionOut,
        ApplyReport,
        DisposableStatus,
        DomainStatus,
        DriftOut,
        FlushFile,
        FlushKind,
        FlushObject,
        FlushReport,
        InstanceOrphanOut,
        MachineStatus,
        MachineType,
        OfferOut,
        PlanActionOut,
        PlanReport,
        StatusReport,
        UseOut,
    )
    from .smoke import (
        CheckResultOut,
        CollectedMachineOut,
        CollectLogsReport,
        IdempotenceOut,
        MachineChecksOut,
        SmokeReport,
    )

    SCHEMAS: dict[str, type[Report]]
else:
    _exported = exports_on_first_use(
        __name__,
        {
            "assistant": ["ExperienceOut", "ExplainReport", "ExplainRoundOut", "FailureOut"],
            "base": ["SCHEMA_VERSION", "ErrorOut", "ErrorReport", "Report"],
            "desktop": ["ClipboardEndOut", "ClipboardReport"],
            "host": [
                "BootstrapReport",
                "DoctorFinding",
                "DoctorReport",
                "GpuDeviceOut",
                "GpuOut",
                "GpuProcessOut",
                "GpuReport",
                "OperationStats",
                "SetupStepOut",
                "TelemetryReport",
            ],
            "infra": ["FindingOut", "ImportReport", "OrphanOut", "SyncReportOut", "ValidateReport"],
            "isolation": ["AiSwitchReport", "AiSwitchStepOut", "IsolationOut", "NftablesReport"],
            "lifecycle": [
                "BackupArchiveOut",
                "BackupReport",
                "CopyFileReport",
                "DispReport",
                "GoldenOut",
                "GoldenReport",
                "MoveReport",
                "RestoreBackupReport",
                "RestoredOut",
                "SnapshotOut",
                "SnapshotOutcomeOut",
                "SnapshotReport",
                "SnapshotTimelineOut",
            ],
            "provision": ["ProvisionHostOut", "ProvisionOut", "ProvisionProblemOut", "ProvisionReport"],
            "reconcile": [
                "AppliedActionOut",
                "ApplyReport",
                "DisposableStatus",
                "DomainStatus",
                "DriftOut",
                "FlushFile",
                "FlushKind",
                "FlushObject",
                "FlushReport",
                "InstanceOrphanOut",
                "MachineStatus",
                "MachineType",
                "OfferOut",
                "PlanActionOut",
                "PlanReport",
                "StatusReport",
                "UseOut",
            ],
            "smoke": [
                "CheckResultOut",
                "CollectedMachineOut",
                "CollectLogsReport",
                "IdempotenceOut",
                "MachineChecksOut",
                "SmokeReport",
            ],
        },
    )

    def __getattr__(name: str) -> object:
        if name != "SCHEMAS":
            return _exported(name)
        schemas = {verb: _exported(model) for verb, model in _SCHEMA_MODELS.items()}
        globals()["SCHEMAS"] = schemas
        return schemas


# each verb's --json document, by the name of its model
_SCHEMA_MODELS: dict[str, str] = {
    "validate": "ValidateReport",
    "sync": "SyncReportOut",
    "status": "StatusReport",
    "flush": "FlushReport",
    "import-infra": "ImportReport",
    "plan": "PlanReport",
    "apply": "ApplyReport",
    "nftables": "NftablesReport",
    "ai-switch": "AiSwitchReport",
    "telemetry": "TelemetryReport",
    "doctor": "DoctorReport",
    "bootstrap": "BootstrapReport",
    "gpu": "GpuReport",
    "snapshot": "SnapshotReport",
    "disp": "DispReport",
    "golden": "GoldenReport",
    "provision": "ProvisionReport",
    "backup": "BackupReport",
    "restore-backup": "RestoreBackupReport",
    "copy-file": "CopyFileReport",
    "clipboard": "ClipboardReport",
    "move": "MoveReport",
    "smoke": "SmokeReport",
    "collect-logs": "CollectLogsReport",
    "explain": "ExplainReport",
    "error": "ErrorReport",  # any verb's document when it ends on an error before its own
}

__all__ = [
    "ClipboardEndOut",
    "ClipboardReport",
    "ExperienceOut",
    "ExplainReport",
    "ExplainRoundOut",
    "FailureOut",
    "ErrorOut",
    "ErrorReport",
    "AiSwitchReport",
    "AiSwitchStepOut",
    "AppliedActionOut",
    "ApplyReport",
    "BackupArchiveOut",
    "BackupReport",
    "CopyFileReport",
    "DispReport",
    "MoveReport",
    "BootstrapReport",
    "DoctorFinding",
    "DoctorReport",
    "DisposableStatus",
    "DomainStatus",
    "DriftOut",
    "FindingOut",
    "FlushFile",
    "FlushKind",
    "FlushObject",
    "FlushReport",
    "GoldenOut",
    "GoldenReport",
    "GpuDeviceOut",
    "GpuOut",
    "GpuProcessOut",
    "GpuReport",
    "SetupStepOut",
    "ImportReport",
    "InstanceOrphanOut",
    "IsolationOut",
    "MachineStatus",
    "MachineType",
    "NftablesReport",
    "OfferOut",
    "OperationStats",
    "OrphanOut",
    "PlanActionOut",
    "PlanReport",
    "ProvisionHostOut",
    "ProvisionOut",
    "ProvisionProblemOut",
    "ProvisionReport",
    "Report",
    "RestoreBackupReport",
    "RestoredOut",
    "SCHEMA_VERSION",
    "SmokeReport",
    "CheckResultOut",
    "CollectedMachineOut",
    "CollectLogsReport",
    "IdempotenceOut",
    "MachineChecksOut",
    "SnapshotOut",
    "SnapshotOutcomeOut",
    "SnapshotReport",
    "SnapshotTimelineOut",
    "StatusReport",
    "SyncReportOut",
    "TelemetryReport",
    "UseOut",
    "ValidateReport",
    "SCHEMAS",
]
