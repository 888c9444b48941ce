"""Editing the infra from the TUI's forms: round-trip writes, validation before saving, refusals."""

from __future__ import annotations

import difflib
import io
import shutil
from pathlib import Path

import pytest

from anklume_tui.psot import infra_candidate
from anklume_tui.psot.context import HostContext
from anklume_tui.psot.infra_candidate import preview, save, validate_candidate
from anklume_tui.psot.infra_edit import (
    EditRefused,
    add_domain,
    add_machine,
    edit_domain,
    edit_machine,
    read_infra_files,
    remove_domain,
    remove_machine,
)
from anklume_tui.psot.pipeline import run_psot
from anklume_tui.psot.yaml_roundtrip import LAYOUTS, YamlDocument, _yaml, guess_layout

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CTX = HostContext()


@pytest.fixture
def single(tmp_path) -> Path:
    path = tmp_path / "infra.yml"
    shutil.copy(EXAMPLES / "pro-workstation" / "infra.yml", path)
    return path


@pytest.fixture
def directory(tmp_path) -> Path:
    shutil.copytree(EXAMPLES / "directory-form" / "infra", tmp_path / "infra")
    return tmp_path / "infra"


def changed_lines(old: str, new: str) -> list[str]:
    diff = difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=0)
    return [line for line in diff if line[:1] in "+-" and line[:3] not in ("+++", "---")]


def test_editing_one_machine_field_changes_only_that_line_and_keeps_its_comment(single):
    files = read_infra_files(single)
    changes = edit_machine(files, "pro-dev", {"weight": 3, "description": "Development environment", "gpu": False})
    assert changed_lines(files.texts[single], changes[single]) == [
        "-        weight: 2                       # larger share if resource_policy is enabled",
        "+        weight: 3                       # larger share if resource_policy is enabled",
    ]


def test_a_changed_quoted_value_stays_quoted(single):
    files = read_infra_files(single)
    changes = edit_machine(files, "homelab-media", {"ip": "10.120.0.11"})
    assert changed_lines(files.texts[single], changes[single]) == [
        '-        ip: "10.120.0.10"',
        '+        ip: "10.120.0.11"',
    ]


def test_every_example_file_is_written_back_byte_for_byte_when_nothing_changes():
    for path in [*EXAMPLES.glob("*/infra.yml"), EXAMPLES / "directory-form" / "infra"]:
        files = read_infra_files(path)
        for machine in run_psot(path, CTX).infra.domains[0].machines[:1]:
            changes = edit_machine(files, machine.name, {"name": machine.name})
            assert all(files.texts[file] == text for file, text in changes.items()), path


def test_an_added_machine_goes_at_the_end_of_its_domain_and_the_blank_line_stays_before_the_next(single):
    files = read_infra_files(single)
    changes = add_machine(files, "anklume", {"name": "anklume-tools", "type": "lxc", "roles": ["a", "b"]})
    added = "      anklume-tools:\n        type: lxc\n        roles:\n          - a\n          - b\n"
    old = files.texts[single]
    assert changes[single] == old.replace("        type: lxc\n\n  perso:", f"        type: lxc\n{added}\n  perso:", 1)


def test_removing_a_domain_takes_only_its_lines(single):
    files = read_infra_files(single)
    changes = remove_domain(files, "perso")
    old = files.texts[single]
    start, end = old.index("  perso:\n"), old.index("  pro:\n")
    assert changes[single] == old[:start] + old[end:]


def test_renaming_a_machine_keeps_its_place_and_fields(single):
    files = read_infra_files(single)
    changes = edit_machine(files, "pro-comms", {"name": "pro-chat"})
    assert changed_lines(files.texts[single], changes[single]) == ["-      pro-comms:", "+      pro-chat:"]


def test_a_new_domain_in_directory_form_gets_its_own_file_and_validates(directory):
    files = read_infra_files(directory)
    changes = add_domain(files, {"name": "lab", "trust_level": "untrusted", "description": "Lab", "enabled": True})
    assert changes == {directory / "domains" / "lab.yml": "---\nlab:\n  description: Lab\n  trust_level: untrusted\n"}
    assert not validate_candidate(files, changes, CTX).errors
    save(files, changes, CTX)
    assert "lab" in [d.name for d in run_psot(directory, CTX).infra.domains]


def test_a_domain_edit_in_directory_form_touches_only_the_domain_s_file(directory):
    files = read_infra_files(directory)
    changes = edit_domain(files, "pro", {"description": "Work"})
    pro = directory / "domains" / "pro.yml"
    assert list(changes) == [pro]
    assert changed_lines(files.texts[pro], changes[pro]) == ['-  description: "Professional"', '+  description: "Work"']


def test_removing_the_only_domain_of_a_directory_file_removes_the_file(directory):
    files = read_infra_files(directory)
    save(files, add_domain(files, {"name": "lab"}), CTX)
    files = read_infra_files(directory)
    changes = remove_domain(files, "lab")
    assert changes == {directory / "domains" / "lab.yml": None}
    assert preview(files, changes).startswith(f"--- {directory / 'domains' / 'lab.yml'}\n+++ /dev/null\n")
    save(files, changes, CTX)
    assert not (directory / "domains" / "lab.yml").exists()


def test_removing_a_domain_a_policy_still_names_is_refused_and_its_file_stays(directory):
    files = read_infra_files(directory)
    with pytest.raises(EditRefused, match=r"\[NP3\]"):
        save(files, remove_domain(files, "pro"), CTX)
    assert (directory / "domains" / "pro.yml").read_text() == files.texts[directory / "domains" / "pro.yml"]


def test_the_preview_is_the_unified_diff_of_the_file(single):
    files = read_infra_files(single)
    text = preview(files, edit_machine(files, "pro-dev", {"weight": 3}))
    assert text.startswith(f"--- {single}\n+++ {single}\n@@ ")
    assert "-        weight: 2" in text and "+        weight: 3" in text


def test_an_invalid_edit_is_refused_with_its_rule_and_nothing_is_written(single):
    before = single.read_bytes()
    files = read_infra_files(single)
    changes = edit_machine(files, "homelab-media", {"ip": "10.99.0.10"})
    check = validate_candidate(files, changes, CTX)
    fields, _ = check.by_field(("domains", "homelab", "machines", "homelab-media"))
    assert [f.rule for f in fields["ip"]] == ["M5"]
    with pytest.raises(EditRefused, match=r"\[M5\]"):
        save(files, changes, CTX)
    assert single.read_bytes() == before


def test_a_bad_machine_name_is_found_under_the_name_field(single):
    files = read_infra_files(single)
    changes = add_machine(files, "pro", {"name": "Pro_Box", "type": "lxc"})
    fields, _ = validate_candidate(files, changes, CTX).by_field(("domains", "pro", "machines", "Pro_Box"))
    assert [f.rule for f in fields["name"]] == ["M1"]


def test_a_file_changed_on_disk_since_it_was_read_is_not_overwritten(single):
    files = read_infra_files(single)
    changes = edit_machine(files, "pro-dev", {"weight": 3})
    single.write_text(files.texts[single] + "# edited elsewhere\n")
    with pytest.raises(EditRefused, match=f"{single} changed on disk"):
        save(files, changes, CTX)
    assert single.read_text().endswith("# edited elsewhere\n")


def test_a_valid_save_writes_the_file_and_the_infra_reloads_with_the_change(single):
    files = read_infra_files(single)
    save(files, edit_machine(files, "pro-dev", {"weight": 5}), CTX)
    machines = {m.name: m for d in run_psot(single, CTX).infra.domains for m in d.machines}
    assert machines["pro-dev"].weight == 5


def test_removing_a_machine_keeps_the_rest_of_its_domain(single):
    files = read_infra_files(single)
    changes = remove_machine(files, "pro-vm")
    removed = changed_lines(files.texts[single], changes[single])
    assert removed[0] == "-      pro-vm:" and all(line.startswith("-") for line in removed)
    assert not validate_candidate(files, changes, CTX).errors


def test_unknown_names_are_refused_naming_them(single):
    files = read_infra_files(single)
    with pytest.raises(EditRefused, match="no machine named 'nope'"):
        edit_machine(files, "nope", {})
    with pytest.raises(EditRefused, match="already exists"):
        add_domain(files, {"name": "pro"})


def test_each_usual_layout_is_read_from_the_text_and_written_back_byte_for_byte(single):
    data = YamlDocument(single.read_text()).data
    for layout in LAYOUTS:
        out = io.StringIO()
        _yaml(layout, "").dump(data, out)
        text = out.getvalue()
        assert guess_layout(text) == layout
        assert YamlDocument(text).dump() == text, layout


def test_edits_start_from_the_files_as_read_and_leave_them_so(single):
    files = read_infra_files(single)
    remove_domain(files, "perso")
    add_machine(files, "pro", {"name": "pro-box", "type": "lxc", "roles": ["a"]})
    edit_machine(files, "pro-dev", {"weight": 3})
    changes = edit_machine(files, "pro-dev", {"name": "pro-dev"})
    assert changes == {single: files.texts[single]}


def test_the_check_reads_unchanged_files_from_the_snapshot_the_edit_was_made_from(directory):
    files = read_infra_files(directory)
    changes = edit_domain(files, "pro", {"description": "Work"})
    (directory / "domains" / "perso.yml").write_text("perso: [broken\n")
    check = validate_candidate(files, changes, CTX)
    assert not check.errors, [f.render() for f in check.errors]


def test_save_trusts_the_check_it_is_given_and_validates_only_without_one(single, monkeypatch):
    files = read_infra_files(single)
    changes = edit_machine(files, "pro-dev", {"weight": 5})
    check = validate_candidate(files, changes, CTX)

    def refuse(*_):
        raise AssertionError("validated twice")

    monkeypatch.setattr(infra_candidate, "validate_candidate", refuse)
    save(files, changes, CTX, check)
    assert "weight: 5" in single.read_text()
    with pytest.raises(AssertionError, match="validated twice"):
        save(read_infra_files(single), edit_machine(files, "pro-dev", {"weight": 6}), CTX)
