"""The domains view shows what Incus really holds, and follows changes made behind its back."""

from __future__ import annotations

import asyncio

import pytest

from anklume_tui.app import AnklumeApp
from anklume_tui.widgets.domain_table import DomainTable

pytestmark = pytest.mark.incus

INFRA = """\
project_name: live
global:
  addressing: {}
domains:
  work:
    trust_level: trusted
    machines:
      work-a:
        os_image: busybox
      work-b:
        os_image: busybox
"""


async def until(pilot, condition, timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await pilot.pause(0.05)


async def test_rows_show_real_state_then_follow_events(incusd, tmp_path, monkeypatch):
    monkeypatch.setenv("ANKLUME_SKIP_HOST_SUBNET_CHECK", "1")
    monkeypatch.setenv("ANKLUME_CONTEXT_DIR", str(tmp_path / "ctx"))
    infra = tmp_path / "infra.yml"
    infra.write_text(INFRA)
    incusd.incus("project", "create", "work", "-c", "features.profiles=false")
    incusd.import_image("work", "busybox")
    incusd.incus("init", "busybox", "work-a", "--project", "work")
    app = AnklumeApp(infra, incus_url=incusd.url)
    async with app.run_test(size=(150, 40)) as pilot:
        table = app.screen.query_one(DomainTable)
        await until(pilot, lambda: table.rows_by_key.get("m:work-a") and table.rows_by_key["m:work-a"].state != "…")
        assert table.rows_by_key["m:work-a"].state == "Stopped"
        assert table.rows_by_key["m:work-b"].state == "missing"
        await asyncio.to_thread(incusd.incus, "start", "work-a", "--project", "work")
        await until(pilot, lambda: table.rows_by_key["m:work-a"].state == "Running")
        await asyncio.to_thread(incusd.incus, "delete", "--force", "work-a", "--project", "work")
        await until(pilot, lambda: table.rows_by_key["m:work-a"].state == "missing")
