"""Everyday commands as whole processes, wall clock, against their floors and AnKLuMe v1/v2, in one run (issue 17).

`python benchmarks/whole_process.py [--quick] [--anklume-src GIT_DIR]` (or $ANKLUME_V2_SRC): on a throwaway real
Incus (tests/incusd_helpers.py), 3 domains x 10 busybox containers and a 1,000-machine infra (50 x 20):

  status --json                      vs `incus list --all-projects -f json` of the same instances; v2's `status`
  no-op apply --no-provision --yes   vs that `incus list`; v2's second `apply all --no-provision`
  apply of the 30 from nothing       vs a serial incus CLI loop making the same end state (incus_cli_loop.py);
                                     v2's `apply all --no-provision` from nothing
  validate + sync, 1,000 machines    cold (fresh tree) vs v1's generator on the same infra.yml; warm (unchanged)
  TUI, 1,000 machines                start -> first machine row on screen, vs a minimal Textual app with a
                                     1,050-row DataTable (minimal_textual_table.py), both in tmux (tui_first_row.py)

Each figure is the median of N runs (N = 10 for the quick commands and 3 for the applies; --quick: 3 and 1).
v2 declares no static addresses, so its apply makes a little less than ours and the loop do (see anklume_anchors.py
for how it is kept on the throwaway daemon). An anchor whose source is not given is skipped with the reason.
Our commands run as a user's do: the host's interfaces are read for H1 (ANKLUME_SKIP_HOST_SUBNET_CHECK unset).
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import anklume_anchors as anchors_  # noqa: E402
import incus_cli_loop  # noqa: E402
import tui_first_row  # noqa: E402
from process_timing import CommandFailed, Line, print_table, repeat, run_once  # noqa: E402
from psot_pipeline import SCRATCH, infra_text  # noqa: E402

from tests.engine.apply_helpers import many_machines  # noqa: E402
from tests.incusd_helpers import ThrowawayIncus, incus_installed  # noqa: E402

DOMAINS, PER_DOMAIN = 3, 10
NO_INCUS = "unix:///nonexistent/unix.socket"


def our_command() -> list[str]:
    script = Path(sys.executable).parent / "anklume-tui"  # the console script a user runs
    return [str(script)] if script.exists() else [sys.executable, "-m", "anklume_tui"]


class Bench:
    """The run's daemon (or none), folders and environments."""

    def __init__(self, folder: Path, daemon: ThrowawayIncus | None, anchors: anchors_.Anchors, quick: bool) -> None:
        self.folder, self.daemon, self.anchors = folder, daemon, anchors
        self.fast, self.slow = (3, 1) if quick else (10, 3)
        self.infra = folder / "infra-3x10.yml"
        self.infra.write_text(many_machines(DOMAINS, PER_DOMAIN))
        self.big = folder / "infra.yml"
        self.big.write_text(infra_text())
        self.ours = our_command()
        self.env = self.our_env()

    def our_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ANKLUME_", "INCUS_"))}
        env.update(
            ANKLUME_INCUS=self.daemon.url if self.daemon else NO_INCUS,
            ANKLUME_CONTEXT_DIR=str(self.folder / "no-context"),
            XDG_STATE_HOME=str(self.folder / "state"),
            XDG_CONFIG_HOME=str(self.folder / "config"),
        )
        return env

    def ours_cmd(self, verb: str, *args: str, infra: Path | None = None) -> list[str]:
        return [*self.ours, "--batch", verb, "--infra", str(infra or self.infra), *args]

    def incus_cmd(self, *args: str) -> list[str]:
        return [shutil.which("incus") or "/usr/bin/incus", *args]


def sync_lines(b: Bench) -> list[Line]:
    """validate + sync of 1,000 machines, whole process: cold (a fresh tree each run, ours and v1's in turn, so
    both meet the same load) and warm (ours again on its last tree, unchanged)."""
    say("validate + sync of 1,000 machines: ours and v1's generator")
    trees = (b.folder / f"tree{n}" for n in range(10_000))
    cold = Line("validate + sync 1,000 machines, cold", floor_name="AnKLuMe v1 scripts/generate.py", faster=1.5)
    cold.skipped = b.anchors.v1_missing
    env = b.daemon.env if b.daemon else dict(os.environ)
    v1_env = anchors_.guarded_env(env, Path(env.get("INCUS_DIR", "/nonexistent")), b.folder / "bin", b.folder)
    ours = b.folder
    for _ in range(b.fast):
        ours = next(trees)
        cold.ours.append(run_once(b.ours_cmd("sync", "--out", str(ours), infra=b.big), b.env, cwd=b.folder))
        if b.anchors.v1_script and not cold.skipped:
            v1 = [str(b.anchors.python), str(b.anchors.v1_script), str(b.big), "--base-dir", str(next(trees))]
            try:
                cold.floor.append(run_once(v1, v1_env, cwd=b.folder))
            except CommandFailed as exc:
                cold.skipped = f"v1's generator failed: {exc}"
    warm = Line("validate + sync 1,000 machines, warm", absolute=0.3)
    warm.ours = [run_once(b.ours_cmd("sync", "--out", str(ours), infra=b.big), b.env) for _ in range(b.fast)]
    return [cold, warm]


def tui_line(b: Bench) -> Line:
    line = Line("TUI 1,000 machines: start -> first row", floor_name="minimal Textual 1,050-row DataTable", at_most=1.5)
    keep = ("PATH", "HOME", "LANG", "LC_ALL")
    base = {k: os.environ[k] for k in keep if k in os.environ}
    ours_env = base | {k: v for k, v in b.env.items() if k.startswith(("ANKLUME_", "XDG_"))}
    minimal = tui_first_row.minimal_app_command(sys.executable)
    say("TUI start to first row: ours and the minimal Textual table, in tmux")
    with tui_first_row.tmux_server() as tmux:
        for _ in range(b.fast):  # interleaved, so both meet the same load
            line.ours.append(
                tui_first_row.first_row_seconds(tmux, [*b.ours, "--infra", str(b.big)], ours_env, "dom00-m00")
            )
            line.floor.append(tui_first_row.first_row_seconds(tmux, minimal, base, "dom00-m00"))
    return line


@contextlib.contextmanager
def throwaway(folder: Path) -> Iterator[ThrowawayIncus | None]:
    if not incus_installed() or os.geteuid() != 0:
        yield None
        return
    daemon = ThrowawayIncus().start()
    try:
        with daemon.nft_inside(folder / "nft"):
            yield daemon
    finally:
        daemon.stop()


def daemon_lines(b: Bench) -> list[Line]:
    """Apply from nothing, then status / no-op apply / incus list on what it made, then the CLI loop, then v2."""
    daemon = b.daemon
    assert daemon is not None
    env = b.env | {k: os.environ[k] for k in ("ANKLUME_NFT_NETNS", "ANKLUME_NFT_PERSIST_DIR") if k in os.environ}
    apply = b.ours_cmd("apply", "--no-provision", "--yes")
    fresh = Line("apply of the 30 from nothing", floor_name="serial incus CLI loop, same end state", faster=1.8)
    say("apply of 3 x 10 from nothing: ours")
    fresh.ours = repeat(lambda: run_once(apply, env), b.slow, before=daemon.reset)
    assert running(daemon) == DOMAINS * PER_DOMAIN, f"our apply left {running(daemon)} machines running"
    status = Line("status --json", floor_name="incus list --all-projects -f json", at_most=2.0)
    noop = Line("no-op apply --no-provision --yes", floor_name="incus list --all-projects -f json", at_most=2.5)
    listing = b.incus_cmd("list", "--all-projects", "-f", "json")
    say("status --json, no-op apply, incus list")
    for _ in range(b.fast):  # interleaved, so the three meet the same load
        status.ours.append(run_once(b.ours_cmd("status", "--json"), env))
        noop.ours.append(run_once(apply, env))
        status.floor.append(run_once(listing, daemon.env))
    noop.floor = status.floor
    projects = [f"d{d}" for d in range(DOMAINS)]
    commands = incus_cli_loop.loop_commands(daemon, projects)
    say(f"the serial incus CLI loop ({len(commands)} commands)")
    fresh.floor = repeat(lambda: incus_cli_loop.run_loop(daemon, commands), b.slow, before=daemon.reset)
    plan = subprocess.run(b.ours_cmd("plan", "--json"), env=env, capture_output=True, text=True)
    planned = json.loads(plan.stdout) if plan.returncode == 0 else None
    left = None
    if planned is not None:  # the loop writes no context files (SPEC §5.6), which our apply writes: not compared
        left = [a for a in planned["actions"] if not incus_cli_loop.only_context_files(a, planned["drift"])]
    if left is None or left:
        found = f"{len(left)} action(s)" if left else f"exit {plan.returncode}: {plan.stderr.strip()[-200:]}"
        fresh.skipped = f"the CLI loop's end state is not ours: our plan after it finds {found}"
    v2_status, v2_noop, v2_fresh = v2_lines(b, status, noop, fresh)
    return [status, v2_status, noop, v2_noop, fresh, v2_fresh]


def v2_lines(b: Bench, status: Line, noop: Line, fresh: Line) -> list[Line]:
    """v2's status, second apply and apply from nothing, on the same daemon (emptied first)."""
    lines = [
        Line("status --json", status.ours, "AnKLuMe v2 status", faster=2.0),
        Line("no-op apply --no-provision --yes", noop.ours, "AnKLuMe v2 second apply", faster=10.0),
        Line("apply of the 30 from nothing", fresh.ours, "AnKLuMe v2 apply all --no-provision", faster=3.3),
    ]
    a, daemon = b.anchors, b.daemon
    assert daemon is not None
    if a.v2_src is None:
        for line in lines:
            line.skipped = a.v2_missing
        return lines
    say("AnKLuMe v2: apply from nothing, status, second apply")
    project = anchors_.write_v2_project(b.folder / "v2-project", DOMAINS, PER_DOMAIN)
    env = anchors_.guarded_env(daemon.env, daemon.incus_dir, b.folder / "bin", b.folder / "v2-home")
    (b.folder / "v2-home").mkdir(exist_ok=True)
    env.update(ANKLUME_INFRA_DIR=str(project), PYTHONPATH=str(a.v2_src))

    def v2(*args: str) -> float:
        return run_once(anchors_.in_netns(daemon.pid, anchors_.v2_command(a, *args)), env, cwd=project)

    try:
        lines[2].floor = repeat(lambda: v2("apply", "all", "--no-provision"), b.slow, before=daemon.reset)
        if running(daemon) != DOMAINS * PER_DOMAIN:
            raise CommandFailed(f"its apply left {running(daemon)} of {DOMAINS * PER_DOMAIN} machines running")
        lines[0].floor = repeat(lambda: v2("status"), b.fast)
        lines[1].floor = repeat(lambda: v2("apply", "all", "--no-provision"), b.slow)
    except CommandFailed as exc:
        for line in lines:
            line.skipped = line.skipped or f"v2 failed: {exc}"
    return lines


def say(what: str) -> None:
    print(f"  measuring {what} ...", file=sys.stderr, flush=True)


def running(daemon: ThrowawayIncus) -> int:
    return sum(i["status"] == "Running" for i in daemon.query("/1.0/instances?recursion=1&all-projects=true"))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 runs of the quick commands, 1 of the applies")
    parser.add_argument("--anklume-src", default=os.environ.get("ANKLUME_V2_SRC"), help="AnKLuMe's git directory")
    args = parser.parse_args(argv)
    anchors = anchors_.prepare(args.anklume_src)
    SCRATCH.mkdir(exist_ok=True)
    # Ours run with their bytecode compiled, as a user's install has it (pip compiles it): a checkout run under
    # PYTHONDONTWRITEBYTECODE=1, or freshly cloned, compiles every changed module again in each measured process
    # (status --json compiling all of them: 2,120 M instructions instead of 1,665 M).
    compileall.compile_dir(ROOT / "anklume_tui", quiet=1)
    print(f"whole processes, wall clock ({os.cpu_count()} CPUs){' --quick' if args.quick else ''}")
    print(f"  {anchors.describe()}")
    with tempfile.TemporaryDirectory(dir=SCRATCH) as tmp, throwaway(Path(tmp)) as daemon:
        bench = Bench(Path(tmp), daemon, anchors, args.quick)
        lines = [*sync_lines(bench), tui_line(bench)]  # first, while the daemon holds nothing
        if daemon is None:
            print("  the Incus lines are skipped: they need root and incusd (scripts/install-incus.sh)")
        else:
            lines[:0] = daemon_lines(bench)
    print_table(lines)


if __name__ == "__main__":
    main(sys.argv[1:])
