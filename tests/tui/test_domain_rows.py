"""Rows of the domains view: grouping, filter, running-only and sort (pure, no terminal)."""

from __future__ import annotations

from pathlib import Path

from anklume_tui.psot.context import HostContext
from anklume_tui.psot.outline import outline
from anklume_tui.psot.pipeline import run_psot
from anklume_tui.reports import MachineStatus
from anklume_tui.screens.domains.rows import View, machine_fields, rows_of

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "pro-workstation" / "infra.yml"
DOMAINS = run_psot(EXAMPLE, HostContext(skip_subnet_check=True)).infra.domains


def keys(rows) -> list[str]:
    return [r.key for r in rows]


def test_domains_stay_grouped_in_declaration_order_whatever_the_sort():
    for sort in ("declared", "name", "state", "ip"):
        domains = [r.name for r in rows_of(DOMAINS, View(sort=sort)) if r.is_domain]
        assert domains == [d.name for d in DOMAINS]


def test_sort_by_name_orders_machines_inside_each_domain():
    rows = rows_of(DOMAINS, View(sort="name"))
    pro = [r.name for r in rows if r.key.startswith("m:pro-")]
    assert pro == sorted(pro)


def test_running_only_keeps_running_machines_and_their_domain():
    live = {"m:pro-dev": {"state": "Running"}, "m:pro-vm": {"state": "Stopped"}}
    assert keys(rows_of(DOMAINS, View(running_only=True), live)) == ["d:pro", "m:pro-dev"]


def test_sort_by_state_puts_running_first():
    live = {"m:pro-vm": {"state": "Running"}, "m:pro-dev": {"state": "Stopped"}}
    pro = [r.name for r in rows_of(DOMAINS, View(sort="state"), live) if r.key.startswith("m:pro-")]
    assert pro[0] == "pro-vm"


def test_a_filter_keeps_matching_machines_with_their_domain():
    assert keys(rows_of(DOMAINS, View(needle="browser"))) == ["d:perso", "m:perso-browser"]


def test_the_live_ip_from_incus_replaces_the_declared_one():
    live = {"m:pro-dev": {"state": "Running", "ip": "10.110.1.99"}}
    (row,) = [r for r in rows_of(DOMAINS, View(), live) if r.key == "m:pro-dev"]
    assert (row.state, row.ip) == ("Running", "10.110.1.99")


def test_the_quick_outline_gives_the_rows_of_the_checked_infra_save_what_the_check_computes():
    quick, full = rows_of(outline(EXAMPLE)), rows_of(DOMAINS)
    assert keys(quick) == keys(full)
    assert [(r.name, r.trust, r.kind, r.enabled) for r in quick] == [(r.name, r.trust, r.kind, r.enabled) for r in full]
    computed = {r.key for r in full if r.ip not in {q.ip for q in quick if q.key == r.key}}
    assert all(q.ip == "…" for q in quick if q.key in computed)  # subnets and auto IPs: not guessed


def test_the_outline_of_the_directory_form_equals_that_of_the_single_file():
    example = EXAMPLE.parents[1] / "directory-form"
    folder, single = example / "infra", example / "single-file-equivalent.yml"
    assert keys(rows_of(outline(folder))) == keys(rows_of(outline(single)))
    assert len(rows_of(outline(folder))) > 3


def test_an_unreadable_infra_has_no_outline(tmp_path):
    broken = tmp_path / "infra.yml"
    broken.write_text("domains: [unclosed\n")
    assert outline(broken) is None
    assert outline(tmp_path / "missing.yml") is None
    listed = tmp_path / "list.yml"
    listed.write_text("- a\n- b\n")
    assert outline(listed) is None


def _status(**fields) -> MachineStatus:
    base = {"name": "pro-dev", "instance": "pro-dev", "type": "lxc", "protected": True, "snapshots": 0}
    return MachineStatus(**{**base, "drift": "ok", "differences": [], **fields})


def test_ip_cell_is_the_live_address_and_marks_the_declared_one_when_it_is_not_live():
    running = _status(state="Running", ip="10.100.1.3", declared_ip="10.100.1.3")
    assert machine_fields(running)["ip"] == "10.100.1.3"
    moved = _status(state="Running", ip="10.100.1.120", declared_ip="10.100.1.3")
    assert machine_fields(moved)["ip"] == "10.100.1.120 (declared 10.100.1.3)"
    stopped = _status(state="Stopped", ip=None, declared_ip="10.100.1.3", drift="drift")
    assert machine_fields(stopped)["ip"] == "10.100.1.3 (declared)"
    assert machine_fields(_status(state="Stopped", ip=None, declared_ip=None))["ip"] == "-"


def test_a_declared_machine_not_yet_created_shows_not_created_not_dhcp():
    missing = _status(state="missing", ip=None, declared_ip=None, protected=None, snapshots=None, drift="missing")
    assert machine_fields(missing)["ip"] == "not created"
    rows = rows_of(DOMAINS, live={"m:pro-dev": machine_fields(missing)})
    assert next(r for r in rows if r.key == "m:pro-dev").ip == "not created"
