"""Every binding has an id; `$XDG_CONFIG_HOME/anklume/keymap.toml` remaps them by id (a bad entry is named in a
notification and ignored, the app starts anyway); help shows keys as people type them."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest
from textual.binding import Binding

import anklume_tui.screens
import anklume_tui.widgets
from anklume_tui.app import AnklumeApp
from anklume_tui.screens.help import HelpScreen
from anklume_tui.widgets.domain_table import DomainTable
from tests.wait_helpers import until

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "pro-workstation" / "infra.yml"


@pytest.fixture
def keymap_file(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("ANKLUME_SKIP_HOST_SUBNET_CHECK", "1")
    monkeypatch.setenv("ANKLUME_CONTEXT_DIR", "/nonexistent")
    monkeypatch.setenv("ANKLUME_INCUS", "unix:///nonexistent/unix.socket")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    path = tmp_path / "config" / "anklume" / "keymap.toml"
    path.parent.mkdir(parents=True)
    return path


async def loaded(app, pilot) -> DomainTable:
    await until(pilot, lambda: getattr(app.screen, "result", None) is not None)
    return app.screen.query_one(DomainTable)


def help_rows(app) -> dict[str, str]:
    """What the help screen lists: description → keys as shown."""
    keys, does = app.screen._keys.columns
    return {str(description): str(key) for key, description in zip(keys.cells, does.cells, strict=True)}


def notified(app) -> list[str]:
    return [str(notification.message) for notification in app._notifications]


def declared_bindings() -> list[tuple[str, Binding]]:
    """Every binding the app's classes declare: the app, each screen and each widget, by class."""
    found = [("AnklumeApp", binding) for binding in AnklumeApp.BINDINGS]
    for package in (anklume_tui.screens, anklume_tui.widgets):
        for info in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            module = importlib.import_module(info.name)
            for name, cls in inspect.getmembers(module, inspect.isclass):
                if cls.__module__ == module.__name__:
                    found += [(name, binding) for binding in cls.__dict__.get("BINDINGS", [])]
    return found


def test_every_binding_of_the_app_its_screens_and_widgets_has_its_own_readable_id():
    bindings = declared_bindings()
    owners = {owner for owner, _ in bindings}
    assert {"AnklumeApp", "DomainsScreen", "HelpScreen", "DomainTable", "PlanScreen"} <= owners
    assert len(bindings) >= 60
    without = [(owner, binding.key, binding.action) for owner, binding in bindings if not binding.id]
    assert without == []
    ids = [binding.id for _, binding in bindings]
    assert len(set(ids)) == len(ids), "an id names one binding"
    assert all(re.fullmatch(r"[a-z_]+\.[a-z_]+", bid) for bid in ids), ids


async def test_help_shows_keys_as_people_type_them(keymap_file):
    app = AnklumeApp(EXAMPLE)
    async with app.run_test(size=(140, 40)) as pilot:
        await loaded(app, pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        rows = help_rows(app)
        assert rows["Help"] == "?, F1"
        assert rows["Filter"] == "/"
        assert rows[":command"] == ":"
        assert rows["Menu"] == "m, Shift+F10"
        assert rows["Remove from the infra file"] == "Del"
        assert "question_mark" not in " ".join(rows.values())


async def test_a_remapped_key_runs_its_binding_and_the_old_key_no_longer_does(keymap_file):
    keymap_file.write_text('[keys]\napp.help = "F2"\n"domains.filter" = ["ctrl+f"]\n')
    app = AnklumeApp(EXAMPLE)
    async with app.run_test(size=(140, 40)) as pilot:
        table = await loaded(app, pilot)
        total = table.row_count
        await pilot.press("slash", "h", "o", "m", "e", "enter")
        assert table.row_count == total  # `/` no longer filters
        await pilot.press("ctrl+f", "h", "o", "m", "e", "enter")
        await until(pilot, lambda: 0 < table.row_count < total)
        assert all(key == "d:homelab" or key.startswith("m:homelab") for key in table.rows_by_key)
        await pilot.press("escape")
        await pilot.press("question_mark")
        await pilot.press("f1")
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("f2")
        assert isinstance(app.screen, HelpScreen)
        rows = help_rows(app)
        assert rows["Help"] == "F2"
        assert rows["Filter"] == "Ctrl+F"
        assert not [n.message for n in app._notifications if "Keymap" in (n.title or "")]


async def test_a_bad_entry_is_named_and_ignored_and_the_others_still_apply(keymap_file):
    keymap_file.write_text(
        "[keys]\n"
        '"app.help" = "f2"\n'
        '"domains.nothing" = "z"\n'
        '"domains.reload" = "ctrl+bogus"\n'
        '"domains.sort" = 7\n'
        '"[b]loud[/b]" = "y"\n'
    )
    app = AnklumeApp(EXAMPLE)
    async with app.run_test(size=(140, 40)) as pilot:
        await loaded(app, pilot)
        await until(pilot, lambda: any("[b]loud[/b]" in message for message in notified(app)))
        messages = notified(app)
        assert f"{keymap_file}: domains.reload = 'ctrl+bogus': 'ctrl+bogus' is not a key; ignored" in messages
        assert f"{keymap_file}: domains.nothing: no binding has this id; ignored" in messages
        assert any(message.startswith(f"{keymap_file}: domains.sort = 7: ") for message in messages)
        assert f"{keymap_file}: [b]loud[/b]: no binding has this id; ignored" in messages  # the file's text, not markup
        assert all(not notification.markup for notification in app._notifications)
        await pilot.press("f2")
        assert isinstance(app.screen, HelpScreen)
        rows = help_rows(app)
        assert rows["Reload"] == "r" and rows["Sort"] == "o"  # the bad entries left the keys as they were


async def test_a_broken_keymap_file_is_named_and_every_key_stays_as_it_was(keymap_file):
    keymap_file.write_text('[keys\n"app.help" = "f2"\n')
    app = AnklumeApp(EXAMPLE)
    async with app.run_test(size=(140, 40)) as pilot:
        await loaded(app, pilot)
        messages = notified(app)
        assert any(message.startswith(f"{keymap_file}: not valid TOML (") for message in messages), messages
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        assert help_rows(app)["Help"] == "?, F1"


async def test_a_remapped_key_that_takes_another_binding_s_key_says_so(keymap_file):
    keymap_file.write_text('[keys]\n"domains.reload" = "o"\n')
    app = AnklumeApp(EXAMPLE)
    async with app.run_test(size=(140, 40)) as pilot:
        await loaded(app, pilot)
        await pilot.press("j")
        taken = f"{keymap_file}: domains.reload: o takes the key of domains.sort"
        await until(pilot, lambda: taken in notified(app))
        await pilot.press("question_mark")
        rows = help_rows(app)
        assert rows["Reload"] == "o" and "Sort" not in rows
