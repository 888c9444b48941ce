"""sync keeps an infra's check in the state folder (issue 17): a run on the same infra, host and code reads it back,
and anything that changes the result (one character of the infra, the host context) is checked afresh; the
generated tree is still compared file by file, so an edited generated file is put right as before."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

INFRA = """\
project_name: lab
global:
  addressing: {}
domains:
  work:
    trust_level: trusted
    machines:
      work-dev:
        description: first
      work-db: {}
"""


def sync(tmp_path: Path, out: Path, *extra: str, context: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(
        os.environ,
        ANKLUME_SKIP_HOST_SUBNET_CHECK="1",
        ANKLUME_CONTEXT_DIR=str(context or tmp_path / "no-context"),
        ANKLUME_INCUS="unix:///nonexistent/unix.socket",
        XDG_STATE_HOME=str(tmp_path / "state"),
    )
    env.pop("ANKLUME_INFRA", None)
    args = [sys.executable, "-m", "anklume_tui", "--batch", "sync", "--infra", str(tmp_path / "infra.yml")]
    done = subprocess.run([*args, "--out", str(out), *extra], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    return done


def entries(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "state" / "anklume" / "psot-cache").glob("*.json"))


def test_a_kept_check_is_read_back_for_the_same_infra(tmp_path):
    (tmp_path / "infra.yml").write_text(INFRA)
    sync(tmp_path, tmp_path / "one")
    [entry] = entries(tmp_path)
    assert entry.stat().st_mode & 0o777 == 0o600 and entry.parent.stat().st_mode & 0o777 == 0o700
    # A note planted in the kept result comes out of the next run: the check was read back, not made again.
    key, body = entry.read_bytes().split(b"\n", 1)
    kept = json.loads(body)
    kept["findings"].append(["N0", "info", "planted note", None, None, None])
    entry.write_bytes(key + b"\n" + json.dumps(kept).encode())
    second = sync(tmp_path, tmp_path / "two")
    assert "planted note" in second.stderr
    assert (tmp_path / "two" / "host_vars" / "work-dev.yml").read_text() == (
        tmp_path / "one" / "host_vars" / "work-dev.yml"
    ).read_text()


def test_one_character_changed_in_the_infra_is_checked_afresh(tmp_path):
    (tmp_path / "infra.yml").write_text(INFRA)
    out = tmp_path / "out"
    sync(tmp_path, out)
    sync(tmp_path, out)
    (tmp_path / "infra.yml").write_text(INFRA.replace("first", "firsT"))
    done = sync(tmp_path, out, "--json")
    assert json.loads(done.stdout)["written"] == ["host_vars/work-dev.yml"]
    assert "instance_description: firsT" in (out / "host_vars" / "work-dev.yml").read_text()


def test_another_host_context_is_checked_afresh(tmp_path):
    (tmp_path / "infra.yml").write_text(INFRA)
    out = tmp_path / "out"
    sync(tmp_path, out)
    context = tmp_path / "context"
    context.mkdir()
    (context / "absolute_level").write_text("1\n")
    sync(tmp_path, out, context=context)
    assert "instance_name: 001-work-dev" in (out / "host_vars" / "work-dev.yml").read_text()


def test_an_edited_generated_file_is_put_right_after_a_kept_check(tmp_path):
    (tmp_path / "infra.yml").write_text(INFRA)
    out = tmp_path / "out"
    sync(tmp_path, out)
    sync(tmp_path, out)
    generated = out / "host_vars" / "work-dev.yml"
    before = generated.read_text()
    generated.write_text(before.replace("first", "edited") + "my_own: 1\n")
    done = sync(tmp_path, out, "--json")
    assert json.loads(done.stdout)["written"] == ["host_vars/work-dev.yml"]
    assert generated.read_text() == before + "my_own: 1\n"


def test_a_corrupt_kept_check_is_ignored(tmp_path):
    (tmp_path / "infra.yml").write_text(INFRA)
    sync(tmp_path, tmp_path / "one")
    [entry] = entries(tmp_path)
    key = entry.read_bytes().split(b"\n", 1)[0]
    for body in (b"{not json", b'{"findings": 3}', b'{"display": "x", "findings": [], "files": {"a": 1}}'):
        entry.write_bytes(key + b"\n" + body)
        out = tmp_path / f"out{len(body)}"
        sync(tmp_path, out)
        assert (out / "host_vars" / "work-db.yml").read_text() == (
            tmp_path / "one" / "host_vars" / "work-db.yml"
        ).read_text()
