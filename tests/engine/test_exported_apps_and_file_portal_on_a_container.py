"""export_apps and file_portal (issue 21) end to end on the throwaway daemon, one busybox container, its module's
tests in order: apply writes the menu entries, whose Exec line, run as a launcher runs it, writes a file inside
the machine (with the machine's DISPLAY, not the session's); the portal's host file is read in the machine,
which cannot write there until `writable: true`; dropping an application removes its entry (another infra's
stays), dropping the portal removes the device; flush removes this infra's entries and keeps the portal's host
content."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.engine.apply_helpers import batch, batch_env, plan_json
from tests.engine.desktop_entry_helpers import parse_exec, read_entry, validate

PORTAL_PATH = "/portal"
MARK_ARGUMENT = 'hello "x" $HOME `id` 100% %f \\ é'
APPS = [
    {
        "name": "mark",
        "label": "Mark it",
        "command": ["sh", "-c", 'printf %s "$1|$DISPLAY" > /tmp/launched', "sh", MARK_ARGUMENT],
    },
    "top",
]
ENTRY = "anklume.applab.pro.pro-dev.{}.desktop"
OTHER = "anklume.other.lab.lab-box.term.desktop"


class Lab:
    def __init__(self, daemon, tmp: Path) -> None:
        self.daemon, self.tmp = daemon, tmp
        self.infra = tmp / "infra.yml"
        self.portal = tmp / "portal" / "pro"
        self.apps = tmp / "data" / "applications"  # batch_env: XDG_DATA_HOME is <state>/data

    def write(self, apps: list, portal: dict | None) -> None:
        pro: dict = {"ephemeral": True, "subnet_id": 1, "trust_level": "trusted", "machines": {}}
        if portal is not None:
            pro["file_portal"] = portal
        # the display passthrough's way of giving a machine its display (psot/desktop.py)
        config = {"environment.DISPLAY": ":7"}
        pro["machines"]["pro-dev"] = {"ip": "10.142.1.10", "config": config, "export_apps": apps}
        data = {
            "project_name": "applab",
            "global": {"base_subnet": "10.142", "default_os_image": "busybox"},
            "domains": {"pro": pro},
        }
        self.infra.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))

    def apply(self) -> str:
        done = batch(self.daemon, self.tmp, "apply", self.infra)
        assert done.returncode == 0, done.stderr + done.stdout
        return done.stderr

    def run(self, *command: str) -> subprocess.CompletedProcess[str]:
        return self.daemon.incus("exec", "pro-dev", "--project=pro", "--", *command, check=False)

    def init_pid(self) -> int:
        return int(self.daemon.query("/1.0/instances/pro-dev/state?project=pro")["pid"])

    def devices(self) -> dict[str, dict]:
        [found] = self.daemon.incus_json("list", "--project=pro", "pro-dev")
        return found["devices"]


@pytest.fixture(scope="module")
def lab(incus_daemon, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("apps")
    lab = Lab(incus_daemon, tmp)
    lab.apps.mkdir(parents=True)
    (lab.apps / OTHER).write_text(
        "[Desktop Entry]\nType=Application\nName=[lab] term\nExec=other\nX-Anklume-Infra=other\n"
    )
    try:
        lab.write(APPS, {"host": str(lab.portal), "path": PORTAL_PATH})
        lab.apply()
        yield lab
    finally:
        incus_daemon.reset()


def test_the_menu_entry_runs_its_command_inside_the_machine(lab):
    path = lab.apps / ENTRY.format("mark")
    keys = read_entry(path)
    assert (keys["Name"], keys["Icon"], keys["X-Anklume-Colour"]) == ("[pro] Mark it", "anklume-trusted", "#005f00")
    assert validate(path) is None
    argv = parse_exec(keys["Exec"])
    assert argv[-7:] == ["pro-dev", "--", *APPS[0]["command"]]
    session = {**batch_env(lab.daemon, lab.tmp), "DISPLAY": ":0"}  # the host's: never the machine's
    launched = subprocess.run(argv, env=session, capture_output=True, text=True, timeout=120)
    assert launched.returncode == 0, launched.stderr
    assert lab.run("cat", "/tmp/launched").stdout == f"{MARK_ARGUMENT}|:7"
    assert read_entry(lab.apps / ENTRY.format("top"))["Name"] == "[pro] top"


def test_the_portal_is_read_in_the_machine_which_cannot_write_there(lab):
    assert stat.S_IMODE(os.stat(lab.portal).st_mode) == 0o700
    (lab.portal / "note.txt").write_text("from the host\n")
    assert lab.run("cat", f"{PORTAL_PATH}/note.txt").stdout == "from the host\n"
    refused = lab.run("sh", "-c", f"echo x > {PORTAL_PATH}/from-machine")
    assert refused.returncode != 0 and "Read-only" in refused.stderr, refused.stderr
    assert not (lab.portal / "from-machine").exists()
    assert plan_json(lab.daemon, lab.tmp, lab.infra)["actions"] == []  # the device as Incus keeps it: no drift


def test_writable_lets_the_machine_write_and_a_dropped_app_loses_its_entry(lab):
    init = lab.init_pid()
    lab.write(APPS[:1], {"host": str(lab.portal), "path": PORTAL_PATH, "writable": True})
    said = lab.apply()
    assert lab.init_pid() == init  # the portal changed live: the running machine was not restarted
    assert "menu entries: 0 written, 1 unchanged, 1 removed" in said
    assert sorted(p.name for p in lab.apps.iterdir()) == [ENTRY.format("mark"), OTHER]
    wrote = lab.run("sh", "-c", f"echo from the machine > {PORTAL_PATH}/from-machine")
    assert wrote.returncode == 0, wrote.stderr
    assert (lab.portal / "from-machine").read_text() == "from the machine\n"


def test_a_dropped_portal_loses_its_device_and_flush_keeps_the_host_content(lab):
    assert lab.devices()["file-portal"]["readonly"] == "false"
    init = lab.init_pid()
    lab.write(APPS[:1], None)
    lab.apply()
    assert "file-portal" not in lab.devices()
    assert lab.init_pid() == init  # removed live, as the svc-* relays are
    assert lab.run("test", "-e", f"{PORTAL_PATH}/note.txt").returncode != 0
    done = batch(lab.daemon, lab.tmp, "flush", lab.infra, "--yes")
    assert done.returncode == 0, done.stderr + done.stdout
    assert sorted(p.name for p in lab.apps.iterdir()) == [OTHER]
    assert sorted(p.name for p in lab.portal.iterdir()) == ["from-machine", "note.txt"]
