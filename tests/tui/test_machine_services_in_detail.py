"""The machine detail pane says what a machine offers (and to whom) and what it uses (and how it reaches it),
read from the infra (issue 19): no Incus needed; a description from infra.yml is shown as written."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from anklume_tui.app import AnklumeApp
from tests.services.services_infra_helpers import provider_and_consumer
from tests.wait_helpers import until

NO_INCUS = "unix:///nonexistent/unix.socket"
INFRA = provider_and_consumer("services-tui", "10.123")


@pytest.fixture
def infra(tmp_path, monkeypatch):
    monkeypatch.setenv("ANKLUME_SKIP_HOST_SUBNET_CHECK", "1")
    monkeypatch.setenv("ANKLUME_CONTEXT_DIR", "/nonexistent")
    monkeypatch.setenv("ANKLUME_INCUS", NO_INCUS)
    monkeypatch.chdir(tmp_path)  # the sub-title names the infra as given: the same on every machine
    Path("infra.yml").write_text(INFRA)
    return Path("infra.yml")


def detail_text(app: AnklumeApp) -> str:
    console = Console(width=100, record=True, file=io.StringIO(), color_system=None)
    console.print(app.screen.query_one("#detail").content)
    return console.export_text()


async def jump_to(pilot, machine: str) -> None:
    """`:machine NAME`, as a user types it, once the infra is checked."""
    app = pilot.app
    await until(pilot, lambda: getattr(app.screen, "result", None) is not None, what="the infra checked")
    await pilot.press("colon", *f"machine {machine}", "enter")
    await until(pilot, lambda: app.screen.query_one("#detail").subject == f"m:{machine}", what=f"{machine} shown")


async def test_the_detail_pane_of_a_provider_lists_its_offers_and_their_consumers(infra):
    app = AnklumeApp(infra)
    async with app.run_test(size=(160, 40)) as pilot:
        await jump_to(pilot, "tools-mcp")
        text = detail_text(app)
    assert "offers" in text
    assert "notes (mcp, socket /run/mcp/notes.sock) to work-dev: Notes [bold]over[/] MCP" in text
    assert "search (tcp, port 8765) to work-dev, work-ops" in text
    assert "uses" not in text.split("offers", 1)[1]  # a provider that consumes nothing has no uses line


async def test_the_detail_pane_of_a_consumer_lists_what_it_uses_and_how(infra):
    app = AnklumeApp(infra)
    async with app.run_test(size=(160, 40)) as pilot:
        await jump_to(pilot, "work-dev")
        text = detail_text(app)
    assert "uses" in text
    assert "tools-mcp/search (tcp, port 8765, via policy)" in text
    assert "tools-mcp/notes (mcp, socket /home/user/notes.sock, via proxy)" in text
    assert "offers" not in text


def test_a_consumers_detail_pane_looks_right(snap_compare, infra):
    app = AnklumeApp(infra)

    async def settle(pilot):
        await jump_to(pilot, "work-dev")
        await until(pilot, lambda: "Incus" in app.screen.sub_title, what="Incus named in the sub-title")

    assert snap_compare(app, terminal_size=(140, 32), run_before=settle)
