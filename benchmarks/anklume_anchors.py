"""AnKLuMe v1 and v2, the tools anklume-tui replaces, as anchors for the whole-process benchmark.

Given the git directory of the public jmchantrein/AnKLuMe repository (`--anklume-src PATH` or $ANKLUME_V2_SRC),
its v2 (HEAD) and v1's generator (`scripts/generate.py` with its `scripts/psot/` at commit 737394f) are exported
with `git archive` into the cache ($ANKLUME_BENCH_CACHE, default ~/.cache/anklume-bench), and v2's declared
dependencies are installed from the package index into a venv there. None of their code is kept in this repository.

v2 drives Incus through the `incus` CLI it finds on PATH, with the environment it inherits. It is run with
INCUS_DIR and INCUS_CONF of the throwaway daemon, inside the daemon's network namespace (its `nft -f` lands
there, and no remote is reachable), with a PATH whose first `incus` refuses to run unless INCUS_DIR is the
throwaway daemon's. When any of that cannot be set up, each anchor is skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

V1_COMMIT = "737394f"
V1_PATHS = ("scripts/generate.py", "scripts/psot")
CACHE = Path(os.environ.get("ANKLUME_BENCH_CACHE", "~/.cache/anklume-bench")).expanduser()

INCUS_GUARD = """\
#!/bin/sh
# Only the benchmark's throwaway daemon: any other INCUS_DIR (or none) is refused.
[ "$INCUS_DIR" = "{incus_dir}" ] || {{ echo "benchmark guard: INCUS_DIR is not the throwaway daemon's" >&2; exit 97; }}
exec {incus} "$@"
"""


@dataclass
class Anchors:
    """Where v1's generator and v2 are, and why either is missing."""

    v1_script: Path | None = None
    v2_src: Path | None = None
    python: Path | None = None
    v1_missing: str = ""
    v2_missing: str = ""
    v2_commit: str = ""

    def describe(self) -> str:
        v1 = f"v1's scripts/generate.py at {V1_COMMIT}" if self.v1_script else f"v1 skipped ({self.v1_missing})"
        v2 = f"v2 at {self.v2_commit[:12]}" if self.v2_src else f"v2 skipped ({self.v2_missing})"
        return f"AnKLuMe anchors: {v1}; {v2}"


def git(git_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", f"--git-dir={git_dir}", *args], capture_output=True, text=True, timeout=300)


def export(git_dir: Path, commit: str, paths: tuple[str, ...], into: Path) -> None:
    """`git archive` of `paths` at `commit` into `into` (once per commit)."""
    if (into / ".complete").exists():
        return
    shutil.rmtree(into, ignore_errors=True)
    into.mkdir(parents=True)
    archive = subprocess.run(
        ["git", f"--git-dir={git_dir}", "archive", "--format=tar", commit, *paths], capture_output=True, timeout=300
    )
    if archive.returncode != 0:
        raise RuntimeError(f"git archive {commit} failed: {archive.stderr.decode(errors='replace').strip()}")
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    (into / ".complete").write_text(commit)


def v2_venv(src: Path) -> Path:
    """A venv holding v2's dependencies (read from its pyproject), made once per set of them."""
    # v2 imports `packaging` on every apply without declaring it (its dev tools bring it along)
    declared = [*tomllib.loads((src / "pyproject.toml").read_text())["project"]["dependencies"], "packaging"]
    venv = CACHE / "v2-venv"
    stamp = venv / "anchor-dependencies"
    python = venv / "bin" / "python"
    if stamp.exists() and stamp.read_text() == "\n".join(declared) and python.exists():
        return python
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=300)
    pip = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *declared],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if pip.returncode != 0:
        raise RuntimeError(f"pip install {' '.join(declared)} failed: {pip.stderr.strip()[-300:]}")
    stamp.write_text("\n".join(declared))
    return python


def prepare(git_dir: str | None) -> Anchors:
    """Export v1's generator and v2, and make v2's venv; the reasons when not."""
    if not git_dir:
        why = "no AnKLuMe source given (--anklume-src PATH or ANKLUME_V2_SRC: a clone of jmchantrein/AnKLuMe)"
        return Anchors(v1_missing=why, v2_missing=why)
    path = Path(git_dir).expanduser()
    if (path / ".git").exists():
        path = path / ".git"
    head = git(path, "rev-parse", "HEAD")
    if head.returncode != 0:
        why = f"{git_dir} is not a git directory: {head.stderr.strip()}"
        return Anchors(v1_missing=why, v2_missing=why)
    anchors = Anchors()
    try:
        v1 = CACHE / f"v1-{V1_COMMIT}"
        export(path, V1_COMMIT, V1_PATHS, v1)
        anchors.v1_script = v1 / "scripts" / "generate.py"
    except (RuntimeError, subprocess.SubprocessError, OSError) as exc:
        anchors.v1_missing = f"v1 at {V1_COMMIT}: {exc}"
    commit = anchors.v2_commit = head.stdout.strip()
    try:
        v2 = CACHE / f"v2-{commit[:12]}"
        export(path, commit, ("pyproject.toml", "src"), v2)
        anchors.python = v2_venv(v2)
        anchors.v2_src = v2 / "src"
        guard_problem = v2_incus_problem(anchors.v2_src)
        if guard_problem:
            anchors.v2_missing, anchors.v2_src = guard_problem, None
    except (RuntimeError, subprocess.SubprocessError, OSError, KeyError, tomllib.TOMLDecodeError) as exc:
        anchors.v2_missing = f"v2 at {commit[:12]}: {exc}"
    if anchors.v1_script and anchors.python is None:
        anchors.python = Path(sys.executable)  # v1's generator needs only PyYAML, which our venv has too
    return anchors


def v2_incus_problem(src: Path) -> str:
    """Why v2 might reach another Incus than the one its environment names, or ''."""
    driver = src / "anklume" / "engine" / "incus_driver.py"
    if not driver.exists():
        return f"v2's Incus driver is not where expected ({driver}): cannot check how it finds Incus"
    text = driver.read_text()
    if "env=" in text or "INCUS_DIR" in text or "unix.socket" in text:
        return "v2's Incus driver sets its own environment or socket: it might not target the throwaway daemon"
    if 'cmd = ["incus", *args]' not in text:
        return "v2's Incus driver no longer runs `incus` from PATH as expected: the guard might not stand in front"
    return ""


def guarded_env(base: dict[str, str], incus_dir: Path, bin_dir: Path, home: Path) -> dict[str, str]:
    """The throwaway daemon's CLI environment, with the guarding `incus` first on PATH."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    guard = bin_dir / "incus"
    guard.write_text(INCUS_GUARD.format(incus_dir=incus_dir, incus=shutil.which("incus") or "/usr/bin/incus"))
    guard.chmod(0o755)
    env = dict(base)
    env.update(PATH=f"{bin_dir}:{base.get('PATH', '/usr/bin:/bin')}", HOME=str(home), LANG="C.UTF-8")
    return env


def in_netns(pid: int, cmd: list[str]) -> list[str]:
    return ["nsenter", f"--net=/proc/{pid}/ns/net", "--", *cmd]


def v2_command(anchors: Anchors, *args: str) -> list[str]:
    """v2's console script (`anklume = anklume.cli:app`), run from its source with its venv."""
    assert anchors.python and anchors.v2_src
    return [str(anchors.python), "-c", "import sys; from anklume.cli import app; sys.exit(app())", *args]


def write_v2_project(folder: Path, domains: int, per_domain: int, image: str = "busybox") -> Path:
    """v2's project (anklume.yml + domains/<name>.yml) declaring the same machines as tests' many_machines:
    domain d<i> holds d<i>-m<NN> (v2 names an instance <domain>-<machine>)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "anklume.yml").write_text(f"schema_version: 1\ndefaults:\n  os_image: {image}\n")
    (folder / "domains").mkdir(exist_ok=True)
    for d in range(domains):
        lines = [f"description: domain d{d}", "machines:"]
        for m in range(per_domain):
            lines += [f"  m{m:02d}:", f"    description: machine {m} of d{d}"]
        (folder / "domains" / f"d{d}.yml").write_text("\n".join(lines) + "\n")
    return folder
