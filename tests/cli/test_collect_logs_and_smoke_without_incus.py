"""collect-logs and smoke when Incus does not answer, and collect-logs' archive: Incus unreachable is said once
with exit 3 (not as every machine or check failing, exit 1) and leaves no archive; an existing file is never
written over (exit 4, its bytes kept); the archive appears whole, private to the user, with no temp file."""

from __future__ import annotations

import errno
import os
import tarfile

import pytest

from tests.cli.no_incus_helpers import INFRA, NO_INCUS, batch_main, infra_here


@pytest.fixture
def infra(tmp_path, monkeypatch):
    return infra_here(tmp_path, monkeypatch)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    return batch_main(capsys, *argv, *NO_INCUS)


def test_collect_logs_with_incus_unreachable_exits_3_and_leaves_no_archive(capsys, infra, tmp_path):
    code, out, err = run(capsys, "collect-logs", "--infra", str(infra), "--out", str(tmp_path / "logs.tar.gz"))
    assert code == 3 and "Incus unreachable" in err, (code, out, err)
    assert not [p.name for p in tmp_path.iterdir() if "logs" in p.name]  # neither the archive nor its temp


def test_collect_logs_never_writes_over_an_existing_file(capsys, infra):
    before = infra.read_bytes()
    code, _, err = run(capsys, "collect-logs", "--infra", str(infra), "--out", str(infra))
    assert code == 4 and "exists: collect-logs never writes over a file" in err, err
    assert infra.read_bytes() == before


def test_collect_logs_archive_is_private_and_whole(capsys, infra, tmp_path):
    archive = tmp_path / "whole.tar.gz"
    # Every domain disabled: no machine is asked for, the archive holds the host's files only (none here).
    infra.write_text(INFRA.replace("  lab:\n", "  lab:\n    enabled: false\n"))
    code, out, err = run(capsys, "collect-logs", "--infra", str(infra), "--out", str(archive))
    assert code == 0, (out, err)
    assert archive.stat().st_mode & 0o777 == 0o600
    with tarfile.open(archive) as tar:
        assert tar.getnames() == []
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_smoke_with_incus_unreachable_exits_3_not_every_check_failing(capsys, infra):
    code, out, err = run(capsys, "smoke", "--infra", str(infra))
    assert code == 3 and "Incus unreachable" in err, (code, out, err)
    assert "FAIL" not in out


def test_collect_logs_writes_its_archive_where_hard_links_are_refused(capsys, infra, tmp_path, monkeypatch):
    def no_links(*args, **kwargs):  # fault injection: a vfat stick refuses hard links
        raise PermissionError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    infra.write_text(INFRA.replace("  lab:\n", "  lab:\n    enabled: false\n"))
    archive = tmp_path / "stick.tar.gz"
    code, out, err = run(capsys, "collect-logs", "--infra", str(infra), "--out", str(archive))
    assert code == 0, (out, err)
    assert tarfile.is_tarfile(archive) and not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
