"""plan and apply against a throwaway real Incus (tests/incusd.py), with baselines measured in the same run.

(a) no-op plan over 3 domains x 10 running busybox containers: HTTP requests of our plan (target: the same
    for 3 x 2 and 3 x 10) and wall time against a per-instance `incus config show` loop (target >= 10x).
(b) apply from scratch of 30 busybox containers against a serial `incus launch` loop of the same 30, each
    on a bridge like ours (target >= 1.5x on 2 cores).
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

from anklume_tui.engine.incus import IncusClient  # noqa: E402
from anklume_tui.engine.plan import make_plan  # noqa: E402
from anklume_tui.engine.reconcile import apply  # noqa: E402
from anklume_tui.psot.context import HostContext  # noqa: E402
from anklume_tui.psot.pipeline import run_psot  # noqa: E402
from tests.engine.apply_helpers import many_machines  # noqa: E402
from tests.incusd import ThrowawayIncus, incus_installed  # noqa: E402

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


async def timed_apply(daemon: ThrowawayIncus, infra, state: Path) -> tuple[float, float, bool]:
    """(total seconds, seconds before the first instance action: projects, bridges, profiles, images; ok)."""
    first: list[float] = []

    def on_event(event) -> None:
        if event.action is not None and event.action.kind == "instance" and not first:
            first.append(time.perf_counter())

    async with IncusClient(daemon.url) as client:
        t0 = time.perf_counter()
        result = await apply(client, infra, host=CTX, state_dir=state, on_event=on_event)
        total = time.perf_counter() - t0
        return total, (first[0] - t0) if first else total, result.ok


def config_show_loop(daemon: ThrowawayIncus, names: list[tuple[str, str]]) -> float:
    t0 = time.perf_counter()
    for project, name in names:
        daemon.incus("config", "show", name, f"--project={project}")
    return time.perf_counter() - t0


def serial_launch(daemon: ThrowawayIncus, count: int) -> float:
    """`incus launch` one after the other, each on a managed bridge (as ours are), image already local."""
    daemon.incus("network", "create", "basebr", "ipv4.address=10.99.0.254/24", "ipv6.address=none")
    daemon.incus("profile", "create", "basep")
    daemon.incus("profile", "device", "add", "basep", "root", "disk", "pool=default", "path=/")
    daemon.incus("profile", "device", "add", "basep", "eth0", "nic", "network=basebr", "name=eth0")
    t0 = time.perf_counter()
    for i in range(count):
        daemon.incus("launch", "busybox", f"base-{i:02d}", "--profile=basep", "--quiet")
    elapsed = time.perf_counter() - t0
    for i in range(count):
        daemon.incus("delete", "--force", f"base-{i:02d}")
    daemon.incus("profile", "delete", "basep")
    daemon.incus("network", "delete", "basebr")
    return elapsed


def main() -> None:
    why = available()
    if why:
        print(f"engine plan/apply benchmark skipped: {why}")
        return
    print(f"engine plan/apply on a throwaway Incus ({os.cpu_count()} CPUs)")
    daemon = ThrowawayIncus().start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            small, large = load(folder, 3, 2), load(folder, 3, 10)
            asyncio.run(timed_apply(daemon, small, folder / "s1"))
            req_small, t_small, n_small = asyncio.run(plan_figures(daemon, small))
            daemon.reset()
            seconds, structure, ok = asyncio.run(timed_apply(daemon, large, folder / "s2"))
            assert ok, "apply of 30 containers failed"
            req_large, t_large, n_large = asyncio.run(plan_figures(daemon, large))
            names = [(m.domain, m.instance_name) for m in large.machines]
            loop = config_show_loop(daemon, names)
            daemon.reset()
            baseline = serial_launch(daemon, len(names))
    finally:
        daemon.stop()
    print(
        f"(a) no-op plan, HTTP requests: 3x2 = {req_small} ({n_small} actions), 3x10 = {req_large} ({n_large} actions)"
    )
    print(f"    requests independent of the machine count: {'yes' if req_small == req_large else 'NO'}")
    print(
        f"    no-op plan 3x10: {t_large * 1000:.1f} ms (median of 7); `incus config show` x{len(names)}: "
        f"{loop * 1000:.0f} ms; ratio {loop / t_large:.1f}x (target >= 10x)"
    )
    print(
        f"(b) apply from scratch, 30 containers: {seconds:.2f} s; serial `incus launch` x{len(names)}: "
        f"{baseline:.2f} s; ratio {baseline / seconds:.2f}x (target >= 1.5x)"
    )
    print(
        f"    of which projects, bridges, profiles, images: {structure:.2f} s (the launch loop's one bridge and "
        f"profile are made before its clock starts); instances only: {baseline / (seconds - structure):.2f}x"
    )


if __name__ == "__main__":
    main()
