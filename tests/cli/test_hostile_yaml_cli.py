"""Hostile infra files through the real CLI process (issue 15, point 7): exit 2, a located finding, no
traceback, nothing written, and little time and memory.

Each run is measured on its own child (os.wait4's rusage: CPU time and peak RSS of that process only).
The CPU the input costs is the run's CPU less that of the same CLI on a tiny valid infra, measured in the
same session: on a shared, loaded machine the tool's own start varies more than the input's cost. Wall
time is checked as a hang guard (a FIFO read waits forever, /dev/zero never ends).
"""

from __future__ import annotations

import os
import resource
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLI = ROOT / ".venv" / "bin" / "anklume-tui"
HEAD = b"project_name: x\nglobal: {}\ndomains: {}\n"
MAX_RSS_KB = 200 * 1024
MAX_INPUT_CPU = 1.0
HANG_GUARD = 30.0
ADDRESS_SPACE = 2 * 1024**3  # a safety net: without the bounds, /dev/zero is read until memory runs out


@dataclass(frozen=True)
class Run:
    code: int
    output: str
    wall: float
    cpu: float
    rss_kb: int


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def run_cli(*args: str, cwd: Path) -> Run:
    """One CLI process, measured alone; killed after HANG_GUARD seconds."""
    env = dict(os.environ, ANKLUME_SKIP_HOST_SUBNET_CHECK="1", ANKLUME_CONTEXT_DIR="/nonexistent")
    env.pop("ANKLUME_INFRA", None)
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(
            [str(CLI), "--batch", *args], stdout=out, stderr=subprocess.STDOUT, cwd=cwd, env=env, preexec_fn=_limited
        )
        guard = threading.Timer(HANG_GUARD, proc.kill)
        guard.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        guard.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        output = out.read().decode(errors="replace")
    return Run(proc.returncode, output, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss)


@pytest.fixture(scope="module")
def start_cpu(tmp_path_factory) -> float:
    """The CPU time of the CLI validating a tiny valid infra: what every run pays before reading anything."""
    folder = tmp_path_factory.mktemp("tiny")
    (folder / "infra.yml").write_bytes(HEAD)
    runs = [run_cli("validate", "--infra", str(folder / "infra.yml"), cwd=folder) for _ in range(2)]
    assert all(run.code == 0 for run in runs), runs[0].output
    return min(run.cpu for run in runs)


def deep(folder: Path) -> Path:
    path = folder / "infra.yml"
    path.write_bytes(b"project_name: " + b"[" * 50_000 + b"]" * 50_000 + b"\n")  # the 100 KB file
    return path


def two_million_scalars(folder: Path) -> Path:
    path = folder / "infra.yml"  # L3 refuses its size at load, before any rule sees the list (DK1 would)
    path.write_bytes(b"project_name: x\nglobal:\n  desktop: [" + b",".join([b"1"] * 2_000_000) + b"]\ndomains: {}\n")
    return path


def huge(folder: Path) -> Path:
    path = folder / "infra.yml"
    path.write_bytes(HEAD)
    with path.open("r+b") as sparse:
        sparse.truncate(4 * 1024**3)  # 4 GiB of holes: nothing on disk, everything to read
    return path


def fifo(folder: Path) -> Path:
    path = folder / "infra.yml"
    os.mkfifo(path)
    return path


def dev_zero(folder: Path) -> Path:
    return Path("/dev/zero")


def directory_with_a_fifo(folder: Path) -> Path:
    (folder / "infra" / "domains").mkdir(parents=True)
    (folder / "infra" / "base.yml").write_bytes(HEAD)
    os.mkfifo(folder / "infra" / "domains" / "a.yml")
    return folder / "infra"


CASES = {
    "deep-nesting": (deep, "L3", "nesting deeper than 100 levels", "infra.yml:1:"),
    "two-million-scalars": (two_million_scalars, "L3", "more than 100000 YAML nodes", "infra.yml:3:"),
    "huge-file": (huge, "L3", "larger than 8 MiB", "infra.yml:1:1"),
    "fifo": (fifo, "L1", "not a regular file (a FIFO)", "infra.yml:1:1"),
    "dev-zero": (dev_zero, "L1", "not a regular file (a character device)", "/dev/zero:1:1"),
    "directory-form-fifo": (directory_with_a_fifo, "L1", "not a regular file (a FIFO)", "domains/a.yml:1:1"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_infra_is_one_located_finding_exit_2_fast_and_small(case, tmp_path, start_cpu):
    make, rule, message, where = CASES[case]
    infra = make(tmp_path)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))

    run = run_cli("validate", "--infra", str(infra), cwd=tmp_path)

    assert run.code == 2, run.output
    assert "Traceback" not in run.output
    (located,) = [line for line in run.output.splitlines() if f"error[{rule}]" in line]
    assert message in located and where in located.split(": error[")[0], located
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before, "something was written"
    assert run.rss_kb < MAX_RSS_KB, f"{run.rss_kb} KB"
    assert run.cpu - start_cpu < MAX_INPUT_CPU, f"{run.cpu:.2f} s CPU, {start_cpu:.2f} s of it the tool's start"
    assert run.wall < HANG_GUARD


def test_sync_of_a_hostile_infra_writes_nothing(tmp_path):
    infra = deep(tmp_path)
    run = run_cli("sync", "--infra", str(infra), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert run.code == 2 and "Traceback" not in run.output and "error[L3]" in run.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["infra.yml"]
