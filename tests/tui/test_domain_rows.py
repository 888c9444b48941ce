"""Rows of the domains view: grouping, filter, running-only and sort (pure, no terminal)."""

from __future__ import annotations

from pathlib import Path

from anklume_tui.psot.context import HostContext
from anklume_tui.psot.pipeline import run_psot
from anklume_tui.screens.domain_rows import View, rows_of

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "pro-workstation" / "infra.yml"
RESULT = run_psot(EXAMPLE, HostContext(skip_subnet_check=True))


def keys(rows) -> list[str]:
    return [r.key for r in rows]


def test_domains_stay_grouped_in_declaration_order_whatever_the_sort():
    for sort in ("declared", "name", "state", "ip"):
        domains = [r.name for r in rows_of(RESULT, View(sort=sort)) if r.is_domain]
        assert domains == [d.name for d in RESULT.infra.domains]


def test_sort_by_name_orders_machines_inside_each_domain():
    rows = rows_of(RESULT, View(sort="name"))
    pro = [r.name for r in rows if r.key.startswith("m:pro-")]
    assert pro == sorted(pro)


def test_running_only_keeps_running_machines_and_their_domain():
    live = {"m:pro-dev": {"state": "Running"}, "m:pro-vm": {"state": "Stopped"}}
    assert keys(rows_of(RESULT, View(running_only=True), live)) == ["d:pro", "m:pro-dev"]


def test_sort_by_state_puts_running_first():
    live = {"m:pro-vm": {"state": "Running"}, "m:pro-dev": {"state": "Stopped"}}
    pro = [r.name for r in rows_of(RESULT, View(sort="state"), live) if r.key.startswith("m:pro-")]
    assert pro[0] == "pro-vm"


def test_a_filter_keeps_matching_machines_with_their_domain():
    assert keys(rows_of(RESULT, View(needle="browser"))) == ["d:perso", "m:perso-browser"]


def test_the_live_ip_from_incus_replaces_the_declared_one():
    live = {"m:pro-dev": {"state": "Running", "ip": "10.110.1.99"}}
    (row,) = [r for r in rows_of(RESULT, View(), live) if r.key == "m:pro-dev"]
    assert (row.state, row.ip) == ("Running", "10.110.1.99")
