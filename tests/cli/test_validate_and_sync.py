"""`--batch validate` and `--batch sync` as a script sees them: exit codes, output, files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(p for p in (ROOT / "examples").iterdir() if p.is_dir())

GOOD = """\
# my lab
project_name: lab
global:
  addressing: {}
domains:
  work:
    trust_level: trusted
    machines:
      work-dev: {}
"""


def batch(*args: str, cwd: Path | None = None, timeout: float = 20) -> subprocess.CompletedProcess:
    env = dict(os.environ, ANKLUME_SKIP_HOST_SUBNET_CHECK="1", ANKLUME_CONTEXT_DIR="/nonexistent")
    env.pop("ANKLUME_INFRA", None)
    return subprocess.run(
        [sys.executable, "-m", "anklume_tui", "--batch", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=timeout,
    )


def example_infra(example: Path) -> Path:
    return example / "infra" if (example / "infra").is_dir() else example / "infra.yml"


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.name for e in EXAMPLES])
def test_every_example_validates_and_syncs_cleanly(example, tmp_path):
    infra = example_infra(example)
    checked = batch("validate", "--infra", str(infra), "--json")
    report = json.loads(checked.stdout)
    assert checked.returncode == 0 and report["valid"], report["errors"]
    assert report["warnings"] == []
    synced = batch("sync", "--infra", str(infra), "--out", str(tmp_path))
    assert synced.returncode == 0, synced.stderr
    assert (tmp_path / "group_vars" / "all.yml").exists()
    again = batch("sync", "--infra", str(infra), "--out", str(tmp_path), "--json")
    assert json.loads(again.stdout)["written"] == []


def test_example_readme_exists_for_every_example():
    for example in EXAMPLES:
        assert (example / "README.md").stat().st_size > 200, example.name


def test_directory_form_generates_the_same_bytes_as_its_single_file(tmp_path):
    example = ROOT / "examples" / "directory-form"
    batch("sync", "--infra", str(example / "infra"), "--out", str(tmp_path / "dir"))
    batch("sync", "--infra", str(example / "single-file-equivalent.yml"), "--out", str(tmp_path / "file"))
    dir_files = {p.relative_to(tmp_path / "dir"): p.read_bytes() for p in (tmp_path / "dir").rglob("*.yml")}
    file_files = {p.relative_to(tmp_path / "file"): p.read_bytes() for p in (tmp_path / "file").rglob("*.yml")}
    assert dir_files and dir_files == file_files


ONE_MACHINE = b"project_name: x\nglobal: {}\ndomains:\n  a:\n    subnet_id: 1\n    machines:\n      a-m:\n        "
BAD_INPUTS = {
    "empty": b"",
    "binary": bytes(range(256)) * 4,
    "non-utf8": b"project_name: caf\xe9\n",
    "alias-bomb": (
        b'a: &a ["x","x","x","x","x","x","x","x","x"]\n'
        + b"".join(f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]\n".encode() for i in range(8))
    ),
    "deep-nesting": b"project_name: " + b"[" * 10000 + b"]" * 10000 + b"\n",
    "list-for-mapping": b"project_name: x\nglobal: []\ndomains:\n  - a\n",
    "tabs": b"project_name: x\nglobal: {}\ndomains:\n\twork: {}\n",
    "duplicate-keys": b"project_name: x\nglobal: {}\nglobal: {}\ndomains: {}\n",
    "integer-ip": ONE_MACHINE + b"ip: 167772161\n",
    "out-of-range-ip": ONE_MACHINE + b"ip: 10.100.1.300\n",
    "huge": b"project_name: x\nglobal:\n"
    + b"".join(b"  k%d: padding padding padding padding\n" % i for i in range(140_000)),
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_input_is_a_clear_error_exit_2_no_traceback_nothing_written(name, tmp_path):
    infra = tmp_path / "infra.yml"
    infra.write_bytes(BAD_INPUTS[name])
    for verb in ("validate", "sync"):
        start = time.perf_counter()
        result = batch(verb, "--infra", str(infra))
        assert time.perf_counter() - start < 60, f"{verb} hangs"  # a guard; speed is benchmarks/ business
        assert result.returncode == 2, (verb, result.stdout, result.stderr)
        output = result.stdout + result.stderr
        assert "Traceback" not in output
        assert "error[" in output and str(infra) in output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["infra.yml"]


def test_missing_path_directory_without_base_and_symlink_loop_exit_2(tmp_path):
    (tmp_path / "empty-dir").mkdir()
    os.symlink(tmp_path / "loop-b", tmp_path / "loop-a")
    os.symlink(tmp_path / "loop-a", tmp_path / "loop-b")
    for target, rule in [("nothere.yml", "L1"), ("empty-dir", "L2"), ("loop-a", "L1")]:
        result = batch("validate", "--infra", str(tmp_path / target))
        assert result.returncode == 2 and f"error[{rule}]" in result.stdout, result.stdout + result.stderr


def test_errors_are_rendered_file_line_column_rule(tmp_path):
    infra = tmp_path / "infra.yml"
    infra.write_text(GOOD.replace("trust_level: trusted", "trust_level: trustworthy"))
    result = batch("validate", "--infra", str(infra))
    assert result.returncode == 2
    assert f"{infra}:7:18: error[D8]:" in result.stdout


def test_validate_json_has_the_contract_shape(tmp_path):
    infra = tmp_path / "infra.yml"
    infra.write_text(GOOD.replace("work-dev: {}", "work-dev: {tpye: lxc}"))
    report = json.loads(batch("validate", "--infra", str(infra), "--json").stdout)
    assert report["schema_version"] == 1 and report["valid"] is True
    (warning,) = report["warnings"]
    assert warning["rule"] == "W7" and "type" in warning["message"]
    assert set(warning) == {"rule", "message", "file", "line", "column"} and warning["line"] == 9


def test_sync_keeps_hand_written_text_and_is_byte_identical_the_second_time(tmp_path):
    (tmp_path / "infra.yml").write_text(GOOD)
    assert batch("sync", cwd=tmp_path).returncode == 0
    host = tmp_path / "host_vars" / "work-dev.yml"
    host.write_text(host.read_text() + "my_var: 42  # mine\n")
    before = {p: p.read_bytes() for p in tmp_path.rglob("*.yml")}
    result = batch("sync", cwd=tmp_path)
    assert result.returncode == 0 and "0 file(s) written" in result.stderr
    assert {p: p.read_bytes() for p in tmp_path.rglob("*.yml")} == before


def test_sync_dry_run_creates_nothing(tmp_path):
    (tmp_path / "infra.yml").write_text(GOOD)
    result = batch("sync", "--dry-run", cwd=tmp_path)
    assert result.returncode == 0 and "Would write" in result.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["infra.yml"]


def test_sync_lists_orphans_and_cleans_only_unprotected_ones(tmp_path):
    (tmp_path / "infra.yml").write_text(GOOD)
    batch("sync", cwd=tmp_path)
    (tmp_path / "host_vars" / "gone.yml").write_text("instance_ephemeral: true\n")
    (tmp_path / "host_vars" / "kept.yml").write_text("instance_ephemeral: false\n")
    listed = batch("sync", cwd=tmp_path)
    assert "ORPHAN:" in listed.stdout and "PROTECTED (ephemeral=false):" in listed.stdout
    cleaned = batch("sync", "--clean-orphans", cwd=tmp_path)
    assert "Deleted:" in cleaned.stdout and "Skipped (protected):" in cleaned.stdout
    assert not (tmp_path / "host_vars" / "gone.yml").exists()
    assert (tmp_path / "host_vars" / "kept.yml").exists()


def test_unknown_verb_is_a_usage_error():
    result = batch("frobnicate")
    assert result.returncode == 2 and "Traceback" not in result.stderr
