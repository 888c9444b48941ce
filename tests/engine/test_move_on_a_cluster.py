"""`move` on a real three-member cluster (tests/cluster_helpers.py), checked with the incus CLI (`incus list -c nL`):
a running container goes to another member and runs there, from the batch verb with its progress and from the
TUI's member picker (`M`); an unknown member is refused naming the members, an offline one as offline, the container
left where it was."""

from __future__ import annotations

import json

import pytest
from textual.widgets import Log, OptionList

from anklume_tui import cli
from anklume_tui.app import AnklumeApp
from anklume_tui.screens.move_machine import MemberPickerScreen
from tests.engine.incus_helpers import isolate_host
from tests.engine.move_helpers import location, machine_made
from tests.wait_helpers import until

pytestmark = pytest.mark.incus


def test_move_takes_a_running_container_to_another_member_and_refuses_an_unknown_one(
    incus_cluster, tmp_path, monkeypatch, capsys
):
    isolate_host(tmp_path, monkeypatch)
    first = incus_cluster.first
    infra = str(machine_made(first, tmp_path, "--target=member1"))
    assert location(first) == ("member1", "RUNNING")

    def move(*argv: str, machine: str = "pro-dev") -> tuple[int, str, str]:
        code = cli.main(["--batch", "move", machine, *argv, "--yes", "--infra", infra, "--incus", first.url])
        out, err = capsys.readouterr()
        return code, out, err

    code, out, err = move("--to", "member2", "--json")
    assert code == 0, err
    document = json.loads(out)
    assert (document["source"], document["target"], document["moved"], document["was_running"]) == (
        "member1",
        "member2",
        True,
        True,
    )
    assert [line for line in err.splitlines() if line.startswith("move: ")] == [
        "move: stopping pro/pro-dev on member1",
        "move: moving pro/pro-dev from member1 to member2",
        "move: starting pro/pro-dev on member2",
        "move: pro/pro-dev is on member2 and running",
    ]
    assert location(first) == ("member2", "RUNNING")

    code, out, err = move("--to", "member2")
    assert (code, out) == (0, "pro-dev is already on member2: nothing moved\n"), err

    code, _, err = move("--to", "member2", machine="pro-web")  # declared, never made
    assert code == 4 and "cannot move pro/pro-web: it does not exist in Incus (apply creates it)" in err

    code, _, err = move("--to", "member9")
    assert code == 4
    assert "cannot move pro/pro-dev to member 'member9': no such member (members: member1, member2, member3)" in err
    assert location(first) == ("member2", "RUNNING")

    incus_cluster.stop_member("member3", until_offline=True)  # the fixture brings it back
    code, _, err = move("--to", "member3")
    assert code == 4 and "cannot move pro/pro-dev to member 'member3': it is Offline" in err
    assert location(first) == ("member2", "RUNNING")


async def test_the_tui_moves_the_selected_machine_to_the_member_picked(incus_cluster, tmp_path, monkeypatch):
    isolate_host(tmp_path, monkeypatch)
    first = incus_cluster.first
    infra = machine_made(first, tmp_path, "--target=member2")
    app = AnklumeApp(infra, incus_url=first.url)
    async with app.run_test(size=(150, 45)) as pilot:
        await until(pilot, lambda: getattr(app.screen, "status", None) is not None, what="the status read")
        await pilot.press("colon", *"machine pro-dev", "enter", "M")
        picker = await until(pilot, lambda: app.screen if isinstance(app.screen, MemberPickerScreen) else None)
        options = picker.query_one(OptionList)
        here = options.get_option("member2")
        assert here.disabled and "here now" in str(here.prompt)
        options.highlighted = options.get_option_index("member3")
        await pilot.press("enter")
        log = app.screen.query_one("#operations", Log)
        await until(pilot, lambda: any(": done" in line for line in log.lines), 60, "the move's worker to end")
        steps = [line.split(" ", 1)[1] for line in log.lines if " move" in line]
    assert steps == [
        "move pro-dev to member3 …",
        "move: stopping pro/pro-dev on member2",
        "move: moving pro/pro-dev from member2 to member3",
        "move: starting pro/pro-dev on member3",
        "move: pro/pro-dev is on member3 and running",
        "move pro-dev to member3: done",
    ]
    assert location(first) == ("member3", "RUNNING")
