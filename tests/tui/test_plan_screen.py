"""The plan / apply screen against the throwaway Incus: plan grouped by domain, apply with progress, then
provisioning with a line per task."""

from __future__ import annotations

import json

import pytest

from anklume_tui.app import AnklumeApp
from tests.tui.plan_helpers import app_on, footer, planned
from tests.wait_helpers import until

pytestmark = pytest.mark.incus

INFRA = """\
project_name: planned
global:
  addressing: {}
domains:
  lab:
    trust_level: semi-trusted
    machines:
      lab-one:
        os_image: busybox
"""


async def test_p_plans_then_a_applies_with_progress_then_provisions(incusd, tmp_path, monkeypatch):
    app = app_on(INFRA, tmp_path, monkeypatch, incusd.url)
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await planned(app, pilot)
        table = screen.query_one("#actions")
        assert table.row_count == len(screen.plan.actions) > 0
        assert {table.get_row_at(i)[0] for i in range(table.row_count)} >= {"lab"}
        await pilot.press("a")
        await until(pilot, lambda: screen.provisioning, timeout=90)  # every action done: Ansible follows
        progress = {table.get_row_at(i)[5] for i in range(table.row_count)}
        assert progress == {"✓ done"}
        await until(pilot, lambda: screen.applying is None, timeout=240)
        # busybox has neither python3 nor apt-get: provisioning says so, naming the machine and the task.
        summary = str(screen.query_one("#plan-summary").render())
        assert summary.startswith("Applied; provisioning of 1 machine(s): provisioned 0, failed 1 (lab-one)"), summary
        assert "lab-one: failed; not run: base_system." in summary
        await until(pilot, lambda: ("x", "Explain failure") in footer(app), what="x offered once provisioning failed")
        log = " ".join(" ".join(screen.query_one("#plan-log").lines).split())  # long lines wrap
        assert "failed" in log and "lab-one" in log and "Install python3 when it is missing" in log
        await pilot.press("r")
        await until(pilot, lambda: screen.plan is not None and not screen.plan.actions, timeout=30)
    listed = json.loads(incusd.incus("list", "--project=lab", "--format=json").stdout)
    assert [(i["name"], i["status"]) for i in listed] == [("lab-one", "Running")]


async def test_an_invalid_infra_shows_errors_with_the_offending_line(tmp_path, monkeypatch):
    monkeypatch.setenv("ANKLUME_SKIP_HOST_SUBNET_CHECK", "1")
    monkeypatch.setenv("ANKLUME_INCUS", "unix:///nonexistent/unix.socket")
    infra = tmp_path / "infra.yml"
    infra.write_text(INFRA.replace("semi-trusted", "semi-trustd"))
    app = AnklumeApp(infra)
    async with app.run_test(size=(160, 45)) as pilot:
        await until(pilot, lambda: getattr(app.screen, "result", None) is not None)
        await pilot.press("p")
        log = app.screen.query_one("#plan-log")
        text = "\n".join(log.lines)
        assert f"{infra}:6:18: error[D8]" in text and "trust_level: semi-trustd" in text and "^" in text
