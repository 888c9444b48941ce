"""Documents about the host: telemetry, doctor, gpu (engine/host/telemetry.py, doctor.py, gpu.py build them; the
TUI reuses them)."""

from __future__ import annotations

from typing import Literal

from .base import Model, Report


class OperationStats(Model):
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


class DoctorFinding(Model):
    check: str
    status: Literal["ok", "warning", "error"]
    message: str
    fix: str | None  # a command to copy, when there is something to do


class SetupStepOut(Model):
    """One step of `bootstrap` or `doctor --fix`."""

    id: str  # the doctor check it answers, where there is one: packages, subuid, incus, storage-pool...
    # done: nothing was needed; applied: done now; todo: would be done (dry run, no --yes, or blocked);
    # left: something exists that is not changed (message says what); manual: the user's to do (message says
    # how); refused: needs an explicit flag (message says which); failed: tried and failed (message says why)
    status: Literal["done", "applied", "todo", "left", "manual", "refused", "failed"]
    message: str
    command: str | None  # what it runs or writes


class DoctorReport(Report):
    ok: bool  # no error finding
    incus_reachable: bool
    findings: list[DoctorFinding]  # with --fix: the checks run again after the fixes
    fixes: list[SetupStepOut] = []  # with --fix: what was (or, without --yes, would be) done


class BootstrapReport(Report):
    dry_run: bool
    mode: Literal["prod", "dev"]
    changed: bool  # something was applied
    storage: str | None  # the driver of the pool created (or to be created), null when none is
    preseed: str | None  # the Incus part, in `incus admin init --preseed` format, null when nothing is missing
    steps: list[SetupStepOut]


class GpuProcessOut(Model):
    pid: int
    used_memory_mib: int | None
    instance: str | None  # the Incus instance whose cgroup holds the process, null for the host
    project: str | None


class GpuOut(Model):
    index: int
    uuid: str
    name: str
    memory_total_mib: int | None  # null when nvidia-smi says [N/A] (MIG)
    memory_used_mib: int | None
    pci_address: str | None  # from Incus /1.0/resources when known
    holders: list[str]  # project/instance with a gpu device that reaches this GPU
    processes: list[GpuProcessOut]


class GpuDeviceOut(Model):
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
