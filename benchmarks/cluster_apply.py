"""apply of 30 busybox containers on a real three-member Incus cluster (tests/cluster_helpers.py), on one throwaway
daemon, and a serial incus CLI loop on the cluster, in the same run (issue 20). Each is whole processes, as a user
runs them: `anklume-tui --batch apply --no-provision --yes`, and one `incus` process per command of the loop.

3 domains x 10 machines; on the cluster each domain declares its member (`target: memberN`), so 10 land on each.
The loop (benchmarks/incus_cli_loop.py, read from what apply made, with each bridge created pending on every member
first and each container launched on apply's member) makes the same end state from the just-joined cluster; our
plan afterwards must find nothing to do. On two cores no speed-up from the cluster is expected (its three daemons
share them); apply must not be slower than the serial loop.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import incus_cli_loop  # noqa: E402
from engine_plan_apply import CTX, available  # noqa: E402
from whole_process import our_command  # noqa: E402

from anklume_tui.psot.model import Infra  # noqa: E402
from anklume_tui.psot.pipeline import run_psot  # noqa: E402
from tests.cluster_helpers import ThreeMemberCluster  # noqa: E402
from tests.engine.apply_helpers import many_machines  # noqa: E402
from tests.incusd_helpers import ThrowawayIncus  # noqa: E402

DOMAINS, PER_DOMAIN = 3, 10


def load(folder: Path, placed: bool) -> tuple[Path, Infra]:
    text = many_machines(DOMAINS, PER_DOMAIN, name="cluster-bench")
    if placed:
        for d in range(DOMAINS):
            text = text.replace(f"  d{d}:\n", f"  d{d}:\n    target: member{d + 1}\n")
    path = folder / f"infra-{'placed' if placed else 'plain'}.yml"
    path.write_text(text)
    result = run_psot(path, CTX)
    assert result.valid, [f.render() for f in result.findings]
    return path, result.infra


def our_env(daemon: ThrowawayIncus, folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANKLUME_", "INCUS_"))}
    env |= {k: os.environ[k] for k in ("ANKLUME_NFT_NETNS", "ANKLUME_NFT_PERSIST_DIR") if k in os.environ}
    env.update(
        ANKLUME_INCUS=daemon.url,
        ANKLUME_CONTEXT_DIR=str(folder / "no-context"),
        XDG_STATE_HOME=str(folder / "state"),
        XDG_CONFIG_HOME=str(folder / "config"),
        XDG_DATA_HOME=str(folder / "data"),
    )
    return env


def process_apply(daemon: ThrowawayIncus, infra: Path, folder: Path) -> float:
    """Seconds of `anklume-tui --batch apply --no-provision --yes` as a user runs it: a whole process."""
    env = our_env(daemon, folder)
    command = [*our_command(), "--batch", "apply", "--infra", str(infra), "--no-provision", "--yes"]
    t0 = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    assert done.returncode == 0, f"apply failed (exit {done.returncode}): {done.stdout[-800:]}{done.stderr[-800:]}"
    return seconds


def single_daemon(folder: Path) -> float:
    daemon = ThrowawayIncus().start()
    try:
        with daemon.nft_inside(folder / "single"):
            seconds = process_apply(daemon, load(folder, False)[0], folder / "single-run")
    finally:
        daemon.stop()
    return seconds


def on_the_cluster(folder: Path) -> tuple[float, dict[str, int], float]:
    """(apply seconds, containers per member, serial launch loop seconds)."""
    cluster = ThreeMemberCluster().start()
    try:
        path, _ = load(folder, True)
        with cluster.first.nft_inside(folder / "cluster"):
            seconds = process_apply(cluster.first, path, folder / "cluster-run")
        where = {name: member for d in range(DOMAINS) for name, member in cluster.locations(f"d{d}").items()}
        per_member: dict[str, int] = {}
        for member in where.values():
            per_member[member] = per_member.get(member, 0) + 1
        commands = cluster_loop_commands(cluster, [f"d{d}" for d in range(DOMAINS)], where)
        cluster.reset()  # back to just-joined: the loop makes the projects, bridges, profiles and images too
        t0 = time.perf_counter()
        for cmd in commands:
            cluster.first.incus(*cmd)
        loop = time.perf_counter() - t0
        planned = subprocess.run(
            [*our_command(), "--batch", "plan", "--infra", str(path), "--json"],
            env=our_env(cluster.first, folder / "cluster-run"),
            capture_output=True,
            text=True,
        )
        left = json.loads(planned.stdout)["actions"] if planned.returncode == 0 else planned.stderr[-300:]
        assert not left, f"the loop's end state is not apply's: our plan finds {left}"
    finally:
        cluster.stop()
    return seconds, per_member, loop


def cluster_loop_commands(cluster: ThreeMemberCluster, projects: list[str], where: dict[str, str]) -> list[list[str]]:
    """The single daemon's loop (benchmarks/incus_cli_loop.py, read from what apply made) as a cluster needs it:
    each bridge created pending on every member first, each container launched on the member apply put it on."""
    commands: list[list[str]] = []
    for cmd in incus_cli_loop.loop_commands(cluster.first, projects):
        if cmd[:2] == ["network", "create"]:
            commands += [["network", "create", cmd[2], f"--target={member}"] for member in cluster.names]
        elif cmd[0] == "launch":
            cmd = [*cmd, f"--target={where[cmd[2]]}"]
        commands.append(cmd)
    return commands


def main() -> None:
    why = available()
    if why:
        print(f"cluster apply benchmark skipped: {why}")
        return
    count = DOMAINS * PER_DOMAIN
    print(f"apply of {count} busybox containers (whole processes), three-member cluster vs one daemon")
    print(f"  {os.cpu_count()} CPUs")
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
        f"  cluster: serial incus CLI loop, same end state from just-joined: {loop:.2f} s; loop / apply "
        f"{loop / clustered:.2f}x (apply must not be slower: >= 1.0x)"
    )


if __name__ == "__main__":
    main()
