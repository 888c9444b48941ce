"""CPU and memory in the domains view: read in the background from one bulk request, only while shown."""

from __future__ import annotations

import asyncio
import re

import pytest

from anklume_tui.app import AnklumeApp
from anklume_tui.screens.domains import screen as domains
from anklume_tui.widgets.domain_table import DomainTable
from tests.engine.usage_helpers import BUSY_PERCENT, incus_usage, keep_busy
from tests.tui.test_live_domains import infra  # noqa: F401 - `infra` is a fixture
from tests.wait_helpers import until

pytestmark = pytest.mark.incus
UNITS = {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}


def memory_bytes(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(B|KiB|MiB|GiB)", text).groups()
    return float(number) * UNITS[unit]


@pytest.fixture(autouse=True)
def quick_readings(monkeypatch):
    monkeypatch.setattr(domains, "USAGE_SECONDS", 0.5)


async def test_a_busy_machine_shows_its_cpu_and_memory_as_incus_counts_them(incusd, infra):  # noqa: F811
    incusd.incus("launch", "busybox", "work-a", "--project", "work")
    keep_busy(incusd, "work-a", "work")
    app = AnklumeApp(infra, incus_url=incusd.url)
    async with app.run_test(size=(150, 40)) as pilot:
        table = app.screen.query_one(DomainTable)
        await until(pilot, lambda: table.rows_by_key.get("m:work-a") and table.rows_by_key["m:work-a"].cpu != "")
        await pilot.pause(1.0)  # a share over a few readings, not the first half-second
        their_cpu, their_memory = await asyncio.to_thread(incus_usage, incusd, "work-a", "work", 1.0)
        row = table.rows_by_key["m:work-a"]
        shown_cpu = float(row.cpu.rstrip("%"))
        assert shown_cpu > BUSY_PERCENT and their_cpu > BUSY_PERCENT
        assert abs(shown_cpu - their_cpu) < 35
        assert 0.5 < memory_bytes(row.memory) / their_memory < 2
        assert table.get_row("m:work-a")[5].plain == row.cpu  # the cell on screen, not only the model
        assert (table.rows_by_key["m:work-b"].cpu, table.rows_by_key["m:work-b"].memory) == ("", "")
        assert table.rows_by_key["d:work"].memory == row.memory  # a domain shows its machines' total
        await asyncio.to_thread(incusd.incus, "stop", "--force", "work-a", "--project", "work")
        await until(pilot, lambda: table.rows_by_key["m:work-a"].state == "Stopped")
        assert (table.rows_by_key["m:work-a"].cpu, table.rows_by_key["m:work-a"].memory) == ("", "")


async def test_usage_is_read_only_while_the_domains_view_is_shown(incusd, infra):  # noqa: F811
    incusd.incus("launch", "busybox", "work-a", "--project", "work")
    app = AnklumeApp(infra, incus_url=incusd.url)
    async with app.run_test(size=(150, 40)) as pilot:
        screen = app.screen
        table = screen.query_one(DomainTable)
        await until(pilot, lambda: screen.usage_meter.requests >= 2 and table.rows_by_key["m:work-a"].memory != "")
        await pilot.press("question_mark")
        await pilot.pause(0.3)  # a reading already on its way may still land
        hidden = screen.usage_meter.requests
        await pilot.pause(2.0)  # four intervals
        assert screen.usage_meter.requests == hidden
        await pilot.press("escape")
        await until(pilot, lambda: screen.usage_meter.requests > hidden)
