"""The whole-process benchmark runs AnKLuMe v2, which drives Incus through whatever `incus` its PATH finds: the guard
put first on that PATH lets a call through only with the throwaway daemon's INCUS_DIR, and an anchor whose
source is missing, or whose driver would pick its own environment, is skipped with the reason."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

import anklume_anchors  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which("incus") is None, reason="needs the incus CLI")


def test_guard_refuses_any_incus_dir_but_the_throwaway_daemons(tmp_path: Path) -> None:
    throwaway = tmp_path / "daemon" / "incus"
    env = anklume_anchors.guarded_env({"PATH": "/usr/bin:/bin"}, throwaway, tmp_path / "bin", tmp_path)
    for other in ({"INCUS_DIR": "/var/lib/incus"}, {}):
        refused = subprocess.run(["incus", "list"], env=env | other, capture_output=True, text=True)
        assert refused.returncode == 97, refused.stderr
        assert "not the throwaway daemon's" in refused.stderr
    allowed = subprocess.run(["incus", "--version"], env=env | {"INCUS_DIR": str(throwaway)}, capture_output=True)
    assert allowed.returncode == 0


def test_a_driver_choosing_its_own_environment_or_binary_is_not_run(tmp_path: Path) -> None:
    driver = tmp_path / "anklume" / "engine" / "incus_driver.py"
    driver.parent.mkdir(parents=True)
    driver.write_text('cmd = ["incus", *args]\nsubprocess.run(cmd, capture_output=True)\n')
    assert anklume_anchors.v2_incus_problem(tmp_path) == ""
    driver.write_text('cmd = ["incus", *args]\nsubprocess.run(cmd, env={"INCUS_DIR": "/var/lib/incus"})\n')
    assert "own environment" in anklume_anchors.v2_incus_problem(tmp_path)
    driver.write_text('cmd = ["/usr/bin/incus", *args]\nsubprocess.run(cmd)\n')
    assert "from PATH" in anklume_anchors.v2_incus_problem(tmp_path)


def test_missing_source_skips_both_anchors_with_the_reason(tmp_path: Path) -> None:
    none = anklume_anchors.prepare(None)
    assert none.v1_script is None and none.v2_src is None
    assert "--anklume-src" in none.v1_missing and "--anklume-src" in none.v2_missing
    wrong = anklume_anchors.prepare(str(tmp_path))
    assert wrong.v2_src is None and "not a git directory" in wrong.v2_missing
