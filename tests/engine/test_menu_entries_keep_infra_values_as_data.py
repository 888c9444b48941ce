"""The exported applications' menu entries (issue 21), without a daemon: whatever infra.yml holds comes back out
of the entry as the same data (the Exec arguments, the menu name), never as a field code, a second key or a
shell fragment; desktop-file-validate accepts the entries; sync touches only this infra's stale entries."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from anklume_tui.engine.apps import EntryRefused, launcher_argv, remove_entries, sync_entries
from anklume_tui.engine.apps.entries import escape_string, exec_argument
from anklume_tui.psot.context import HostContext
from anklume_tui.psot.pipeline import is_valid, run_psot
from tests.engine.desktop_entry_helpers import parse_exec, read_entry, unescape, validate

HOSTILE_COMMAND = [
    "sh",
    "-c",
    "echo \"$HOME\" `id` > /tmp/x; echo 100% %f %U %% 'q' \\ \\\\ ~ é # (a) | b & c",
    "",
    "Exec=rm -rf ~",
    "--flag=%c",
]
HOSTILE_LABEL = 'Évil "%k" \\ $(x) `y`; Name=[x]'


def infra_file(folder: Path, name: str, domains: dict) -> Path:
    data = {"project_name": name, "global": {"base_subnet": "10.100"}, "domains": domains}
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "infra.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return path


def checked(path: Path):
    result = run_psot(path, HostContext())
    assert is_valid(result), [f.render() for f in result.findings]
    return result.infra


def pro(apps: list, domain_apps: list | None = None, machines: tuple[str, ...] = ("pro-dev",)) -> dict:
    body: dict = {"subnet_id": 1, "trust_level": "untrusted", "machines": {}}
    if domain_apps is not None:
        body["export_apps"] = domain_apps
    for i, name in enumerate(machines):
        body["machines"][name] = {"ip": f"10.100.1.{10 + i}", "export_apps": apps}
    return {"pro": body}


def test_hostile_values_come_back_as_the_same_arguments_and_name(tmp_path):
    folder = tmp_path / 'in "fra" $HOME %u \\ é'
    path = infra_file(
        folder, 'demo "x" $y %u', pro([{"name": "evil", "command": HOSTILE_COMMAND, "label": HOSTILE_LABEL}])
    )
    infra = checked(path)
    launcher = launcher_argv(path, "unix:///run/in cus/%s.socket")
    apps = tmp_path / "applications"
    result = sync_entries(infra, launcher, folder=apps, icons=tmp_path / "icons")
    [entry] = result.written
    assert entry.name == "anklume.demo__x___y__u.pro.pro-dev.evil.desktop"
    keys = read_entry(entry)
    assert parse_exec(keys["Exec"]) == [*launcher, "pro-dev", "--", *HOSTILE_COMMAND]
    assert unescape(keys["Name"]) == f"[pro] {HOSTILE_LABEL}"
    assert keys["X-Anklume-Infra"] == 'demo "x" $y %u'
    assert (keys["Icon"], keys["X-Anklume-Trust"], keys["X-Anklume-Colour"]) == (
        "anklume-untrusted",
        "untrusted",
        "#5f0000",
    )
    assert (tmp_path / "icons/anklume-untrusted.svg").read_text().count('fill="#5f0000"') == 1
    assert validate(entry) is None
    assert os.stat(entry).st_mode & 0o777 == 0o644


def test_a_control_character_never_reaches_an_entry():
    for value in ("a\nExec=x", "a\rb", "\x1b[31m"):
        with pytest.raises(EntryRefused):
            escape_string(value)
        with pytest.raises(EntryRefused):
            exec_argument(value)


def test_apply_again_removes_only_this_infras_stale_entries(tmp_path):
    apps, icons = tmp_path / "applications", tmp_path / "icons"
    launcher = ["anklume-tui", "--batch", "launch"]
    ours = checked(infra_file(tmp_path / "a", "demo", pro(["firefox", "gedit"], domain_apps=["xterm"])))
    theirs = checked(infra_file(tmp_path / "b", "other", pro(["gedit"])))
    sync_entries(theirs, launcher, folder=apps, icons=icons)
    first = sync_entries(ours, launcher, folder=apps, icons=icons)
    assert sorted(p.name for p in first.written) == [
        "anklume.demo.pro.pro-dev.firefox.desktop",
        "anklume.demo.pro.pro-dev.gedit.desktop",
        "anklume.demo.pro.pro-dev.xterm.desktop",
    ]
    (apps / "anklume.mine.desktop").write_text("[Desktop Entry]\nType=Application\nName=mine\nExec=mine\n")
    dropped = checked(infra_file(tmp_path / "a", "demo", pro(["firefox"])))
    again = sync_entries(dropped, launcher, folder=apps, icons=icons)
    assert sorted(p.name for p in again.removed) == [
        "anklume.demo.pro.pro-dev.gedit.desktop",
        "anklume.demo.pro.pro-dev.xterm.desktop",
    ]
    assert [p.name for p in again.unchanged] == ["anklume.demo.pro.pro-dev.firefox.desktop"]
    assert sorted(p.name for p in apps.iterdir()) == [
        "anklume.demo.pro.pro-dev.firefox.desktop",
        "anklume.mine.desktop",
        "anklume.other.pro.pro-dev.gedit.desktop",
    ]
    assert [p.name for p in remove_entries("demo", folder=apps)] == ["anklume.demo.pro.pro-dev.firefox.desktop"]
    assert sorted(p.name for p in apps.iterdir()) == ["anklume.mine.desktop", "anklume.other.pro.pro-dev.gedit.desktop"]


def test_another_infras_file_under_the_same_name_is_left_alone(tmp_path):
    apps = tmp_path / "applications"
    launcher = ["anklume-tui"]
    first = checked(infra_file(tmp_path / "a", "a.b", pro(["gedit"])))
    second = checked(infra_file(tmp_path / "b", "a_b", pro(["gedit"])))
    [path] = sync_entries(first, launcher, folder=apps, icons=tmp_path / "icons").written
    result = sync_entries(second, launcher, folder=apps, icons=tmp_path / "icons")
    assert result.written == [] and result.skipped == [f"{path} is not this infra's entry: left alone"]
    assert read_entry(path)["X-Anklume-Infra"] == "a.b"


def test_one_application_of_two_machines_names_each_machine(tmp_path):
    infra = checked(
        infra_file(
            tmp_path, "demo", pro([], domain_apps=[{"name": "term", "label": "Terminal"}], machines=("pro-a", "pro-b"))
        )
    )
    written = sync_entries(infra, ["x"], folder=tmp_path / "apps", icons=tmp_path / "icons").written
    assert sorted(read_entry(p)["Name"] for p in written) == ["[pro] Terminal (pro-a)", "[pro] Terminal (pro-b)"]


def test_apply_limited_to_a_domain_touches_only_that_domains_entries(tmp_path):
    apps, icons, launcher = tmp_path / "applications", tmp_path / "icons", ["anklume-tui"]

    def two_domains(pro_apps: list, lab_apps: list) -> dict:
        lab = {"subnet_id": 2, "machines": {"lab-box": {"ip": "10.100.2.10", "export_apps": lab_apps}}}
        return {**pro(pro_apps), "lab": lab}

    sync_entries(
        checked(infra_file(tmp_path, "demo", two_domains(["gedit"], ["xterm"]))), launcher, folder=apps, icons=icons
    )
    dropped = checked(infra_file(tmp_path, "demo", two_domains([], [])))
    assert [p.name for p in sync_entries(dropped, launcher, "lab", folder=apps, icons=icons).removed] == [
        "anklume.demo.lab.lab-box.xterm.desktop"
    ]
    assert [p.name for p in apps.iterdir()] == ["anklume.demo.pro.pro-dev.gedit.desktop"]
