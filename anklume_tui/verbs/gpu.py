"""`gpu`: host GPUs, VRAM use, which instance holds which GPU and which instance each GPU process runs in."""

from __future__ import annotations

import argparse
import shutil

from .. import exitcodes
from ..errors import Unreachable
from ..reports import GpuReport
from .common import add_incus_arguments, emit_json, run_with_incus

HELP = (
    "NVIDIA GPUs with total/used VRAM, the instances holding each (gpu devices, direct or via a profile) and "
    "VRAM per process mapped to its instance (exit 0, also with no GPU; 3 Incus unreachable while a GPU is there)"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    add_incus_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from ..engine.host import gather_gpu_report

    smi = shutil.which("nvidia-smi")

    async def work(client) -> GpuReport:
        return await gather_gpu_report(client, smi)

    report = run_with_incus(args, work)
    if args.json:
        emit_json(report)
    else:
        print(render(report))
    if report.incus_reachable is False and report.nvidia_smi:
        raise Unreachable("which instance holds which GPU is unknown")
    return exitcodes.OK


def _mib(value: int | None) -> str:
    return "?" if value is None else f"{value} MiB"


def render(report: GpuReport) -> str:
    lines = [report.message]
    for gpu in report.gpus:
        lines.append(
            f"GPU {gpu.index}  {gpu.name}  {gpu.uuid}  VRAM {_mib(gpu.memory_used_mib)} / {_mib(gpu.memory_total_mib)}"
        )
        lines.append(f"  held by: {', '.join(gpu.holders) or '-'}")
        for p in gpu.processes:
            where = f"{p.project}/{p.instance}" if p.instance else "host"
            lines.append(f"  pid {p.pid:<8} {_mib(p.used_memory_mib):>10}  {where}")
    if report.devices:
        lines.append("gpu devices:")
        for d in report.devices:
            reach = ", ".join(f"GPU {i}" for i in d.gpus) or "no GPU matched"
            lines.append(f"  {d.project}/{d.instance} {d.device} ({d.selector}): {reach}")
    return "\n".join(lines)
