"""The cpu and memory cells of the domains view, from a usage reading (pure, no terminal)."""

from __future__ import annotations

from anklume_tui.engine.host.usage import Usage
from anklume_tui.reports import DomainStatus, MachineStatus, StatusReport
from anklume_tui.screens.domains.rows import cpu_text, memory_text, usage_fields


def machine(name: str) -> MachineStatus:
    return MachineStatus(
        name=name, instance=name, state="Running", type="lxc", ip=None, protected=False, snapshots=0, drift="ok",
        differences=[],
    )  # fmt: skip


REPORT = StatusReport(
    domains=[
        DomainStatus(
            name="work", project="work", network="net-work", trust_level="trusted", enabled=True, exists=True,
            network_exists=True, machines=[machine("a"), machine("b"), machine("c")],
        )
    ]
)  # fmt: skip


def test_memory_reads_in_binary_units_with_three_figures_at_most():
    assert [memory_text(n) for n in (512, 1536, 812 * 1024, 5 * 1024**3 + 1)] == ["512B", "1.5KiB", "812KiB", "5.0GiB"]
    assert memory_text(None) == ""


def test_cpu_shows_a_decimal_only_below_ten_percent():
    assert [cpu_text(p) for p in (0.04, 3.25, 9.96, 187.4, None)] == ["0.0%", "3.2%", "10%", "187%", ""]


def test_a_domain_totals_its_running_machines_and_a_machine_not_running_has_empty_cells():
    usage = {("work", "a"): Usage(50.0, 1024**2), ("work", "b"): Usage(25.0, 2 * 1024**2)}
    cells = usage_fields(REPORT, usage, {})
    assert cells["m:a"] == {"cpu": "50%", "memory": "1.0MiB"}
    assert cells["d:work"] == {"cpu": "75%", "memory": "3.0MiB"}
    assert "m:c" not in cells  # not running and already empty: nothing to change


def test_only_cells_whose_text_changes_are_given_and_a_stopped_machine_is_emptied():
    usage = {("work", "a"): Usage(50.0, 1024**2)}
    live = {"m:a": {"cpu": "50%", "memory": "1.0MiB"}, "d:work": {"cpu": "50%", "memory": "1.0MiB"}}
    assert usage_fields(REPORT, usage, live) == {}
    assert usage_fields(REPORT, {}, live) == {"m:a": {"cpu": "", "memory": ""}, "d:work": {"cpu": "", "memory": ""}}


def test_a_domain_shows_no_cpu_total_until_each_running_machine_has_a_share():
    usage = {("work", "a"): Usage(50.0, 1024), ("work", "b"): Usage(None, 1024)}
    assert usage_fields(REPORT, usage, {})["d:work"] == {"cpu": "", "memory": "2.0KiB"}
