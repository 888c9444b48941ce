"""N (or :disp) makes a disposable in the selected domain, shows its row, then offers a shell or leaves it
detached; checked in Incus with pylxd."""

from __future__ import annotations

import asyncio

import pytest

from anklume_tui.app import AnklumeApp
from anklume_tui.screens.confirm import ConfirmScreen
from anklume_tui.screens.domains.context_menu import ContextMenu
from anklume_tui.widgets.domain_table import DomainTable
from tests.engine.incus_helpers import isolate_host, make_domain
from tests.wait_helpers import until

pytestmark = pytest.mark.incus

INFRA = """\
project_name: dsp
global:
  addressing: {}
  default_os_image: busybox
domains:
  work:
    trust_level: trusted
    machines:
      work-a: {}
  throw:
    trust_level: disposable
    machines:
      throw-box: {}
  anklume:
    trust_level: admin
    machines:
      anklume-ctl: {}
"""


@pytest.fixture
def infra(incusd, tmp_path, monkeypatch):
    isolate_host(tmp_path, monkeypatch)
    make_domain(incusd, "work", "net-work", "10.110.0")
    make_domain(incusd, "throw", "net-throw", "10.150.0")
    path = tmp_path / "infra.yml"
    path.write_text(INFRA)
    return path


def disposable_keys(table: DomainTable) -> list[str]:
    return [key for key in table.rows_by_key if key.startswith("x:")]


async def test_n_makes_a_disposable_in_the_selected_domain_shows_its_row_and_stop_destroys_it(
    incusd, infra, pylxd_reader
):
    app = AnklumeApp(infra, incus_url=incusd.url)
    async with app.run_test(size=(150, 40)) as pilot:
        table = app.screen.query_one(DomainTable)
        await until(pilot, lambda: app.screen.status is not None)
        assert table.selected().key == "d:work"
        await pilot.press("N")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), timeout=60)
        await pilot.press("n")  # leave it running, detached
        [key] = disposable_keys(table)
        project, name = key.removeprefix("x:").split("/")
        assert project == "work" and name.startswith("disp-")
        found = pylxd_reader("work").instances.get(name)
        assert found.ephemeral is True and found.status == "Running"
        assert found.config["user.anklume.disposable"] == "true" and found.config["user.anklume.managed"] == "true"
        keys = list(table.rows_by_key)
        assert keys.index(key) > keys.index("m:work-a") and keys.index(key) < keys.index("d:throw")  # under work
        # Running, once the events of its creation and start (which may trail the worker) have gone through
        await until(pilot, lambda: table.rows_by_key[key].state == "Running")
        table.move_to(key)
        await pilot.press("m")
        await until(pilot, lambda: isinstance(app.screen, ContextMenu))
        assert [e.label for e in app.screen.entries] == ["Open a shell", "Stop (destroys it)"]
        await pilot.press("down", "enter")
        # Two things see the stop: the events (Incus says deleted, then stopped, before the stop call returns)
        # remove the row first, and the stop worker writes its line once the call returned. Wait for the later.
        operations = app.screen.query_one("#operations")
        await until(pilot, lambda: any("stopped and destroyed" in line for line in operations.lines), timeout=30)
        assert not disposable_keys(table)
        assert not pylxd_reader("work").instances.exists(name)


async def test_colon_disp_then_a_shell_hands_over_the_terminal_and_the_end_of_the_shell_destroys_it(
    incusd, infra, pylxd_reader
):
    app = AnklumeApp(infra, incus_url=incusd.url)
    handed: list[list[str]] = []
    app.hand_over_terminal = handed.append
    async with app.run_test(size=(150, 40)) as pilot:
        table = app.screen.query_one(DomainTable)
        await until(pilot, lambda: app.screen.status is not None)
        table.move_to("m:throw-box")
        await pilot.press("colon", *"disp", "enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), timeout=60)
        [key] = disposable_keys(table)
        name = key.removeprefix("x:throw/")
        assert pylxd_reader("throw").instances.get(name).ephemeral is True
        await pilot.press("y")
        await until(pilot, lambda: bool(handed))
        argv = handed[0]
        assert argv[0] == "env" and f"INCUS_SOCKET={incusd.socket_path}" in argv
        assert argv[argv.index("exec") :] == ["exec", "--project=throw", name, "--", "/bin/sh", "-l"]
        operations = app.screen.query_one("#operations")  # the stop worker's line comes last (see above)
        await until(pilot, lambda: any("stopped and destroyed" in line for line in operations.lines), timeout=30)
        assert not disposable_keys(table)
        assert not pylxd_reader("throw").instances.exists(name)


async def test_disposables_made_elsewhere_show_under_their_domain_and_go_once_stopped(incusd, infra):
    incusd.incus("launch", "busybox", "disp-before", "--ephemeral", "--project=work")
    app = AnklumeApp(infra, incus_url=incusd.url)
    async with app.run_test(size=(150, 40)) as pilot:
        table = app.screen.query_one(DomainTable)
        await until(pilot, lambda: "x:work/disp-before" in table.rows_by_key)  # from the status report
        keys = list(table.rows_by_key)
        assert keys.index("m:work-a") < keys.index("x:work/disp-before") < keys.index("d:throw")
        assert table.rows_by_key["x:work/disp-before"].state == "Running"
        incusd.incus("launch", "busybox", "disp-during", "--ephemeral", "--project=throw")
        await until(pilot, lambda: table.rows_by_key.get("x:throw/disp-during") is not None, timeout=30)
        await until(pilot, lambda: table.rows_by_key["x:throw/disp-during"].state == "Running", timeout=30)
        assert list(table.rows_by_key).index("x:throw/disp-during") > list(table.rows_by_key).index("m:throw-box")
        incusd.incus("stop", "disp-before", "--project=work", "--force")  # ephemeral: stopping destroys it
        await until(pilot, lambda: "x:work/disp-before" not in table.rows_by_key, timeout=30)
        assert disposable_keys(table) == ["x:throw/disp-during"]


async def test_colon_disp_on_the_admin_domain_makes_it_in_the_disposable_domain(incusd, infra, pylxd_reader):
    app = AnklumeApp(infra, incus_url=incusd.url)
    async with app.run_test(size=(150, 40)) as pilot:
        table = app.screen.query_one(DomainTable)
        await until(pilot, lambda: app.screen.status is not None)
        table.move_to("m:anklume-ctl")
        await pilot.press("colon", *"disp", "enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), timeout=60)
        await pilot.press("n")  # leave it running, detached
        [key] = disposable_keys(table)
        assert key.startswith("x:throw/disp-")
        assert any("never the admin domain anklume" in str(n.message) for n in app._notifications)
        name = key.removeprefix("x:throw/")
        assert pylxd_reader("throw").instances.get(name).ephemeral is True
    await asyncio.to_thread(incusd.incus, "stop", name, "--project=throw")
