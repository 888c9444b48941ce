"""The plan screen's `o`: pick the steps the next apply carries out (`apply --only` in the TUI), keyboard only;
esc backs out leaving the choice as it was. Applied against the throwaway Incus, read back with the incus CLI."""

from __future__ import annotations

import json

import pytest

from anklume_tui.screens.apply_steps import StepsScreen
from tests.tui.plan_helpers import app_on, planned
from tests.wait_helpers import until

pytestmark = pytest.mark.incus

INFRA = """\
project_name: stepped
global:
  addressing: {}
domains:
  lab:
    machines:
      lab-one:
        os_image: busybox
"""


async def test_o_picks_networks_only_and_apply_makes_the_bridge_alone(incusd, tmp_path, monkeypatch):
    app = app_on(INFRA, tmp_path, monkeypatch, incusd.url)
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await planned(app, pilot)
        table = screen.query_one("#actions")
        every = table.row_count
        assert {table.get_row_at(i)[2] for i in range(every)} >= {"project", "network", "instance"}

        await pilot.press("o")
        await until(pilot, lambda: isinstance(app.screen, StepsScreen))
        await pilot.press("space", "escape")  # an untick, then backing out: nothing changes
        await until(pilot, lambda: app.screen is screen)
        assert screen.steps is None and table.row_count == every

        await pilot.press("o")
        await until(pilot, lambda: isinstance(app.screen, StepsScreen))
        # projects, networks, profiles, images, instances, isolation, provision: keep networks only
        await pilot.press("space", "down", "down", "space", "down", "space", "down", "space", "down", "space")
        await pilot.press("down", "space", "enter")
        await until(pilot, lambda: app.screen is screen)
        assert screen.steps == frozenset({"networks"})
        assert [table.get_row_at(i)[2] for i in range(table.row_count)] == ["network"]
        assert "Steps: networks." in str(screen.query_one("#plan-summary").render())

        await pilot.press("a")

        def summary() -> str:
            return str(screen.query_one("#plan-summary").render())

        await until(pilot, lambda: screen.applying is None and "Press r to re-plan" in summary(), timeout=120)
        assert summary().startswith("Applied."), summary()
        assert [table.get_row_at(i)[5] for i in range(table.row_count)] == ["✓ done"]
    networks = json.loads(incusd.incus("network", "list", "--format=json").stdout)
    assert "net-lab" in {n["name"] for n in networks if n["managed"]}
    projects = json.loads(incusd.incus("project", "list", "--format=json").stdout)
    assert [p["name"] for p in projects] == ["default"]
