"""User themes from $XDG_CONFIG_HOME/anklume/themes override the built-in look; a broken one is named and
left out, and the app starts anyway."""

from __future__ import annotations

from pathlib import Path

import pytest

from anklume_tui.app import AnklumeApp
from anklume_tui.widgets.domain_table import DomainTable
from tests.wait_helpers import until

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "pro-workstation" / "infra.yml"
BUILT_IN_MIN_WIDTH = 30  # `#detail { min-width: 30; }` in anklume_tui/themes/app.tcss


@pytest.fixture
def themes(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("ANKLUME_SKIP_HOST_SUBNET_CHECK", "1")
    monkeypatch.setenv("ANKLUME_CONTEXT_DIR", "/nonexistent")
    monkeypatch.setenv("ANKLUME_INCUS", "unix:///nonexistent/unix.socket")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    folder = tmp_path / "config" / "anklume" / "themes"
    folder.mkdir(parents=True)
    return folder


async def shown(app, pilot) -> DomainTable:
    table = app.screen.query_one(DomainTable)
    await until(pilot, lambda: table.rows_by_key, what="the table's rows")
    return table


async def test_a_user_theme_overrides_the_built_in_css(themes):
    (themes / "mine.tcss").write_text("#detail {\n  min-width: 44;\n  background: rgb(120, 10, 10);\n}\n")
    app = AnklumeApp(EXAMPLE)
    async with app.run_test(size=(140, 40)) as pilot:
        await shown(app, pilot)
        detail = app.screen.query_one("#detail")
        assert detail.styles.min_width.value == 44  # the same selector as the built-in rule: the theme wins
        assert detail.styles.background.rgb == (120, 10, 10)
        assert not app._notifications


async def test_a_broken_theme_is_named_in_a_notification_and_the_app_starts_with_the_built_in_look(themes):
    (themes / "broken.tcss").write_text("#detail {\n  min-width: 44;\n  colour: red;\n}\n")
    (themes / "unreadable.tcss").write_bytes(b"\xff\xfe#detail { min-width: 50; }")
    app = AnklumeApp(EXAMPLE)
    async with app.run_test(size=(140, 40)) as pilot:
        table = await shown(app, pilot)
        assert table.row_count > 3
        assert app.screen.query_one("#detail").styles.min_width.value == BUILT_IN_MIN_WIDTH
        messages = [(n.title, str(n.message)) for n in app._notifications]
        assert (
            "Theme not loaded",
            f"{themes / 'broken.tcss'}: line 3: Invalid CSS property 'colour'. Did you mean 'color'?",
        ) in messages
        assert any(str(themes / "unreadable.tcss") in text and "cannot be read" in text for _, text in messages)
