"""The domains view shows what Incus really holds, and follows changes made behind its back."""

from __future__ import annotations

import asyncio
import os

import pytest

from anklume_tui.app import AnklumeApp
from anklume_tui.widgets.domain_table import DomainTable
from tests.wait_helpers import until

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


@pytest.fixture
def infra(incusd, tmp_path, monkeypatch):
    """The infra file above, a private host context and state dir, and project `work` holding busybox."""
    monkeypatch.setenv("ANKLUME_SKIP_HOST_SUBNET_CHECK", "1")
    monkeypatch.setenv("ANKLUME_CONTEXT_DIR", str(tmp_path / "ctx"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    path = tmp_path / "infra.yml"
    path.write_text(INFRA)
    incusd.incus("project", "create", "work", "-c", "features.profiles=false")
    incusd.import_image("work", "busybox")
    return path


async def test_rows_show_real_state_then_follow_events(incusd, infra):
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


def real_status(incusd, name: str, project: str) -> str:
    import json

    return json.loads(incusd.incus("list", name, f"--project={project}", "--format=json").stdout)[0]["status"]


async def test_keys_start_and_stop_the_selected_machine_and_delete_asks_first(incusd, infra):
    incusd.incus(
        "init",
        "busybox",
        "work-a",
        "--project",
        "work",
        "-c",
        "user.anklume.managed=true",
        "-c",
        "security.protection.delete=true",
    )
    app = AnklumeApp(infra, incus_url=incusd.url)
    async with app.run_test(size=(150, 40)) as pilot:
        table = app.screen.query_one(DomainTable)
        await until(pilot, lambda: table.rows_by_key.get("m:work-a") and table.rows_by_key["m:work-a"].state != "…")
        await pilot.press("j")
        assert table.selected().name == "work-a"
        await pilot.press("s")
        await until(pilot, lambda: table.rows_by_key["m:work-a"].state == "Running")
        assert real_status(incusd, "work-a", "work") == "Running"
        await pilot.press("x")
        await until(pilot, lambda: table.rows_by_key["m:work-a"].state == "Stopped")
        await pilot.press("D")
        await pilot.press("y")
        operations = app.screen.query_one("#operations")
        await until(pilot, lambda: any("refused" in line for line in operations.lines))
        assert real_status(incusd, "work-a", "work") == "Stopped"
    incusd.incus("config", "set", "work-a", "security.protection.delete=false", "--project", "work")


async def test_c_opens_a_coloured_console_for_the_machine_and_hands_over_the_terminal(
    incusd, infra, tmp_path, monkeypatch
):
    import libtmux

    socket = f"anklume-tui-test-{tmp_path.name}"
    monkeypatch.setenv("ANKLUME_TMUX_SOCKET", socket)
    monkeypatch.delenv("TMUX", raising=False)
    incusd.incus("launch", "busybox", "work-a", "--project", "work")
    handed: list[list[str]] = []
    app = AnklumeApp(infra, incus_url=incusd.url)
    app.hand_over_terminal = handed.append
    server = libtmux.Server(socket_name=socket)
    try:
        async with app.run_test(size=(150, 40)) as pilot:
            table = app.screen.query_one(DomainTable)
            await until(
                pilot, lambda: table.rows_by_key.get("m:work-a") and table.rows_by_key["m:work-a"].state == "Running"
            )
            await pilot.press("j", "c")
            await until(pilot, lambda: bool(handed), timeout=20)
        assert handed[0][-2:] == ["-t", "anklume:work"] and "attach-session" in handed[0]
        window = server.sessions.get(session_name="anklume").windows[0]
        assert window.cmd("show", "-wv", "window-status-style").stdout == ["bg=colour22,fg=white"]
        assert [p.cmd("display-message", "-p", "#{pane_title}").stdout[0] for p in window.panes] == ["[work] work-a"]
    finally:
        from anklume_tui.engine.console.tmux import kill_console

        kill_console(server, "anklume")
        server.kill()


def detail_text(app) -> str:
    """The detail pane as the terminal would show it."""
    from rich.console import Console

    console = Console(width=100, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
    console.print(app.screen.query_one("#detail").content)
    return console.export_text()


async def test_the_detail_pane_of_the_selected_machine_follows_events(incusd, infra):
    incusd.incus("init", "busybox", "work-a", "--project", "work")
    app = AnklumeApp(infra, incus_url=incusd.url)
    async with app.run_test(size=(150, 40)) as pilot:
        table = app.screen.query_one(DomainTable)
        await until(pilot, lambda: table.rows_by_key.get("m:work-a") and table.rows_by_key["m:work-a"].state != "…")
        table.move_to("m:work-a")
        await until(pilot, lambda: "Stopped" in detail_text(app))
        await asyncio.to_thread(incusd.incus, "start", "work-a", "--project", "work")
        await until(pilot, lambda: "Running" in detail_text(app))


async def test_n_updates_the_snapshot_count_without_a_reload(incusd, infra):
    incusd.incus("init", "busybox", "work-a", "--project", "work", "-c", "user.anklume.managed=true")
    app = AnklumeApp(infra, incus_url=incusd.url)
    async with app.run_test(size=(150, 40)) as pilot:
        table = app.screen.query_one(DomainTable)
        await until(pilot, lambda: table.rows_by_key.get("m:work-a") and table.rows_by_key["m:work-a"].state != "…")
        assert table.rows_by_key["m:work-a"].snapshots == "0"
        await pilot.press("j", "n")
        await until(pilot, lambda: table.rows_by_key["m:work-a"].snapshots == "1")
        assert app.screen.status.domains[0].machines[0].snapshots == 1  # what the detail pane shows
    listed = incusd.incus("snapshot", "list", "work-a", "--project", "work", "--format=csv").stdout
    assert len(listed.splitlines()) == 1
