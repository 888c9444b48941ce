"""A long error is read whole (issue 16 point 5): the operations log of the domains view and the plan
screen's log wrap their lines at their width instead of cutting them at the screen's edge."""

from __future__ import annotations

from pathlib import Path

import pytest

from anklume_tui.app import AnklumeApp
from anklume_tui.widgets.domain_table import DomainTable
from anklume_tui.widgets.wrapped_log import wrapped
from tests.wait_helpers import until

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "pro-workstation" / "infra.yml"
LONG = (
    'start pro-dev: failed: Failed to start device "eth0": Failed to add host side veth: the address '
    "10.120.0.11 is already defined on another NIC of network net-pro (instance pro-vm in project pro); "
    "remove it there first, then start again -- the end of the message"
)


@pytest.fixture(autouse=True)
def quiet_host(tmp_path, monkeypatch):
    monkeypatch.setenv("ANKLUME_SKIP_HOST_SUBNET_CHECK", "1")
    monkeypatch.setenv("ANKLUME_CONTEXT_DIR", "/nonexistent")
    monkeypatch.setenv("ANKLUME_INCUS", "unix:///nonexistent/unix.socket")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


def test_a_line_wider_than_the_log_is_cut_into_indented_pieces_that_keep_every_word():
    pieces = wrapped(LONG, 60)
    assert len(pieces) > 3 and all(len(piece) <= 60 for piece in pieces)
    assert all(piece.startswith("  ") for piece in pieces[1:])
    assert " ".join(piece.strip() for piece in pieces).split() == LONG.split()
    assert wrapped("short", 60) == ["short"]


async def test_the_operations_log_shows_a_long_error_whole_on_a_narrow_terminal():
    app = AnklumeApp(EXAMPLE)
    async with app.run_test(size=(80, 40)) as pilot:
        screen = app.screen
        await until(pilot, lambda: screen.query_one(DomainTable).rows_by_key, what="the table's rows")
        screen.report(LONG)
        await pilot.pause()
        log = screen.query_one("#operations")
        width = log.scrollable_content_region.width
        assert 20 <= width <= 80
        assert len(log.lines) > 2 and all(len(line) <= width for line in log.lines)
        assert log.lines[-1].endswith("the end of the message")
        assert log.virtual_size.width <= width  # nothing to scroll sideways to
