"""A sync into the tree the last sync left, under the same check, knows it unchanged from the record of each
file's status (psot/tree_record.py, issue 17); any change to a generated file (its bytes, even with its size
and modification time put back; its removal), an orphan beside them, or another check reads the tree as before."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from anklume_tui.psot import tree_record
from anklume_tui.psot.check_cache import Checked
from anklume_tui.psot.generate import known_names, render_files
from anklume_tui.psot.tree_record import sync_checked
from tests.wait_helpers import wait_until

from .generate_helpers import infra_of, legacy_data

HOST = "host_vars/lab-a.yml"


def checked(key: str = "key 1") -> Checked:
    infra = infra_of(legacy_data())
    domains, machines = known_names(infra)
    return Checked("infra.yml", [], render_files(infra), domains, machines, key=key)


def sync(tmp_path: Path, check: Checked) -> tree_record.TreeSync:
    return sync_checked(tmp_path / "out", check, tmp_path / "records", dry_run=False, clean_orphans=False)


def record(tmp_path: Path) -> dict:
    [entry] = (tmp_path / "records").glob("*.json")
    return json.loads(entry.read_text())


def settled(out: Path, check: Checked) -> bool:
    """Whether every file's last change is far enough in the past that a status taken now proves it."""
    now = time.time_ns()
    return not any(tree_record._recent(tree_record._status(os.lstat(out / r)), now) for r in check.files or {})


def known_tree(tmp_path: Path) -> Checked:
    """A tree written (its files recent: kept with their digests), read once more when their change is a tick
    in the past (kept by status alone since)."""
    check = checked()
    first = sync(tmp_path, check)
    assert first.written == list(check.files or {})
    wait_until(lambda: settled(tmp_path / "out", check), what="the tree's last change a tick in the past")
    second = sync(tmp_path, check)
    assert second.written == [] and second.unchanged == list(check.files or {})
    assert all(digest is None for _, _, digest in record(tmp_path)["files"])
    return check


def test_an_unchanged_tree_is_known_without_reading_a_file(tmp_path, monkeypatch):
    check = known_tree(tmp_path)
    entry = next((tmp_path / "records").glob("*.json"))
    assert entry.stat().st_mode & 0o777 == 0o600 and entry.parent.stat().st_mode & 0o777 == 0o700

    def no_read(*_args, **_kwargs):
        raise AssertionError("a generated file was read")

    monkeypatch.setattr(tree_record, "read_regular_file", no_read)
    monkeypatch.setattr("anklume_tui.psot.generate.sync_files", no_read)
    report = sync(tmp_path, check)
    assert (report.written, report.unchanged, report.orphans) == ([], list(check.files or {}), [])


def test_a_file_edited_with_its_size_and_times_put_back_is_written_again(tmp_path):
    check = known_tree(tmp_path)
    path = tmp_path / "out" / HOST
    before = path.read_text()
    info = path.stat()
    path.write_text(before.replace("instance_name: lab-a", "instance_name: lab-X"))
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))  # only the change time tells
    assert path.stat().st_size == info.st_size and path.stat().st_mtime_ns == info.st_mtime_ns
    report = sync(tmp_path, check)
    assert report.written == [HOST]
    assert path.read_text() == before


def test_a_deleted_file_is_written_again(tmp_path):
    check = known_tree(tmp_path)
    path = tmp_path / "out" / HOST
    before = path.read_text()
    path.unlink()
    assert sync(tmp_path, check).written == [HOST]
    assert path.read_text() == before


def test_an_orphan_beside_an_unchanged_tree_is_reported(tmp_path):
    check = known_tree(tmp_path)
    (tmp_path / "out" / "host_vars" / "gone.yml").write_text("instance_ephemeral: true\n")
    report = sync(tmp_path, check)
    assert report.written == [] and [o.path for o in report.orphans] == ["host_vars/gone.yml"]


def vouch(tmp_path: Path) -> None:
    """Make the record agree with the tree as it is now (as if the last sync had left it so)."""
    kept = record(tmp_path)
    kept["files"] = [[r, tree_record._status(os.lstat(tmp_path / "out" / r)), None] for r, _, _ in kept["files"]]
    next((tmp_path / "records").glob("*.json")).write_text(json.dumps(kept))


def test_another_check_or_other_sections_read_the_tree(tmp_path):
    check = known_tree(tmp_path)
    path = tmp_path / "out" / HOST
    before = path.read_text()
    edited = before.replace("instance_name: lab-a", "instance_name: lab-X")
    path.write_text(edited)
    vouch(tmp_path)
    assert sync(tmp_path, check).written == []  # the same check: the record is believed
    assert sync(tmp_path, checked(key="key 2")).written == [HOST]  # another check: the tree is read
    assert path.read_text() == before
    path.write_text(edited)
    vouch(tmp_path)
    other = checked(key="key 2")
    other.files = {**(other.files or {}), "group_vars/all.yml": "project_name: other\n"}
    assert sorted(sync(tmp_path, other).written) == ["group_vars/all.yml", HOST]


def test_a_file_changed_in_the_tick_its_status_was_taken_is_read(tmp_path):
    """A change in the same clock tick as the status leaves the status as it was: the record's digest of a
    recent file's text catches it."""
    check = checked()
    sync(tmp_path, check)  # every file just written: recent, kept with its digest
    path = tmp_path / "out" / HOST
    before = path.read_text()
    path.write_text(before.replace("instance_name: lab-a", "instance_name: lab-X"))
    kept = record(tmp_path)
    for item in kept["files"]:
        if item[0] == HOST:  # the status as if taken after this change, in the same tick as the write
            item[1] = tree_record._status(os.lstat(path))
            item[2] = tree_record._text_digest(before)
    next((tmp_path / "records").glob("*.json")).write_text(json.dumps(kept))
    assert sync(tmp_path, check).written == [HOST]
    assert path.read_text() == before


def test_a_record_that_does_not_name_each_file_once_is_not_believed(tmp_path):
    check = known_tree(tmp_path)
    path = tmp_path / "out" / HOST
    before = path.read_text()
    entry = next((tmp_path / "records").glob("*.json"))
    for body in ("{not json", "[]", '{"format": 3}'):
        path.write_text(before.replace("instance_name: lab-a", "instance_name: lab-X"))
        entry.write_text(body)
        assert sync(tmp_path, check).written == [HOST]
    path.write_text(before.replace("instance_name: lab-a", "instance_name: lab-X"))
    vouch(tmp_path)
    kept = record(tmp_path)
    other = next(item for item in kept["files"] if item[0] != HOST)
    kept["files"] = [other if item[0] == HOST else item for item in kept["files"]]  # another file twice, no HOST
    entry.write_text(json.dumps(kept))
    assert sync(tmp_path, check).written == [HOST]
    assert path.read_text() == before
