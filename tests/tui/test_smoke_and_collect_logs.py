"""Issue 22 in the TUI, against the throwaway Incus: `s` on the plan screen after an apply runs the declared smoke
checks (a passing and a failing one, the failing output shown as typed, never as markup) and the domains
screen's detail pane shows the machine's last results; the palette's "Collect logs of domain" writes the
archive (read back with tarfile) with progress machine by machine and a notification naming it; an archive
that cannot be written is named in the notification, with no traceback."""

from __future__ import annotations

import os
import re
import tarfile

import pytest
from rich.console import Console
from textual.command import CommandList, CommandPalette

from anklume_tui.app import AnklumeApp
from anklume_tui.screens.collect_logs import CollectLogsScreen
from tests.engine.apply_helpers import batch
from tests.engine.incus_helpers import isolate_host
from tests.tui.plan_helpers import app_on, planned
from tests.wait_helpers import until

pytestmark = pytest.mark.incus

SMOKED = """\
project_name: smoked
global:
  addressing: {}
domains:
  lab:
    machines:
      lab-one:
        os_image: busybox
        checks:
          - name: the hostname is the machine's
            command: [hostname]
            output: lab-one
          - name: a file that is not there
            command: [cat, "/nonexistent/[bold]x"]
"""

LOGGED = """\
project_name: logged
global:
  addressing: {}
  default_os_image: busybox
domains:
  lab:
    machines:
      lab-talky: {}
      lab-quiet: {}
  other:
    machines:
      other-box: {}
"""

WRITE_SYSLOG = "mkdir -p /var/log && echo 'lab-talky app: started with password=hunter2' > /var/log/messages"


def detail_text(app) -> str:
    """The detail pane as the terminal would show it."""
    console = Console(width=120, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
    console.print(app.screen.query_one("#detail").content)
    return console.export_text()


def cells(table) -> list[tuple[str, ...]]:
    return [tuple(str(cell) for cell in table.get_row_at(i)) for i in range(table.row_count)]


async def test_s_after_apply_runs_the_checks_and_the_detail_pane_shows_the_last_results(incusd, tmp_path, monkeypatch):
    app = app_on(SMOKED, tmp_path, monkeypatch, incusd.url)
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await planned(app, pilot)
        # busybox has no python3 for Ansible: the apply leaves provisioning out (the last of the steps)
        await pilot.press("o", *["down"] * 6, "space", "enter")
        await until(pilot, lambda: app.screen is screen and screen.steps is not None)
        assert "provision" not in screen.steps
        await pilot.press("a")

        def summary() -> str:
            return str(screen.query_one("#plan-summary").render())

        await until(pilot, lambda: screen.applying is None and "s to run the smoke checks" in summary(), timeout=120)
        assert summary().startswith("Applied."), summary()

        await pilot.press("s")
        await until(pilot, lambda: summary().startswith("Smoke: 1 passed, 1 failed."), timeout=60, what=summary)
        assert "Failing on lab-one." in summary()
        rows = cells(screen.query_one("#smoke"))
        assert rows[0] == (
            "lab/lab-one",
            "the hostname is the machine's",
            "ok",
            "exit 0 (expected 0), output has 'lab-one'",
        )
        machine, name, mark, found = rows[1]
        assert (machine, name, mark) == ("lab/lab-one", "a file that is not there", "FAIL")
        assert found.startswith("exit 1 (expected 0): cat:") and "/nonexistent/[bold]x" in found, found
        log = screen.query_one("#plan-log").lines  # a line per check as it ended: the run's progress
        assert sorted(line.split(" ")[1] for line in log if line.startswith("smoke ")) == ["1/2", "2/2"], log
        assert any(
            line.startswith("smoke ") and "lab-one: a file that is not there: FAIL exit 1 (expected 0): cat:" in line
            for line in log
        ), log

        await pilot.press("escape")
        await until(pilot, lambda: app.screen is not screen)
        await pilot.press("colon", *"machine lab-one", "enter")
        await until(pilot, lambda: "Last smoke" in detail_text(app), what=lambda: detail_text(app))
        text = detail_text(app)
        assert "1 passed, 1 failed" in text, text
        assert re.search(r"ok +the hostname is the machine's +exit 0", text), text
        assert re.search(
            r"failed +a file that is not there +exit 1 \(expected 0\): cat: .*/nonexistent/\[bold\]x", text
        ), text


def palette_lists(app, title: str) -> bool:
    """The palette is open and its search (run in the background) lists first the command of this title."""
    if not isinstance(app.screen, CommandPalette):
        return False
    found = app.screen.query_one(CommandList)
    return found.option_count > 0 and str(found.get_option_at_index(0).prompt).splitlines()[0].lower() == title


async def test_collect_logs_of_a_domain_from_the_palette_writes_the_archive_with_progress(
    incusd, tmp_path, monkeypatch
):
    isolate_host(tmp_path, monkeypatch)
    infra = tmp_path / "infra.yml"
    infra.write_text(LOGGED)
    applied = batch(incusd, tmp_path / "state", "apply", infra)
    assert applied.returncode == 0, applied.stderr
    incusd.incus("exec", "lab-talky", "--project=lab", "--", "sh", "-c", WRITE_SYSLOG)
    archive = tmp_path / "lab-logs.tar.gz"
    app = AnklumeApp(infra, incus_url=incusd.url)
    async with app.run_test(size=(160, 45)) as pilot:
        await until(pilot, lambda: getattr(app.screen, "result", None) is not None)
        await pilot.press("colon", *"domain lab", "enter", "ctrl+p", *"logs of domain")
        await until(pilot, lambda: palette_lists(app, "collect logs of domain lab"), what="the palette's command")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, CollectLogsScreen))
        screen = app.screen
        assert screen.limit == "lab"
        screen.query_one("#logs-out").value = str(archive)
        await pilot.press("enter")
        await until(
            pilot,
            lambda: screen.collected is not None,
            timeout=120,
            what=lambda: str(screen.query_one("#logs-log").lines),
        )
        lines = screen.query_one("#logs-log").lines
        assert any(line.endswith("1/2 lab-talky: 2 file(s)") for line in lines), lines
        assert any(line.endswith("2/2 lab-quiet: 2 file(s)") for line in lines), lines
        assert any("lab-quiet: journal: exit 1: no journal and no syslog" in line for line in lines), lines
        bar = screen.query_one("#logs-progress")
        assert (bar.total, bar.progress) == (2, 2)
        told = [str(n.message) for n in app._notifications]
        assert any(
            str(archive) in t and "1 value(s) redacted" in t and "not all read from lab-quiet" in t for t in told
        ), told
        await pilot.press("escape")
        assert not isinstance(app.screen, CollectLogsScreen)
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        journal = tar.extractfile("lab-logs/lab-talky/journal.txt").read().decode()
    assert "lab-logs/lab-quiet/incus-info-show-log.txt" in names, names
    assert not any("other-box" in name for name in names), names
    assert "password=[REDACTED]" in journal and "hunter2" not in journal, journal


async def test_collect_logs_into_a_missing_folder_names_the_archive_without_a_traceback(tmp_path, monkeypatch):
    isolate_host(tmp_path, monkeypatch)
    monkeypatch.setenv("ANKLUME_INCUS", "unix:///nonexistent/unix.socket")
    infra = tmp_path / "infra.yml"
    infra.write_text(LOGGED)
    archive = tmp_path / "no-such-folder" / "logs.tar.gz"
    app = AnklumeApp(infra)
    async with app.run_test(size=(160, 45)) as pilot:
        await until(pilot, lambda: getattr(app.screen, "result", None) is not None)
        await pilot.press("ctrl+p", *"collect logs")
        await until(pilot, lambda: palette_lists(app, "collect logs"), what="the palette's command")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, CollectLogsScreen))
        screen = app.screen
        assert screen.limit is None
        screen.query_one("#logs-out").value = str(archive)
        await pilot.press("enter")
        told = lambda: [str(n.message) for n in app._notifications]  # noqa: E731
        await until(pilot, lambda: any("collect-logs failed" in t for t in told()), what=lambda: str(told()))
        assert f"collect-logs failed: cannot write {archive}: No such file or directory" in told(), told()
        assert screen.running is None and "Traceback" not in "\n".join(screen.query_one("#logs-log").lines)
    assert not archive.parent.exists()
