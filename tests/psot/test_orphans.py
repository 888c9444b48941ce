"""Generated files nothing in the infra accounts for (SPEC §7.4)."""

from __future__ import annotations

from pathlib import Path

from anklume_tui.psot.generate import sync_tree
from anklume_tui.psot.orphans import OrphanFile, find_orphans, is_protected, orphan_messages

from .generate_helpers import infra_of, legacy_data


def _write(root: Path, relative: str, text: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_files_of_unknown_domains_and_machines_are_orphans(tmp_path):
    _write(tmp_path, "inventory/gone.yml", "{}")
    _write(tmp_path, "group_vars/gone.yml", "{}")
    _write(tmp_path, "host_vars/gone-box.yml", "{}")
    _write(tmp_path, "group_vars/all.yml", "{}")
    _write(tmp_path, "group_vars/lab.yml", "{}")
    _write(tmp_path, "host_vars/lab-a.yml", "{}")
    _write(tmp_path, "host_vars/notes.txt", "not yaml")
    assert [o.path for o in find_orphans(tmp_path, infra_of(legacy_data()))] == [
        "inventory/gone.yml",
        "group_vars/gone.yml",
        "host_vars/gone-box.yml",
    ]


def test_all_is_an_orphan_only_in_inventory(tmp_path):
    _write(tmp_path, "inventory/all.yml", "{}")
    assert [o.path for o in find_orphans(tmp_path, infra_of(legacy_data()))] == ["inventory/all.yml"]


def test_machines_of_disabled_domains_are_known(tmp_path):
    data = legacy_data()
    data["domains"]["lab"]["enabled"] = False
    _write(tmp_path, "host_vars/lab-a.yml", "{}")
    _write(tmp_path, "group_vars/lab.yml", "{}")
    assert find_orphans(tmp_path, infra_of(data)) == []


def test_ephemeral_false_protects_and_domain_ephemeral_is_checked_first(tmp_path):
    cases = {
        "a.yml": ("domain_ephemeral: false\n", True),
        "b.yml": ("instance_ephemeral: no\n", True),
        "c.yml": ("instance_ephemeral: true\n", False),
        "d.yml": ("domain_ephemeral: true\ninstance_ephemeral: false\n", False),
        "e.yml": ("domain_ephemeral: false\ninstance_ephemeral: true\n", True),
        "f.yml": ("other: 1\n", False),
        "g.yml": ("- instance_ephemeral: false\n", False),
        "h.yml": ("instance_ephemeral: [unclosed\n", False),
        "i.yml": ("instance_ephemeral:\n", False),
        "j.yml": (
            "---\n# === MANAGED BY infra.yml ===\ninstance_ephemeral: false\n# === END MANAGED ===\n",
            True,
        ),
    }
    for name, (text, protected) in cases.items():
        assert is_protected(_write(tmp_path, name, text)) is protected, name


def test_clean_orphans_deletes_unprotected_and_skips_protected(tmp_path):
    _write(tmp_path, "host_vars/old-a.yml", "instance_ephemeral: true\n")
    _write(tmp_path, "host_vars/old-b.yml", "instance_ephemeral: false\n")
    report = sync_tree(tmp_path, infra_of(legacy_data()), dry_run=False, clean_orphans=True)
    assert report.orphans == [
        OrphanFile(path="host_vars/old-a.yml", protected=False),
        OrphanFile(path="host_vars/old-b.yml", protected=True),
    ]
    assert report.deleted == ["host_vars/old-a.yml"] and report.skipped == ["host_vars/old-b.yml"]
    assert not (tmp_path / "host_vars/old-a.yml").exists()
    assert (tmp_path / "host_vars/old-b.yml").exists()


def test_without_clean_orphans_or_in_a_dry_run_nothing_is_deleted(tmp_path):
    _write(tmp_path, "host_vars/old-a.yml", "instance_ephemeral: true\n")
    for dry_run, clean in ((False, False), (True, True)):
        report = sync_tree(tmp_path, infra_of(legacy_data()), dry_run=dry_run, clean_orphans=clean)
        assert report.deleted == [] and report.skipped == []
        assert (tmp_path / "host_vars/old-a.yml").exists()


def test_orphan_messages_name_each_file_and_what_happened():
    orphans = [
        OrphanFile(path="host_vars/a.yml", protected=False),
        OrphanFile(path="host_vars/b.yml", protected=True),
    ]
    assert orphan_messages(orphans, ["host_vars/a.yml"], ["host_vars/b.yml"], Path("/out")) == [
        "ORPHAN: /out/host_vars/a.yml",
        "PROTECTED (ephemeral=false): /out/host_vars/b.yml — manual removal required",
        "Deleted: /out/host_vars/a.yml",
        "Skipped (protected): /out/host_vars/b.yml",
    ]
