"""plan and apply against a throwaway real Incus (tests/incusd_helpers.py), with baselines measured in the same run.

(a) no-op plan over 3 domains x 10 running busybox containers: HTTP requests of our plan (target: the same
    for 3 x 2 and 3 x 10) and wall time against a per-instance `incus config show` loop (target >= 10x).
(b) apply from scratch of 30 busybox containers against a serial `incus launch` loop of the same 30 (target
    >= 1.5x on 2 cores). The loop makes the very containers apply made (same projects, so the same default
    profile with its filtered nic on the domain's bridge, same config keys, same static IP) after apply's
    are deleted; the projects, bridges, profiles and images it needs exist before its clock starts, and it
    writes no context files, so it does less than apply does.

Run twice: with the daemon's directory on tmpfs (what the tests use) and on the disk (`--disk` alone).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from anklume_tui.engine.incus.client import IncusClient  # noqa: E402
from anklume_tui.engine.reconcile.apply import apply  # noqa: E402
from anklume_tui.engine.reconcile.plan import make_plan  # noqa: E402
from anklume_tui.psot.context import HostContext  # noqa: E402
from anklume_tui.psot.pipeline import run_psot  # noqa: E402
from tests.engine.apply_helpers import many_machines  # noqa: E402
from tests.incusd_helpers import ThrowawayIncus, incus_installed  # noqa: E402

CTX = HostContext(skip_subnet_check=True)


def available() -> str | None:
    """None when the benchmark can run, else why not."""
    if not incus_installed():
        return "incusd is not installed (scripts/install-incus.sh)"
    if os.geteuid() != 0:
        return "the throwaway Incus daemon needs root"
    return None


def load(folder: Path, domains: int, per_domain: int):
    path = folder / f"infra-{domains}x{per_domain}.yml"
    path.write_text(many_machines(domains, per_domain))
    result = run_psot(path, CTX)
    assert result.valid, [f.render() for f in result.findings]
    return result.infra


async def plan_figures(daemon: ThrowawayIncus, infra, runs: int = 7) -> tuple[int, float, int]:
    """(requests of one plan, median wall seconds, actions)."""
    times, requests, actions = [], 0, 0
    for _ in range(runs):
        async with IncusClient(daemon.url) as client:
            t0 = time.perf_counter()
            plan = await make_plan(client, infra, host=CTX)
            times.append(time.perf_counter() - t0)
            requests, actions = plan.requests, len(plan.actions)
    return requests, statistics.median(times), actions


async def timed_apply(daemon: ThrowawayIncus, infra, state: Path) -> tuple[float, float, float, bool]:
    """(total seconds, seconds before the first instance action (projects, bridges, profiles, images), seconds
    to the end of the last instance action, ok); what failed is printed. engine_apply_work times apply so too."""
    marks: dict[str, float] = {}

    def on_event(event) -> None:
        if event.action is not None and event.action.kind == "instance":
            marks.setdefault("first", time.perf_counter())
            if event.phase == "done":
                marks["last"] = time.perf_counter()

    async with IncusClient(daemon.url) as client:
        t0 = time.perf_counter()
        result = await apply(client, infra, host=CTX, state_dir=state, on_event=on_event)
        total = time.perf_counter() - t0
    for outcome in result.of("failed"):
        print(f"    failed: {outcome.action.target}: {outcome.error}")
    if result.isolation is not None and result.isolation.error:
        print(f"    nftables: {result.isolation.error}")
    return total, marks.get("first", t0 + total) - t0, marks.get("last", t0 + total) - t0, result.ok


def config_show_loop(daemon: ThrowawayIncus, names: list[tuple[str, str]]) -> float:
    t0 = time.perf_counter()
    for project, name in names:
        daemon.incus("config", "show", name, f"--project={project}")
    return time.perf_counter() - t0


def launch_args(daemon: ThrowawayIncus, names: list[tuple[str, str]]) -> list[list[str]]:
    """`incus launch` arguments that make the containers apply made, read from them."""
    commands = []
    for project, name in names:
        inst = daemon.query(f"/1.0/instances/{name}?project={project}")
        cmd = ["launch", "busybox", name, f"--project={project}", "--quiet"]
        cmd += [f"--config={k}={v}" for k, v in inst["config"].items() if not k.startswith(("volatile.", "image."))]
        ip = inst["devices"].get("eth0", {}).get("ipv4.address")
        if ip:
            cmd.append(f"--device=eth0,ipv4.address={ip}")
        commands.append(cmd)
    return commands


def delete_instances(daemon: ThrowawayIncus, names: list[tuple[str, str]]) -> None:
    for project, name in names:
        daemon.incus("config", "set", name, "security.protection.delete=false", f"--project={project}")
        daemon.incus("delete", "--force", name, f"--project={project}")


def serial_launch(daemon: ThrowawayIncus, names: list[tuple[str, str]]) -> float:
    """Replace apply's containers by the same ones made with a serial `incus launch` loop; its seconds."""
    commands = launch_args(daemon, names)
    delete_instances(daemon, names)
    t0 = time.perf_counter()
    for cmd in commands:
        daemon.incus(*cmd)
    return time.perf_counter() - t0


def measure(base: Path | None) -> dict:
    daemon = ThrowawayIncus().start(base=base)
    try:
        with tempfile.TemporaryDirectory() as tmp, daemon.nft_inside(Path(tmp)):
            folder = Path(tmp)
            small, large = load(folder, 3, 2), load(folder, 3, 10)
            asyncio.run(timed_apply(daemon, small, folder / "s1"))
            req_small, _, n_small = asyncio.run(plan_figures(daemon, small))
            daemon.reset()
            seconds, structure, _, ok = asyncio.run(timed_apply(daemon, large, folder / "s2"))
            assert ok, "apply of 30 containers failed"
            req_large, t_large, n_large = asyncio.run(plan_figures(daemon, large))
            names = [(m.domain, m.instance_name) for m in large.machines]
            loop = config_show_loop(daemon, names)
            baseline = serial_launch(daemon, names)
            where = str(daemon.dir.parent)
    finally:
        daemon.stop()
    return {
        "where": where,
        "req_small": req_small,
        "n_small": n_small,
        "req_large": req_large,
        "n_large": n_large,
        "t_large": t_large,
        "loop": loop,
        "seconds": seconds,
        "structure": structure,
        "baseline": baseline,
    }


def report(f: dict) -> None:
    print(f"  daemon directory under {f['where']}")
    print(
        f"  (a) no-op plan, HTTP requests: 3x2 = {f['req_small']} ({f['n_small']} actions), "
        f"3x10 = {f['req_large']} ({f['n_large']} actions): "
        f"independent of the machine count: {'yes' if f['req_small'] == f['req_large'] else 'NO'}"
    )
    print(
        f"      no-op plan 3x10: {f['t_large'] * 1000:.1f} ms (median of 7); `incus config show` x30: "
        f"{f['loop'] * 1000:.0f} ms; ratio {f['loop'] / f['t_large']:.1f}x (target >= 10x)"
    )
    print(
        f"  (b) apply from scratch, 30 containers: {f['seconds']:.2f} s; serial `incus launch` of the same 30: "
        f"{f['baseline']:.2f} s; ratio {f['baseline'] / f['seconds']:.2f}x (target >= 1.5x)"
    )
    print(
        f"      of which projects, bridges, profiles, images before the first instance: {f['structure']:.2f} s "
        "(the launch loop's are made before its clock starts)"
    )


def main(disk_only: bool = False) -> None:
    why = available()
    if why:
        print(f"engine plan/apply benchmark skipped: {why}")
        return
    print(f"engine plan/apply on a throwaway Incus ({os.cpu_count()} CPUs)")
    if not disk_only:
        report(measure(None))
    report(measure(Path(tempfile.gettempdir())))


if __name__ == "__main__":
    main(disk_only="--disk" in sys.argv)
