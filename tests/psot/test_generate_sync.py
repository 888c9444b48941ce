"""Managed sections, atomic writes and the sync of the whole tree (SPEC §7.1, §7.3)."""

from __future__ import annotations

import os

import pytest
import yaml

from anklume_tui.psot import generate
from anklume_tui.psot.generate import merge_managed, render_files, sync_tree, write_atomic

from .generate_helpers import infra_of, legacy_data, zone_data

BODY = "a: 1\nb:\n  - x\n"
BLOCK = (
    "# === MANAGED BY infra.yml ===\n"
    "# Do not edit this section — it will be overwritten on the next sync\n"
    "a: 1\nb:\n  - x\n"
    "# === END MANAGED ==="
)


def test_new_file_layout_is_byte_exact():
    assert merge_managed(None, BODY) == f"---\n{BLOCK}\n\n# Your custom variables below:\n"


def test_replacing_the_block_keeps_every_other_byte():
    existing = (
        "---\n# my comment above\n"
        "# === MANAGED BY infra.yml ===\n# notice edited by hand\nold: 1\n# === END MANAGED ===\n"
        "\ncustom_var: 42\ntrailing without newline"
    )
    assert merge_managed(existing, BODY) == (
        f"---\n# my comment above\n{BLOCK}\n\ncustom_var: 42\ntrailing without newline"
    )


def test_only_the_first_block_is_replaced():
    old = "# === MANAGED BY infra.yml ===\nold: 1\n# === END MANAGED ==="
    second = "# === MANAGED BY infra.yml ===\nkept: 2\n# === END MANAGED ==="
    assert merge_managed(f"---\n{old}\n{second}\n", BODY) == f"---\n{BLOCK}\n{second}\n"


def test_crlf_file_keeps_its_line_ends_outside_the_block():
    existing = "---\r\n# === MANAGED BY infra.yml ===\r\nold: 1\r\n# === END MANAGED ===\r\nmine: 2\r\n"
    assert merge_managed(existing, BODY) == f"---\r\n{BLOCK}\r\nmine: 2\r\n"


def test_markers_inside_a_line_are_not_a_block():
    existing = "---\nnote: '# === MANAGED BY infra.yml ===' # === END MANAGED ===\n"
    assert merge_managed(existing, BODY) == f"---\n{BLOCK}\n\n{existing[4:]}"


def test_block_is_inserted_after_an_existing_document_start():
    assert merge_managed("--- # doc\nmine: 1\n", BODY) == f"--- # doc\n{BLOCK}\n\nmine: 1\n"


def test_block_is_inserted_after_a_new_document_start_when_there_is_none():
    merged = merge_managed("mine: 1\n", BODY)
    assert merged == f"---\n{BLOCK}\n\nmine: 1\n"
    assert yaml.safe_load(merged) == {"a": 1, "b": ["x"], "mine": 1}


def test_file_holding_only_a_document_start_gets_the_block_after_it():
    assert merge_managed("---", BODY) == f"---\n{BLOCK}\n\n"


def test_generated_file_is_one_yaml_document_with_the_managed_values():
    for body in render_files(infra_of(zone_data())).values():
        assert len(list(yaml.safe_load_all(merge_managed(None, body)))) == 1
        assert yaml.safe_load(merge_managed(None, body)) == yaml.safe_load(body)


def test_first_sync_writes_every_file_and_the_second_writes_nothing(tmp_path):
    infra = infra_of(zone_data(), "001-")
    first = sync_tree(tmp_path, infra, dry_run=False, clean_orphans=False)
    assert first.written == list(render_files(infra)) and first.unchanged == []
    before = {p: p.read_bytes() for p in tmp_path.rglob("*.yml")}
    second = sync_tree(tmp_path, infra, dry_run=False, clean_orphans=False)
    assert second.written == [] and second.unchanged == first.written
    assert {p: p.read_bytes() for p in tmp_path.rglob("*.yml")} == before


def test_sync_keeps_user_variables_below_the_block(tmp_path):
    sync_tree(tmp_path, infra_of(legacy_data()), dry_run=False, clean_orphans=False)
    path = tmp_path / "group_vars" / "lab.yml"
    path.write_text(path.read_text() + "my_var: 1\n")
    data = legacy_data()
    data["domains"]["lab"]["description"] = "changed"
    report = sync_tree(tmp_path, infra_of(data), dry_run=False, clean_orphans=False)
    assert report.written == ["group_vars/lab.yml"]
    parsed = yaml.safe_load(path.read_text())
    assert parsed["domain_description"] == "changed" and parsed["my_var"] == 1


def test_only_changed_files_are_rewritten(tmp_path):
    sync_tree(tmp_path, infra_of(legacy_data()), dry_run=False, clean_orphans=False)
    stamps = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*.yml")}
    os.utime(tmp_path / "host_vars" / "lab-a.yml", ns=(1, 1))
    data = legacy_data()
    data["domains"]["lab"]["machines"]["lab-b"]["ip"] = "10.50.3.8"
    report = sync_tree(tmp_path, infra_of(data), dry_run=False, clean_orphans=False)
    assert report.written == ["inventory/lab.yml", "host_vars/lab-b.yml"]
    assert (tmp_path / "host_vars" / "lab-a.yml").stat().st_mtime_ns == 1
    assert (tmp_path / "group_vars" / "lab.yml").stat().st_mtime_ns == stamps[tmp_path / "group_vars" / "lab.yml"]


def test_dry_run_reports_what_would_be_written_and_creates_nothing(tmp_path):
    out = tmp_path / "out"
    report = sync_tree(out, infra_of(zone_data()), dry_run=True, clean_orphans=True)
    assert report.dry_run and report.written == list(render_files(infra_of(zone_data())))
    assert not out.exists()


def test_dry_run_leaves_existing_files_untouched(tmp_path):
    sync_tree(tmp_path, infra_of(legacy_data()), dry_run=False, clean_orphans=False)
    path = tmp_path / "group_vars" / "all.yml"
    path.write_text("project_name: hand edited\n")
    report = sync_tree(tmp_path, infra_of(legacy_data()), dry_run=True, clean_orphans=False)
    assert report.written == ["group_vars/all.yml"]
    assert path.read_text() == "project_name: hand edited\n"


def test_disabled_domain_files_are_not_orphans(tmp_path):
    data = zone_data()
    data["domains"]["old"]["enabled"] = True
    sync_tree(tmp_path, infra_of(data), dry_run=False, clean_orphans=False)
    report = sync_tree(tmp_path, infra_of(zone_data()), dry_run=False, clean_orphans=True)
    assert report.orphans == [] and report.deleted == []
    assert (tmp_path / "host_vars" / "old-box.yml").exists()


def test_write_keeps_the_file_mode(tmp_path):
    path = tmp_path / "f.yml"
    path.write_text("old\n")
    path.chmod(0o600)
    write_atomic(path, "new\n")
    assert path.read_text() == "new\n" and path.stat().st_mode & 0o777 == 0o600


def test_failed_write_leaves_the_original_and_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "f.yml"
    path.write_text("original\n")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(generate.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(path, "new\n")
    assert path.read_text() == "original\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.yml"]


def test_sync_into_a_read_only_directory_fails_without_touching_the_files(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root ignores directory permissions")
    sync_tree(tmp_path, infra_of(legacy_data()), dry_run=False, clean_orphans=False)
    folder = tmp_path / "host_vars"
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    data = legacy_data()
    data["domains"]["lab"]["machines"]["lab-a"]["description"] = "changed"
    folder.chmod(0o500)
    try:
        with pytest.raises(PermissionError):
            sync_tree(tmp_path, infra_of(data), dry_run=False, clean_orphans=False)
    finally:
        folder.chmod(0o700)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_bytes_that_are_not_utf8_outside_the_block_survive(tmp_path):
    path = tmp_path / "group_vars" / "all.yml"
    path.parent.mkdir()
    path.write_bytes(b"---\nlatin1: \xe9t\xe9\n")
    sync_tree(tmp_path, infra_of(legacy_data()), dry_run=False, clean_orphans=False)
    assert path.read_bytes().endswith(b"\n\nlatin1: \xe9t\xe9\n")
