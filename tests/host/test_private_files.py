"""The state folder is private to its user (folders 0700, files 0600 whatever the umask), and atomic writes keep
a symlink and reach the disk with their folder."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from types import SimpleNamespace

import pytest

from anklume_tui.engine.host import paths, telemetry
from anklume_tui.engine.host.apply_lock import ApplyLock, Journal
from anklume_tui.engine.incus.client import Network
from anklume_tui.engine.isolation import ai_access
from anklume_tui.engine.provision import runner
from anklume_tui.engine.reconcile import pre_apply, pre_apply_pending
from anklume_tui.engine.reconcile.network_backup import save_networks
from anklume_tui.psot import generate
from anklume_tui.psot.generate import write_atomic


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.fixture
def state(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    return paths.state_dir()


def modes(top: Path) -> dict[str, str]:
    found = {".": oct(stat.S_IMODE(top.stat().st_mode))}
    for path in top.rglob("*"):
        found[str(path.relative_to(top))] = oct(stat.S_IMODE(path.lstat().st_mode))
    return found


def test_the_state_folder_and_every_file_written_in_it_are_private_under_umask_022(state, tmp_path, umask_022):
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    (artifacts / "stdout").write_text("TASK [base_system] ok\n")
    with ApplyLock(state):
        Journal(state, "a1").write("started")
    bridge = Network(name="net-lab", type="bridge", config={"ipv4.address": "10.1.0.1/24"})
    save_networks({"net-lab": bridge}, state, "a1")
    pre_apply.record(state, "pre-apply-20250101-000000", "all")
    telemetry.enable_telemetry()
    telemetry.record("apply", None, 1.0, 0)
    assert runner._keep_log(SimpleNamespace(config=SimpleNamespace(artifact_dir=str(artifacts)))) is not None
    ai_access._log(None, "lab", [])
    pre_apply_pending.remember(state, "change", [("lab", "lab-a")])
    found = modes(state)
    assert {"apply.lock", "apply-journal.jsonl", "provision-last.log", "ai-switch.log"} <= found.keys()
    assert {"network-backups/a1.json", "pre-apply-snapshots/history", "telemetry/usage.jsonl"} <= found.keys()
    folders = {name for name in found if (state / name).is_dir()}
    assert {name: found[name] for name in folders} == dict.fromkeys(folders, "0o700")
    assert {name: mode for name, mode in found.items() if name not in folders} == dict.fromkeys(
        found.keys() - folders, "0o600"
    )


def test_a_state_folder_and_files_left_readable_by_others_are_tightened_when_next_written(state, umask_022):
    state.mkdir(parents=True, mode=0o755)
    state.chmod(0o755)
    journal = state / "apply-journal.jsonl"
    journal.write_text("{}\n")
    journal.chmod(0o644)
    (state / "pre-apply-snapshots").mkdir(mode=0o755)
    history = state / "pre-apply-snapshots" / "history"
    history.write_text("pre-apply-20240101-000000\n")
    history.chmod(0o644)
    Journal(state, "a2").write("started")
    pre_apply.record(state, "pre-apply-20250101-000000", "all")
    found = modes(state)
    assert (found["."], found["pre-apply-snapshots"]) == ("0o700", "0o700")
    assert (found["apply-journal.jsonl"], found["pre-apply-snapshots/history"]) == ("0o600", "0o600")


def test_write_atomic_through_a_symlink_replaces_the_target_and_keeps_the_link(tmp_path):
    real = tmp_path / "real" / "infra.yml"
    real.parent.mkdir()
    real.write_text("old\n")
    real.chmod(0o640)
    link = tmp_path / "infra.yml"
    link.symlink_to(real)
    write_atomic(link, "new\n")
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text() == "new\n" and stat.S_IMODE(real.stat().st_mode) == 0o640
    assert sorted(p.name for p in real.parent.iterdir()) == ["infra.yml"]  # the temp file was beside the target


def test_write_atomic_syncs_the_folder_once_the_file_is_in_place(tmp_path, monkeypatch):
    path = tmp_path / "f.yml"
    path.write_text("old\n")
    synced: list[tuple[str, str]] = []
    real_fsync = os.fsync

    def spy(fd: int) -> None:
        kind = "folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file"
        synced.append((kind, path.read_text()))
        real_fsync(fd)

    monkeypatch.setattr(generate.os, "fsync", spy)
    write_atomic(path, "new\n")
    assert synced == [("file", "old\n"), ("folder", "new\n")]


def test_write_atomic_with_a_mode_gives_it_whatever_the_umask(tmp_path, umask_022):
    path = tmp_path / "holder"
    path.write_text("old\n")
    path.chmod(0o644)
    write_atomic(path, "new\n", mode=0o600)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
