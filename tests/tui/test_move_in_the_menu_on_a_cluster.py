"""A machine's menu offers "Move to member…" (what `M` does) when the machine is on a cluster member, and not
off a cluster, where there is nowhere to move it."""

from __future__ import annotations

from anklume_tui.screens.domains.context_menu import menu_for
from anklume_tui.widgets.domain_table import Row


def test_the_menu_offers_the_move_only_for_a_machine_on_a_member():
    on_member = Row(key="m:a", name="a", trust="trusted", kind="lxc", ip="", state="Running", location="member1")
    entries = {entry.label: (entry.key, entry.action) for entry in menu_for(on_member)}
    assert entries["Move to member…"] == ("M", "move_machine")
    alone = Row(key="m:a", name="a", trust="trusted", kind="lxc", ip="", state="Running")
    assert "Move to member…" not in [entry.label for entry in menu_for(alone)]
