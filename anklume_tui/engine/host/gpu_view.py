"""What the GPU screen shows: the GPU report (engine/host/gpu.py), each GPU's utilisation, how many GPUs Incus
sees, and whether the instances really holding a GPU keep to the infra's `gpu_policy` (SPEC §10.6)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from ...reports import GpuReport
from ..incus.client import IncusClient
from .gpu import build_report, incus_side, query_nvidia_smi, resource_cards

NO_GPU_AT_ALL = "No GPU found: /1.0/resources lists none and nvidia-smi is not installed."


@dataclass(frozen=True)
class GpuView:
    report: GpuReport
    utilisation: dict[int, int | None]  # GPU index → percent; missing or None: unknown
    sentence: str  # one plain line: what was found, or why nothing was
    policy: str  # the infra's gpu_policy
    holders: list[str]  # project/instance with a gpu device (direct or through a profile)
    policy_warning: str | None


def plain_sentence(report: GpuReport, incus_cards: int) -> str:
    if report.nvidia_smi:
        return report.message
    if report.incus_reachable is False:
        return "No NVIDIA GPU seen: nvidia-smi is not installed, and Incus (/1.0/resources) did not answer."
    if incus_cards:
        return (
            f"/1.0/resources lists {incus_cards} GPU(s) but nvidia-smi is not installed: "
            "VRAM use and GPU processes are unknown."
        )
    return NO_GPU_AT_ALL


def policy_check(policy: str, holders: list[str]) -> str | None:
    """A warning when the instances holding a GPU break the policy: `exclusive` allows one (rule G1)."""
    if policy == "exclusive" and len(holders) > 1:
        return (
            f"GPU policy is 'exclusive' but {len(holders)} instances hold a GPU ({', '.join(holders)}): "
            "remove the extra gpu devices or set gpu_policy: shared"
        )
    return None


async def read_gpu_view(client: IncusClient, policy: str, smi: str | None = None, proc: Path | None = None) -> GpuView:
    """One look at the GPUs: nvidia-smi (found on PATH unless given) and Incus. Raises NvidiaSmiError when
    nvidia-smi is there but fails; an unreachable Incus is reported in the view, not raised."""
    smi = smi or shutil.which("nvidia-smi")
    snapshot = query_nvidia_smi(smi) if smi else None
    resources, devices, reachable = await incus_side(client, snapshot)
    report = build_report(snapshot, devices, resources, reachable, proc)
    holders = sorted({f"{d.project}/{d.instance}" for d in devices})
    return GpuView(
        report=report,
        utilisation={gpu.index: gpu.utilisation_percent for gpu in snapshot.gpus} if snapshot else {},
        sentence=plain_sentence(report, len(resource_cards(resources))),
        policy=policy,
        holders=holders,
        policy_warning=policy_check(policy, holders),
    )
