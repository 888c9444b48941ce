"""The home screen, driven through Textual's Pilot like a keyboard user would."""

from __future__ import annotations

from pathlib import Path

import pytest

from anklume_tui.app import AnklumeApp, choose_infra
from anklume_tui.screens.help import HelpScreen
from anklume_tui.widgets.domain_table import DomainTable
from tests.wait_helpers import until

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "pro-workstation" / "infra.yml"


NO_INCUS = "unix:///nonexistent/unix.socket"


@pytest.fixture(autouse=True)
def _quiet_host(monkeypatch):
    monkeypatch.setenv("ANKLUME_SKIP_HOST_SUBNET_CHECK", "1")
    monkeypatch.setenv("ANKLUME_CONTEXT_DIR", "/nonexistent")
    monkeypatch.setenv("ANKLUME_INCUS", NO_INCUS)


async def loaded(app, pilot):
    """The infra is checked and shown; the Incus watcher keeps running (it never completes)."""
    await until(pilot, lambda: getattr(app.screen, "result", None) is not None, what="the infra checked and shown")
    await pilot.pause()
    return app.screen.query_one(DomainTable)


def test_without_an_infra_the_bundled_example_opens_read_only(tmp_path, monkeypatch):
    monkeypatch.delenv("ANKLUME_INFRA", raising=False)
    path, read_only, notice = choose_infra(None, tmp_path)
    assert read_only and path.exists() and "cp " in notice and "infra.yml" in notice


def test_an_infra_in_the_current_folder_is_opened_for_real(tmp_path, monkeypatch):
    monkeypatch.delenv("ANKLUME_INFRA", raising=False)
    (tmp_path / "infra.yml").write_text(EXAMPLE.read_text())
    assert choose_infra(None, tmp_path) == (tmp_path / "infra.yml", False, None)


async def test_domains_then_their_machines_in_declaration_order():
    app = AnklumeApp(EXAMPLE)
    async with app.run_test(size=(140, 40)) as pilot:
        table = await loaded(app, pilot)
        keys = list(table.rows_by_key)
        assert keys[:3] == ["d:anklume", "m:anklume-instance", "d:perso"]
        assert keys.index("d:homelab") > keys.index("m:pro-vm")


async def test_vim_keys_move_the_selection_and_the_detail_follows():
    app = AnklumeApp(EXAMPLE)
    async with app.run_test(size=(140, 40)) as pilot:
        table = await loaded(app, pilot)
        await pilot.press("j")
        assert table.selected().name == "anklume-instance"
        assert app.screen.query_one("#detail").subject == "m:anklume-instance"
        await pilot.press("j", "k")
        assert table.selected().name == "anklume-instance"


async def test_slash_filters_and_escape_clears():
    app = AnklumeApp(EXAMPLE)
    async with app.run_test(size=(140, 40)) as pilot:
        table = await loaded(app, pilot)
        total = table.row_count
        await pilot.press("slash", "h", "o", "m", "e", "enter")
        assert table.row_count < total
        assert all(key in ("d:homelab",) or key.startswith("m:homelab") for key in table.rows_by_key)
        await pilot.press("escape")
        assert table.row_count == total


async def test_an_invalid_infra_shows_its_errors_with_file_and_line(tmp_path):
    broken = tmp_path / "infra.yml"
    broken.write_text(EXAMPLE.read_text().replace("trust_level: admin", "trust_level: root", 1))
    app = AnklumeApp(broken)
    async with app.run_test(size=(140, 40)) as pilot:
        await loaded(app, pilot)
        log = app.screen.query_one("#findings")
        text = "\n".join(log.lines)
        assert f"{broken}:" in text and "error[D8]" in text


async def test_question_mark_lists_the_keys_and_escape_closes():
    app = AnklumeApp(EXAMPLE)
    async with app.run_test(size=(140, 40)) as pilot:
        await loaded(app, pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_q_quits_from_the_top():
    app = AnklumeApp(EXAMPLE)
    async with app.run_test(size=(140, 40)) as pilot:
        await loaded(app, pilot)
        await pilot.press("q")
        assert not app.is_running


def test_domains_screen_looks_right(snap_compare, monkeypatch):
    monkeypatch.chdir(ROOT)
    app = AnklumeApp(Path("examples/pro-workstation/infra.yml"))

    async def settle(pilot):
        await loaded(app, pilot)
        # the unreachable daemon is reported, then the screen is stable
        await until(pilot, lambda: "Incus" in app.screen.sub_title, what="Incus named in the sub-title")

    assert snap_compare(app, terminal_size=(140, 32), run_before=settle)


async def test_the_read_only_example_refuses_actions():
    app = AnklumeApp(EXAMPLE, read_only=True, notice="example")
    async with app.run_test(size=(140, 40)) as pilot:
        await loaded(app, pilot)
        await pilot.press("j", "s")
        await pilot.pause()
        assert any("read-only" in str(n.message) for n in app._notifications)


def test_help_screen_looks_right(snap_compare, monkeypatch):
    monkeypatch.chdir(ROOT)
    app = AnklumeApp(Path("examples/pro-workstation/infra.yml"))

    async def open_help(pilot):
        await loaded(app, pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(140, 40), run_before=open_help)


def test_plan_screen_with_an_invalid_infra_looks_right(snap_compare, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "infra.yml").write_text(EXAMPLE.read_text().replace("trust_level: admin", "trust_level: root", 1))
    app = AnklumeApp(Path("infra.yml"))

    async def open_plan(pilot):
        await loaded(app, pilot)
        await pilot.press("p")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(140, 32), run_before=open_plan)


async def test_colon_domain_jumps_to_it_and_unknown_commands_are_explained():
    app = AnklumeApp(EXAMPLE)
    async with app.run_test(size=(140, 40)) as pilot:
        table = await loaded(app, pilot)
        await pilot.press("colon", *"domain homelab", "enter")
        assert table.selected().key == "d:homelab"
        await pilot.press("colon", *"frobnicate", "enter")
        await pilot.pause()
        assert any("unknown command" in str(n.message) for n in app._notifications)


async def test_the_palette_offers_the_screen_s_own_commands():
    app = AnklumeApp(EXAMPLE)
    async with app.run_test(size=(140, 40)) as pilot:
        await loaded(app, pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert {"Plan/apply", "Start", "Snapshot now", "Filter"} <= set(titles)
