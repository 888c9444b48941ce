""":copy (or a machine's menu) asks for a file and a connected machine, says why the others are refused, and
copies in a worker; the result is checked with the incus CLI."""

from __future__ import annotations

from pathlib import Path

import pytest

from anklume_tui.app import AnklumeApp
from anklume_tui.screens.copy_file import CopyFileScreen
from anklume_tui.screens.domains.context_menu import menu_for
from anklume_tui.widgets.domain_table import UNKNOWN, DomainTable, Row
from tests.engine.incus_helpers import isolate_host, make_domain, make_instance
from tests.engine.test_file_transfer import INFRA, NETS, put, read, stat
from tests.wait_helpers import until

ROOT = Path(__file__).resolve().parents[2]


def test_a_machine_s_menu_offers_the_copy_and_a_domain_s_a_disposable_with_its_key():
    machine = Row(key="m:a", name="a", trust="trusted", kind="lxc", ip="", state=UNKNOWN)
    assert "Copy a file to…" in [e.label for e in menu_for(machine)]
    domain = Row(key="d:work", name="work", trust="trusted", kind="domain", ip="")
    entries = {e.label: (e.key, e.action) for e in menu_for(domain)}
    assert entries["New disposable here"] == ("N", "new_disposable")


@pytest.fixture
def connected(incusd, tmp_path, monkeypatch):
    """alpha-a and beta-a (joined by a policy) and delta-b (joined to neither) running; the infra file."""
    isolate_host(tmp_path, monkeypatch)
    for domain, machine in (("alpha", "alpha-a"), ("beta", "beta-a")):
        make_domain(incusd, domain, f"net-{domain}", NETS[domain])
        make_instance(incusd, domain, machine, running=True, protected=False)
    path = tmp_path / "infra.yml"
    path.write_text(INFRA)
    return path


@pytest.mark.incus
async def test_colon_copy_offers_connected_machines_explains_refusals_and_copies(incusd, connected, tmp_path):
    put(incusd, "alpha-a", "/root/plan.txt", b"the plan\n", tmp_path, "0640", 0)
    app = AnklumeApp(connected, incus_url=incusd.url)
    async with app.run_test(size=(150, 40)) as pilot:
        table = app.screen.query_one(DomainTable)
        await until(pilot, lambda: app.screen.status is not None)
        table.move_to("m:alpha-a")
        await pilot.press("colon", *"copy", "enter")
        await until(pilot, lambda: isinstance(app.screen, CopyFileScreen))
        form = app.screen
        assert [c.machine for c in form.choices if c.link][:2] == ["alpha-b", "beta-a"]
        form.query_one("#copy-target").value = "delta-b"
        await pilot.pause()
        assert "no network policy or shared volume connects domain alpha and domain delta" in str(
            form.query_one("#copy-why").render()
        )
        assert form.query_one("#copy-go").disabled
        form.query_one("#copy-target").value = "beta-a"
        await pilot.pause()
        assert not form.query_one("#copy-go").disabled
        await pilot.press(*"/root/plan.txt")
        form.query_one("#copy-destination").value = "/tmp/plan.txt"
        await pilot.press("enter")
        operations = app.screen.query_one("#operations")
        await until(pilot, lambda: any("copied alpha-a:/root/plan.txt" in line for line in operations.lines))
    assert read(incusd, "beta-a", "/tmp/plan.txt", tmp_path) == b"the plan\n"
    assert stat(incusd, "beta-a", "/tmp/plan.txt") == "640 0 0"


def test_the_copy_form_looks_right(snap_compare, monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("ANKLUME_SKIP_HOST_SUBNET_CHECK", "1")
    monkeypatch.setenv("ANKLUME_CONTEXT_DIR", "/nonexistent")
    monkeypatch.setenv("ANKLUME_INCUS", "unix:///nonexistent/unix.socket")
    app = AnklumeApp(Path("examples/pro-workstation/infra.yml"))

    async def open_form(pilot):
        await until(pilot, lambda: "Incus" in app.screen.sub_title)
        app.screen.query_one(DomainTable).move_to("m:pro-dev")
        await pilot.press("colon", *"copy", "enter")
        await until(pilot, lambda: isinstance(app.screen, CopyFileScreen))
        for box in app.screen.query("Input"):
            box.cursor_blink = False  # the focused input's cursor would otherwise come and go
        app.screen.query_one("#copy-target").value = "perso-desktop"  # not connected: the reason shows
        await pilot.pause()

    assert snap_compare(app, terminal_size=(140, 36), run_before=open_form)
