"""Backups under faults: a full disk, corrupt and truncated archives, a wrong recipient, a missing project.
Each gives one clear line naming what failed, and leaves nothing behind (files, server-side backups,
half-imported instances)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.engine.apply_helpers import batch, instances
from tests.engine.backup_helpers import (
    KEEP,
    backup_json,
    delete_instance,
    gpg_key_fixture,  # noqa: F401 - the gpg_key fixture
    server_backups,
    volumes,
)
from tests.engine.lifecycle_helpers import applied

pytestmark = pytest.mark.incus


@pytest.fixture
def small_disk(tmp_path):
    """A 512 KiB tmpfs: smaller than any busybox instance's export (about 1 MB)."""
    mount = tmp_path / "small"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(mount)], check=True)
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


def _backup_then_delete(incusd, tmp_path) -> tuple[Path, Path]:
    """An applied domain, a backup of work-a, and work-a deleted: the infra and the backup folder."""
    infra = applied(incusd, tmp_path, KEEP)
    report = backup_json(incusd, tmp_path, infra, "work-a", "--dir", str(tmp_path / "bk"))
    delete_instance(incusd, "work", "work-a")
    return infra, tmp_path / "bk" / report["path"].rsplit("/", 1)[-1]


def _nothing_restored(incusd) -> None:
    assert ("work", "work-a") not in instances(incusd)
    assert volumes(incusd, "work") == ["work-b"]


def test_full_disk_keeps_no_partial_file_and_no_server_backup(incusd, tmp_path, small_disk):
    infra = applied(incusd, tmp_path, KEEP)
    result = batch(incusd, tmp_path, "backup", infra, "work-a", "--dir", str(small_disk), "--json")
    assert result.returncode == 1
    assert "No space left on device" in result.stderr and str(small_disk) in result.stderr
    assert "nothing was kept" in result.stderr and "Traceback" not in result.stderr
    assert json.loads(result.stdout)["path"] is None
    assert list(small_disk.iterdir()) == []
    assert server_backups(incusd, "work", "work-a") == []


def test_full_disk_while_encrypting_keeps_nothing_either(incusd, tmp_path, small_disk, gpg_key):
    infra = applied(incusd, tmp_path, KEEP)
    result = batch(incusd, tmp_path, "backup", infra, "work-a", "--dir", str(small_disk), "--recipient", gpg_key)
    assert result.returncode == 1
    assert f"cannot write the backup of work/work-a in {small_disk}: gpg could not encrypt" in result.stderr
    assert "No space left on device" in result.stderr and "nothing was kept" in result.stderr
    assert "Traceback" not in result.stderr
    assert list(small_disk.iterdir()) == []
    assert server_backups(incusd, "work", "work-a") == []


def test_truncated_archive_is_refused_naming_it_and_nothing_is_created(incusd, tmp_path):
    infra, run = _backup_then_delete(incusd, tmp_path)
    data = (run / "work" / "work-a.tar.gz").read_bytes()
    truncated = tmp_path / "work-a.tar.gz"  # outside the folder: no manifest to compare with
    for kept in (len(data) * 2 // 3, len(data) - 8):  # cut in the middle, or only the gzip trailer
        truncated.write_bytes(data[:kept])
        result = batch(incusd, tmp_path, "restore-backup", infra, str(truncated))
        assert result.returncode == 1
        assert f"{truncated}: not a readable Incus backup, truncated or corrupt" in result.stderr
        assert "Traceback" not in result.stderr
        _nothing_restored(incusd)

    garbage = tmp_path / "garbage.tar.gz"
    garbage.write_bytes(b"not a tarball at all\n" * 100)
    result = batch(incusd, tmp_path, "restore-backup", infra, str(garbage))
    assert result.returncode == 1 and str(garbage) in result.stderr and "Traceback" not in result.stderr
    _nothing_restored(incusd)


def test_archive_differing_from_its_manifest_is_refused(incusd, tmp_path):
    infra, run = _backup_then_delete(incusd, tmp_path)
    archive = run / "work" / "work-a.tar.gz"
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0xFF
    archive.write_bytes(bytes(data))
    result = batch(incusd, tmp_path, "restore-backup", infra, str(run), "--json")
    assert result.returncode == 1
    assert f"{archive}: checksum differs from the backup's manifest" in result.stderr
    assert json.loads(result.stdout)["restored"] == []
    _nothing_restored(incusd)


def test_restore_into_a_missing_project_says_to_apply_first(incusd, tmp_path):
    infra, run = _backup_then_delete(incusd, tmp_path)
    result = batch(incusd, tmp_path, "restore-backup", infra, str(run), "--project", "gone")
    assert result.returncode == 1
    assert "project 'gone' does not exist in Incus: apply the infra first" in result.stderr
    _nothing_restored(incusd)
