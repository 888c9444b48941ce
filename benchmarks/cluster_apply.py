"""apply of 30 busybox containers on a real three-member Incus cluster (tests/cluster_helpers.py), on one throwaway
daemon, and a serial `incus launch --target` loop on the cluster, in the same run (issue 20).

3 domains x 10 machines; on the cluster each domain declares its member (`target: memberN`), so 10 land on each.
The loop makes the very containers apply made on the cluster (same projects, profiles, config keys, static IPs,
members) after apply's are deleted; the projects, bridges, profiles and images exist before its clock starts
(and each member already holds the image by then), so it does less than apply does. On two cores no speed-up from
the cluster is expected (its three daemons share them); apply must not be slower than the serial loop.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine_plan_apply import CTX, available, delete_instances, launch_args, timed_apply  # noqa: E402

from anklume_tui.psot.pipeline import run_psot  # noqa: E402
from tests.cluster_helpers import ThreeMemberCluster  # noqa: E402
from tests.engine.apply_helpers import many_machines  # noqa: E402
from tests.incusd_helpers import ThrowawayIncus  # noqa: E402

DOMAINS, PER_DOMAIN = 3, 10


def load(folder: Path, placed: bool):
    text = many_machines(DOMAINS, PER_DOMAIN, name="cluster-bench")
    if placed:
        for d in range(DOMAINS):
            text = text.replace(f"  d{d}:\n", f"  d{d}:\n    target: member{d + 1}\n")
    path = folder / f"infra-{'placed' if placed else 'plain'}.yml"
    path.write_text(text)
    result = run_psot(path, CTX)
    assert result.valid, [f.render() for f in result.findings]
    return result.infra


def single_daemon(folder: Path) -> float:
    daemon = ThrowawayIncus().start()
    try:
        with daemon.nft_inside(folder / "single"):
            seconds, _, _, ok = asyncio.run(timed_apply(daemon, load(folder, False), folder / "single-state"))
        assert ok, "apply of 30 containers on one daemon failed"
    finally:
        daemon.stop()
    return seconds


def on_the_cluster(folder: Path) -> tuple[float, dict[str, int], float]:
    """(apply seconds, containers per member, serial launch loop seconds)."""
    cluster = ThreeMemberCluster().start()
    try:
        infra = load(folder, True)
        with cluster.first.nft_inside(folder / "cluster"):
            seconds, _, _, ok = asyncio.run(timed_apply(cluster.first, infra, folder / "cluster-state"))
        assert ok, "apply of 30 containers on the cluster failed"
        names = [(m.domain, m.instance_name) for m in infra.machines]
        where = {name: member for d in range(DOMAINS) for name, member in cluster.locations(f"d{d}").items()}
        per_member: dict[str, int] = {}
        for member in where.values():
            per_member[member] = per_member.get(member, 0) + 1
        made = zip(launch_args(cluster.first, names), names, strict=True)
        commands = [[*cmd, f"--target={where[name]}"] for cmd, (_, name) in made]
        delete_instances(cluster.first, names)
        t0 = time.perf_counter()
        for cmd in commands:
            cluster.first.incus(*cmd)
        loop = time.perf_counter() - t0
    finally:
        cluster.stop()
    return seconds, per_member, loop


def main() -> None:
    why = available()
    if why:
        print(f"cluster apply benchmark skipped: {why}")
        return
    count = DOMAINS * PER_DOMAIN
    print(f"apply of {count} busybox containers, three-member cluster vs one daemon ({os.cpu_count()} CPUs)")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for sub in ("single", "cluster"):
            (folder / sub).mkdir()
        single = single_daemon(folder)
        clustered, per_member, loop = on_the_cluster(folder)
    spread = ", ".join(f"{member} {count}" for member, count in sorted(per_member.items()))
    print(
        f"  cluster: apply {clustered:.2f} s ({spread}); one daemon: apply {single:.2f} s; "
        f"cluster / one {clustered / single:.2f}x"
    )
    print(
        f"  cluster: serial `incus launch --target` loop of the same 30: {loop:.2f} s; loop / apply "
        f"{loop / clustered:.2f}x (apply must not be slower: >= 1.0x)"
    )


if __name__ == "__main__":
    main()
