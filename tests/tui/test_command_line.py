"""`:` commands: a prefix is enough, and a prefix several commands share means the most used one."""

from __future__ import annotations

import pytest

from anklume_tui.screens.command_line import COMMANDS, Command, UnknownCommand, parse_command


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        (":d pro", Command("domain", "pro")),
        (":di", Command("disp")),
        (":a", Command("ai")),
        (":add", Command("add-machine")),
        (":add-d", Command("add-domain")),
        (":re", Command("reload")),
        (":res /tmp/b", Command("restore", "/tmp/b")),
        (":pl", Command("plan")),
        ("  :Filter  web server ", Command("filter", "web server")),
    ],
)
def test_a_prefix_resolves_to_the_first_command_that_has_it(typed, meant):
    assert parse_command(typed) == meant


def test_every_command_is_reached_by_its_full_name():
    assert all(parse_command(f":{verb}").verb == verb for verb in COMMANDS)


def test_an_unknown_command_lists_the_known_ones():
    with pytest.raises(UnknownCommand, match=r"unknown command ':frob' \(known: :domain, :machine"):
        parse_command(":frob")


def test_every_command_but_the_jumps_and_the_filter_names_an_action_with_its_argument():
    assert parse_command(":restore /tmp/my backup").action == "screen.restore_backup('/tmp/my backup')"
    assert parse_command(":plan").action == "screen.plan"
    handled_by_the_screen = {verb for verb, known in COMMANDS.items() if known.action is None}
    assert handled_by_the_screen == {"domain", "machine", "filter"}
