"""GPUs and VRAM (SPEC §10.6): what `nvidia-smi` reports, which instance holds which GPU (gpu devices, direct
or through a profile), and which instance each GPU process belongs to (through its cgroup).

The only caller of `nvidia-smi`. Parsing is pure and tested on fixtures; `/proc` is injectable.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...errors import Failed
from ...reports import GpuDeviceOut, GpuOut, GpuProcessOut, GpuReport
from . import paths as state

GPU_QUERY = ["--query-gpu=index,uuid,name,memory.total,memory.used,utilization.gpu", "--format=csv,noheader,nounits"]
APPS_QUERY = ["--query-compute-apps=gpu_uuid,pid,used_memory", "--format=csv,noheader,nounits"]
NO_GPU = "no NVIDIA GPU found (nvidia-smi not present)"
SELECTORS = ("mig.uuid", "pci", "id", "vendorid", "productid")


class NvidiaSmiError(Failed):
    """nvidia-smi is there but does not answer (driver not loaded, GPU lost...)."""

    def user_message(self) -> str:
        return f"nvidia-smi fails: {self} (is the NVIDIA driver loaded?)"


@dataclass(frozen=True)
class NvidiaGpu:
    index: int
    uuid: str
    name: str
    memory_total_mib: int | None
    memory_used_mib: int | None
    utilisation_percent: int | None  # None when nvidia-smi cannot tell (`[N/A]`, as in MIG mode)


@dataclass(frozen=True)
class NvidiaProcess:
    gpu_uuid: str
    pid: int
    used_memory_mib: int | None


@dataclass(frozen=True)
class NvidiaSnapshot:
    gpus: list[NvidiaGpu]
    processes: list[NvidiaProcess]


def _number(text: str) -> int | None:
    """`[N/A]`, `[Not Supported]`, `[Insufficient Permissions]` and the like become None."""
    text = text.strip()
    try:
        return int(float(text))
    except ValueError:
        return None


def _rows(text: str, fields: int) -> list[list[str]]:
    rows = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.split(",")]
        # Anything else (blank lines, "No running processes found", MIG notes) is not a row.
        if len(cells) == fields and cells[0] and not line.startswith(" "):
            rows.append(cells)
    return rows


def parse_gpus(text: str) -> list[NvidiaGpu]:
    """`nvidia-smi --query-gpu=index,uuid,name,memory.total,memory.used,utilization.gpu
    --format=csv,noheader,nounits`."""
    gpus = []
    for index, uuid, name, total, used, busy in _rows(text, 6):
        if index.isdigit():
            gpus.append(NvidiaGpu(int(index), uuid, name, _number(total), _number(used), _number(busy)))
    return gpus


def parse_processes(text: str) -> list[NvidiaProcess]:
    """`nvidia-smi --query-compute-apps=gpu_uuid,pid,used_memory --format=csv,noheader,nounits`."""
    return [NvidiaProcess(uuid, int(pid), _number(used)) for uuid, pid, used in _rows(text, 3) if pid.isdigit()]


def _run(smi: str, args: list[str]) -> str:
    try:
        done = subprocess.run([smi, *args], capture_output=True, text=True, timeout=15)
    except (OSError, subprocess.SubprocessError) as exc:
        raise NvidiaSmiError(str(exc)) from exc
    if done.returncode != 0:
        raise NvidiaSmiError(((done.stdout + done.stderr).strip().splitlines() or [f"exit {done.returncode}"])[-1])
    return done.stdout


def query_nvidia_smi(smi: str) -> NvidiaSnapshot:
    return NvidiaSnapshot(parse_gpus(_run(smi, GPU_QUERY)), parse_processes(_run(smi, APPS_QUERY)))


# Processes to instances


def instance_of_cgroup(text: str) -> tuple[str, str] | None:
    """(project, instance) from a `/proc/<pid>/cgroup`: Incus puts a container's processes under
    `lxc.payload.<instance>` (project default) or `lxc.payload.<project>_<instance>`."""
    for line in text.splitlines():
        path = line.split(":", 2)[-1]
        for part in path.split("/"):
            if part.startswith("lxc.payload."):
                name = part.removeprefix("lxc.payload.")
                # Instance names cannot hold "_", so the last one separates the project.
                project, _, instance = name.rpartition("_")
                return (project or "default", instance)
    return None


def instance_of_pid(pid: int, proc: Path | None = None) -> tuple[str, str] | None:
    try:
        text = ((proc or state.proc_dir()) / str(pid) / "cgroup").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    return instance_of_cgroup(text)


def processes_in_project(processes: list[NvidiaProcess], project: str, proc: Path | None = None) -> list[int]:
    """The PIDs of these GPU processes that run in an instance of `project` (by their cgroup): never a host
    process, nor another project's."""
    return sorted({p.pid for p in processes if (owner := instance_of_pid(p.pid, proc)) and owner[0] == project})


def kill_project_compute_processes(smi: str, project: str) -> list[int]:
    """SIGKILL the GPU compute processes of `project`'s instances; the PIDs killed. Each is checked again
    through a pidfd, so a PID reused since nvidia-smi listed it is never hit."""
    killed = []
    for pid in processes_in_project(parse_processes(_run(smi, APPS_QUERY)), project):
        with contextlib.suppress(OSError):
            pidfd = os.pidfd_open(pid)
            try:
                owner = instance_of_pid(pid)
                if owner and owner[0] == project:
                    signal.pidfd_send_signal(pidfd, signal.SIGKILL)
                    killed.append(pid)
            finally:
                os.close(pidfd)
    return killed


def reset_gpus(smi: str) -> str | None:
    """`nvidia-smi --gpu-reset`: None when done, else why not (a busy or shared GPU refuses it)."""
    try:
        done = subprocess.run([smi, "--gpu-reset"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as exc:
        return str(exc)
    return None if done.returncode == 0 else (done.stderr or done.stdout).strip() or f"exit {done.returncode}"


# GPU devices of instances


def _selector(device: dict[str, str]) -> str:
    chosen = [f"{key}={device[key]}" for key in SELECTORS if device.get(key)]
    return " ".join(chosen) or "all"


def resource_cards(resources: dict[str, Any] | None) -> list[dict[str, Any]]:
    return list(((resources or {}).get("gpu") or {}).get("cards") or [])


def _matches(device: dict[str, str], card: dict[str, Any]) -> bool:
    if device.get("pci") and device["pci"].lower() != str(card.get("pci_address", "")).lower():
        return False
    if device.get("id") and device["id"] != str((card.get("drm") or {}).get("id", "")):
        return False
    if device.get("vendorid") and device["vendorid"].lower() != str(card.get("vendor_id", "")).lower():
        return False
    return not (device.get("productid") and device["productid"].lower() != str(card.get("product_id", "")).lower())


def reached_gpus(device: dict[str, str], gpus: list[NvidiaGpu], resources: dict[str, Any] | None) -> list[int]:
    """Indexes of the NVIDIA GPUs a gpu device reaches: through the Incus cards (matched on their NVIDIA
    uuid) when /1.0/resources knows them, else `id` taken as the nvidia-smi index (they agree on most hosts)."""
    if device.get("mig.uuid") or device.get("gputype", "physical") not in ("physical", "mig"):
        return []
    by_uuid = {g.uuid: g.index for g in gpus}
    cards = resource_cards(resources)
    if cards:
        found = [by_uuid.get(str((c.get("nvidia") or {}).get("uuid", ""))) for c in cards if _matches(device, c)]
        return sorted(i for i in found if i is not None)
    if device.get("id"):
        return [g.index for g in gpus if str(g.index) == device["id"]]
    if any(device.get(k) for k in ("pci", "vendorid", "productid")):
        return []
    return [g.index for g in gpus]


def gpu_devices(instances, gpus: list[NvidiaGpu], resources: dict[str, Any] | None) -> list[GpuDeviceOut]:
    """Every `type: gpu` device of every instance, its own or from a profile (`expanded_devices`)."""
    found = []
    for inst in instances:
        devices = inst.expanded_devices or inst.devices
        for name, device in sorted(devices.items()):
            if device.get("type") == "gpu":
                found.append(
                    GpuDeviceOut(
                        project=inst.project,
                        instance=inst.name,
                        device=name,
                        selector=_selector(device),
                        gpus=reached_gpus(device, gpus, resources),
                    )
                )
    return found


def _pci_of(gpu: NvidiaGpu, resources: dict[str, Any] | None) -> str | None:
    for card in resource_cards(resources):
        if (card.get("nvidia") or {}).get("uuid") == gpu.uuid:
            return card.get("pci_address")
    return None


def build_report(
    snapshot: NvidiaSnapshot | None,
    devices: list[GpuDeviceOut],
    resources: dict[str, Any] | None,
    incus_reachable: bool | None,
    proc: Path | None = None,
) -> GpuReport:
    if snapshot is None:
        return GpuReport(nvidia_smi=False, message=NO_GPU, gpus=[], devices=devices, incus_reachable=incus_reachable)
    gpus = []
    for gpu in snapshot.gpus:
        processes = []
        for p in snapshot.processes:
            if p.gpu_uuid == gpu.uuid:
                owner = instance_of_pid(p.pid, proc)
                processes.append(
                    GpuProcessOut(
                        pid=p.pid,
                        used_memory_mib=p.used_memory_mib,
                        instance=owner[1] if owner else None,
                        project=owner[0] if owner else None,
                    )
                )
        holders = sorted({f"{d.project}/{d.instance}" for d in devices if gpu.index in d.gpus})
        gpus.append(
            GpuOut(
                index=gpu.index,
                uuid=gpu.uuid,
                name=gpu.name,
                memory_total_mib=gpu.memory_total_mib,
                memory_used_mib=gpu.memory_used_mib,
                pci_address=_pci_of(gpu, resources),
                holders=holders,
                processes=processes,
            )
        )
    message = f"{len(gpus)} NVIDIA GPU(s)" if gpus else "nvidia-smi answers but lists no GPU"
    return GpuReport(nvidia_smi=True, message=message, gpus=gpus, devices=devices, incus_reachable=incus_reachable)


async def gather_gpu_report(client, smi: str | None, proc: Path | None = None) -> GpuReport:
    """nvidia-smi (when `smi` is its path) plus the Incus side when `client` is given; an unreachable Incus
    gives `incus_reachable=False` and no devices rather than an exception."""
    snapshot = query_nvidia_smi(smi) if smi else None
    resources, devices, reachable = await incus_side(client, snapshot)
    return build_report(snapshot, devices, resources, reachable, proc)


async def incus_side(
    client, snapshot: NvidiaSnapshot | None
) -> tuple[dict[str, Any] | None, list[GpuDeviceOut], bool | None]:
    """(/1.0/resources, gpu devices of every instance, whether Incus answered); (None, [], None) without a
    client, (None, [], False) when Incus does not answer."""
    from ..incus.errors import IncusError

    if client is None:
        return None, [], None
    try:
        resources = await client.resources()
        instances = await client.list_instances(project=None)
    except IncusError:
        return None, [], False
    return resources, gpu_devices(instances, snapshot.gpus if snapshot else [], resources), True
