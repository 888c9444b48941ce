"""`M` on a machine of an Incus that is not a cluster says so and opens no picker (the picker itself, and the
move it starts, are proved on the three-member cluster in tests/engine/test_move_on_a_cluster.py)."""

from __future__ import annotations

import pytest

from anklume_tui.app import AnklumeApp
from anklume_tui.screens.move_machine import MemberPickerScreen
from tests.engine.incus_helpers import isolate_host
from tests.engine.move_helpers import machine_made, status
from tests.wait_helpers import until

pytestmark = pytest.mark.incus


async def test_m_off_a_cluster_says_it_is_not_one_and_moves_nothing(incusd, tmp_path, monkeypatch):
    isolate_host(tmp_path, monkeypatch)
    app = AnklumeApp(machine_made(incusd, tmp_path), incus_url=incusd.url)
    async with app.run_test(size=(150, 45)) as pilot:
        await until(pilot, lambda: getattr(app.screen, "status", None) is not None, what="the status read")
        await pilot.press("colon", *"machine pro-dev", "enter", "M")
        said = await until(
            pilot,
            lambda: next((n for n in app._notifications if "is not a cluster" in str(n.message)), None),
            what="the refusal notified",
        )
        assert "move pro-dev: this Incus is not a cluster" in str(said.message)
        assert not isinstance(app.screen, MemberPickerScreen)
    assert status(incusd) == "RUNNING"
