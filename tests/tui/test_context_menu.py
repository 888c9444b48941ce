"""The row menu (m, shift+f10, right click): the actions that apply to the row, each run as its key runs it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from anklume_tui.app import AnklumeApp
from anklume_tui.screens.domains.context_menu import ContextMenu, menu_for
from anklume_tui.widgets.domain_table import UNKNOWN, DomainTable, Row
from tests.tui.test_live_domains import infra, real_status  # noqa: F401 - `infra` is a fixture
from tests.wait_helpers import until

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "pro-workstation" / "infra.yml"


def machine(state: str) -> Row:
    return Row(key="m:a", name="a", trust="trusted", kind="lxc", ip="", state=state)


def labels(row: Row) -> list[str]:
    return [entry.label for entry in menu_for(row)]


def test_a_machine_s_menu_offers_what_its_state_allows():
    always = ["Copy a file to…", "Snapshots…", "Back up…"]  # whatever the state
    assert labels(machine("Stopped")) == ["Start", "Snapshot now", "Console", "Delete…", *always]
    assert labels(machine("Running")) == ["Stop", "Restart", "Freeze", "Snapshot now", "Console", "Delete…", *always]
    assert labels(machine("Frozen")) == ["Stop", "Unfreeze", "Snapshot now", "Console", "Delete…", *always]
    assert len(menu_for(machine(UNKNOWN))) == 11  # Incus has not said yet: everything
    assert menu_for(machine("missing")) == []


def test_a_domain_s_menu_acts_on_all_its_machines_with_the_same_actions_as_the_keys():
    domain = Row(key="d:work", name="work", trust="trusted", kind="domain", ip="")
    entries = {entry.label: (entry.key, entry.action) for entry in menu_for(domain)}
    assert entries["Start all its machines"] == ("s", "machine('start')")
    assert entries["Stop all its machines"] == ("x", "machine('stop')")


@pytest.fixture
def no_incus(monkeypatch):
    monkeypatch.setenv("ANKLUME_SKIP_HOST_SUBNET_CHECK", "1")
    monkeypatch.setenv("ANKLUME_CONTEXT_DIR", "/nonexistent")
    monkeypatch.setenv("ANKLUME_INCUS", "unix:///nonexistent/unix.socket")


async def test_right_click_opens_the_menu_of_the_clicked_row_and_escape_runs_nothing(no_incus):
    app = AnklumeApp(EXAMPLE)
    async with app.run_test(size=(140, 40)) as pilot:
        table = app.screen.query_one(DomainTable)
        await until(pilot, lambda: app.screen.result is not None and table.row_count > 3)
        await pilot.click(DomainTable, offset=(6, 3), button=3)  # header, then rows 0, 1, 2
        await until(pilot, lambda: isinstance(app.screen, ContextMenu))
        assert table.cursor_row == 2
        assert app.screen.title_text == f"Domain {table.selected().name}"
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ContextMenu)
        assert not app.screen.query_one("#operations").lines  # nothing ran


async def test_shift_f10_opens_the_menu_too(no_incus):
    app = AnklumeApp(EXAMPLE)
    async with app.run_test(size=(140, 40)) as pilot:
        table = app.screen.query_one(DomainTable)
        await until(pilot, lambda: app.screen.result is not None and table.row_count > 3)
        await pilot.press("j", "shift+f10")
        await until(pilot, lambda: isinstance(app.screen, ContextMenu))
        assert app.screen.title_text == f"Machine {table.selected().name}"


def test_the_menu_looks_right(snap_compare, no_incus, monkeypatch):
    monkeypatch.chdir(ROOT)
    app = AnklumeApp(Path("examples/pro-workstation/infra.yml"))

    async def open_menu(pilot):
        await until(pilot, lambda: "Incus" in app.screen.sub_title)  # checked, the unreachable daemon reported
        await pilot.press("j", "m")
        await until(pilot, lambda: isinstance(app.screen, ContextMenu))
        await pilot.pause()

    assert snap_compare(app, terminal_size=(140, 32), run_before=open_menu)


@pytest.mark.incus
async def test_choosing_start_then_stop_in_the_menu_starts_then_stops_the_machine(incusd, infra):  # noqa: F811
    incusd.incus("init", "busybox", "work-a", "--project", "work")
    app = AnklumeApp(infra, incus_url=incusd.url)
    async with app.run_test(size=(150, 40)) as pilot:
        table = app.screen.query_one(DomainTable)
        await until(pilot, lambda: table.rows_by_key.get("m:work-a") and table.rows_by_key["m:work-a"].state != "…")
        await pilot.press("j", "m")
        await until(pilot, lambda: isinstance(app.screen, ContextMenu))
        assert [e.label for e in app.screen.entries][0] == "Start"
        await pilot.press("enter")
        await until(pilot, lambda: table.rows_by_key["m:work-a"].state == "Running")
        assert await asyncio.to_thread(real_status, incusd, "work-a", "work") == "Running"
        await pilot.press("m")
        await until(pilot, lambda: isinstance(app.screen, ContextMenu))
        assert [e.label for e in app.screen.entries][:2] == ["Stop", "Restart"]
        await pilot.press("enter")
        await until(pilot, lambda: table.rows_by_key["m:work-a"].state == "Stopped")
        assert await asyncio.to_thread(real_status, incusd, "work-a", "work") == "Stopped"
        # The events turn the row before each call returns; each worker writes its line after: wait for them.
        operations = app.screen.query_one("#operations")
        done = ("start work-a: done", "stop work-a: done")
        await until(pilot, lambda: all(any(said in line for line in operations.lines) for said in done))


@pytest.mark.incus
async def test_stop_all_from_a_domain_s_menu_stops_every_machine_of_it(incusd, infra):  # noqa: F811
    incusd.incus("launch", "busybox", "work-a", "--project", "work")
    incusd.incus("launch", "busybox", "work-b", "--project", "work")
    app = AnklumeApp(infra, incus_url=incusd.url)
    async with app.run_test(size=(150, 40)) as pilot:
        table = app.screen.query_one(DomainTable)
        await until(
            pilot, lambda: table.rows_by_key.get("m:work-b") and table.rows_by_key["m:work-b"].state == "Running"
        )
        assert table.selected().key == "d:work"
        await pilot.press("m")
        await until(pilot, lambda: isinstance(app.screen, ContextMenu))
        await pilot.press("down", "enter")  # the second entry: Stop all its machines
        await until(pilot, lambda: {table.rows_by_key[k].state for k in ("m:work-a", "m:work-b")} == {"Stopped"})
        for name in ("work-a", "work-b"):
            assert await asyncio.to_thread(real_status, incusd, name, "work") == "Stopped"
