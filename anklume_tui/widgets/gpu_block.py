"""One GPU on the GPU screen: name, utilisation, a VRAM bar with its numbers, the instances holding it and
VRAM per process with the instance it runs in."""

from __future__ import annotations

from rich.console import Group
from rich.text import Text
from textual.widgets import Static

from ..reports import GpuOut

BAR_WIDTH = 40


def _mib(value: int | None) -> str:
    return "?" if value is None else f"{value} MiB"


def vram_bar(used: int | None, total: int | None, width: int = BAR_WIDTH) -> Text:
    """`██████░░░░ 10876 MiB / 24564 MiB (44%)`; without both numbers (MIG says [N/A]) only the numbers."""
    numbers = f"{_mib(used)} / {_mib(total)}"
    if used is None or not total:
        return Text(f"VRAM {numbers}")
    ratio = min(max(used / total, 0.0), 1.0)
    filled = round(ratio * width)
    colour = "green" if ratio < 0.6 else "yellow" if ratio < 0.85 else "red"
    return Text.assemble("VRAM ", ("█" * filled, colour), ("░" * (width - filled), "dim"), f" {numbers} ({ratio:.0%})")


def gpu_lines(gpu: GpuOut, utilisation: int | None) -> list[Text]:
    busy = "utilisation unknown" if utilisation is None else f"utilisation {utilisation}%"
    lines = [
        Text.assemble((f"GPU {gpu.index}  {gpu.name}", "bold"), f"  {busy}  ", (gpu.uuid, "dim")),
        vram_bar(gpu.memory_used_mib, gpu.memory_total_mib),
        Text(f"held by: {', '.join(gpu.holders) or 'no instance'}"),
    ]
    for process in gpu.processes:
        where = f"{process.project}/{process.instance}" if process.instance else "host"
        lines.append(Text(f"  pid {process.pid:<8} {_mib(process.used_memory_mib):>10}  {where}"))
    if not gpu.processes:
        lines.append(Text("  no GPU process", style="dim"))
    return lines


class GpuBlock(Static):
    DEFAULT_CSS = """
    GpuBlock { height: auto; margin: 0 0 1 0; padding: 0 1; border: round $primary; }
    """

    plain = ""  # what the block says, without styles

    def show(self, gpu: GpuOut, utilisation: int | None) -> None:
        lines = gpu_lines(gpu, utilisation)
        self.plain = "\n".join(line.plain for line in lines)
        self.update(Group(*lines))
