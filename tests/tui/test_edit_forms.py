"""Editing the infra from the TUI: forms checked as you type, a diff before saving, removal after a question."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from textual.widgets import Input

from anklume_tui.app import AnklumeApp
from anklume_tui.psot.infra_candidate import validate_candidate
from anklume_tui.screens import infra_form
from anklume_tui.screens.confirm import ConfirmScreen
from anklume_tui.screens.infra_diff import InfraDiffScreen
from anklume_tui.screens.infra_form import DEBOUNCE_SECONDS, InfraForm
from anklume_tui.widgets.domain_table import DomainTable
from tests.engine.incus_helpers import isolate_host
from tests.wait_helpers import until

from .test_domains_screen import NO_INCUS, loaded

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "pro-workstation" / "infra.yml"


@pytest.fixture
def infra(tmp_path, monkeypatch) -> Path:
    """A copy of the pro-workstation example as ./infra.yml (relative, so findings name it the same each run)."""
    isolate_host(tmp_path, monkeypatch)
    monkeypatch.setenv("ANKLUME_INCUS", NO_INCUS)
    monkeypatch.chdir(tmp_path)
    shutil.copy(EXAMPLE, tmp_path / "infra.yml")
    return Path("infra.yml")


def declared_ip(app, name: str) -> str | None:
    result = app.screen.result
    machines = {m.name: m for d in result.infra.domains for m in d.machines} if result and result.infra else {}
    return machines[name].ip if name in machines else None


def text_of(form: InfraForm, selector: str) -> str:
    return str(form.query_one(selector).content)


async def open_form(app, pilot, row: str, key: str = "e") -> InfraForm:
    table = await loaded(app, pilot)
    await until(pilot, lambda: "Incus" in app.screen.sub_title)  # the unreachable daemon is reported: a still view
    table.move_to(row)
    await pilot.press(key)
    await until(pilot, lambda: isinstance(app.screen, InfraForm) and not app.screen.checking)
    return app.screen


async def type_into(pilot, form: InfraForm, field: str, text: str) -> None:
    box = form.query_one(f"#field-{field}", Input)
    box.focus()
    box.value = ""
    await pilot.press(*text)
    await until(pilot, lambda: not form.checking)


async def test_an_invalid_ip_is_named_under_its_field_then_the_fixed_one_is_saved_to_disk(infra):
    before = infra.read_text()
    app = AnklumeApp(infra)
    async with app.run_test(size=(140, 45)) as pilot:
        form = await open_form(app, pilot, "m:homelab-media")
        assert form.query_one("#field-ip", Input).value == "10.120.0.10"
        await type_into(pilot, form, "ip", "10.99.0.10")
        assert "error[M5]" in text_of(form, "#finding-ip") and "not in subnet" in text_of(form, "#finding-ip")
        assert "1 error(s)" in text_of(form, "#form-summary")
        await pilot.press("ctrl+s")
        assert app.screen is form  # an invalid change is not even previewed
        await type_into(pilot, form, "ip", "10.120.0.11")
        assert text_of(form, "#finding-ip") == "" and "Valid" in text_of(form, "#form-summary")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, InfraDiffScreen))
        assert infra.read_text() == before  # the preview writes nothing
        await pilot.press("y")
        await until(pilot, lambda: not isinstance(app.screen, (InfraForm, InfraDiffScreen)))
        await until(pilot, lambda: infra.read_text() != before)
        assert infra.read_text() == before.replace('ip: "10.120.0.10"', 'ip: "10.120.0.11"')
        await until(pilot, lambda: declared_ip(app, "homelab-media") == "10.120.0.11")  # the view reloaded


async def test_back_from_the_preview_returns_to_the_form_and_writes_nothing(infra):
    before = infra.read_text()
    app = AnklumeApp(infra)
    async with app.run_test(size=(140, 45)) as pilot:
        form = await open_form(app, pilot, "m:pro-dev")
        await type_into(pilot, form, "weight", "4")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, InfraDiffScreen))
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is form)
    assert infra.read_text() == before


async def test_a_saved_edit_reloads_the_domains_view(infra):
    app = AnklumeApp(infra)
    async with app.run_test(size=(140, 45)) as pilot:
        form = await open_form(app, pilot, "m:pro-comms")
        await type_into(pilot, form, "name", "pro-chat")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, InfraDiffScreen))
        await pilot.press("y")
        await until(pilot, lambda: "m:pro-chat" in app.screen.query_one(DomainTable).rows_by_key)
        assert "m:pro-comms" not in app.screen.query_one(DomainTable).rows_by_key
    assert "      pro-chat:\n" in infra.read_text()


async def test_a_adds_a_machine_to_the_selected_domain(infra):
    app = AnklumeApp(infra)
    async with app.run_test(size=(140, 45)) as pilot:
        form = await open_form(app, pilot, "d:perso", key="a")
        assert "New machine in domain perso" in text_of(form, "#form-title")
        assert "needs a name" in text_of(form, "#form-summary")
        await type_into(pilot, form, "name", "perso-mail")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, InfraDiffScreen))
        await pilot.press("y")
        await until(pilot, lambda: "m:perso-mail" in app.screen.query_one(DomainTable).rows_by_key)


async def test_colon_add_machine_adds_to_the_selected_machine_s_domain(infra):
    app = AnklumeApp(infra)
    async with app.run_test(size=(140, 45)) as pilot:
        table = await loaded(app, pilot)
        table.move_to("m:perso-desktop")
        await pilot.press("colon", *"add-machine", "enter")
        await until(pilot, lambda: isinstance(app.screen, InfraForm))
        assert text_of(app.screen, "#form-title") == "New machine in domain perso"


async def test_one_check_runs_at_a_time_and_the_last_values_are_checked_once_it_ends(infra, monkeypatch):
    running, overlapped, checked = [], [], []  # a check thread cannot be stopped: none may start beside it

    def slow_check(files, changes, ctx):
        overlapped.append(bool(running))
        running.append(1)
        time.sleep(0.6)  # longer than the pause between keystrokes below
        checked.append(changes)
        running.pop()
        return validate_candidate(files, changes, ctx)

    app = AnklumeApp(infra)
    async with app.run_test(size=(140, 45)) as pilot:
        form = await open_form(app, pilot, "m:pro-dev")
        monkeypatch.setattr(infra_form, "validate_candidate", slow_check)
        box = form.query_one("#field-description", Input)
        box.focus()
        box.value = ""
        for key in "abc":
            await pilot.press(key)
            await pilot.pause(DEBOUNCE_SECONDS + 0.1)  # the debounce has fired: a check is under way
        await until(pilot, lambda: not form.checking)
        assert overlapped and not any(overlapped)
        assert form.changes is not None and f'description: "{box.value}"\n' in next(iter(form.changes.values()))
        assert form.changes == checked[-1]  # what shows is the check of the last values


async def test_colon_add_domain_opens_an_empty_domain_form(infra):
    app = AnklumeApp(infra)
    async with app.run_test(size=(140, 45)) as pilot:
        await loaded(app, pilot)
        await pilot.press("colon", *"add-domain", "enter")
        await until(pilot, lambda: isinstance(app.screen, InfraForm))
        assert text_of(app.screen, "#form-title") == "New domain"


async def test_delete_asks_naming_the_machine_then_removes_it_from_the_file_only(infra):
    app = AnklumeApp(infra)
    async with app.run_test(size=(140, 45)) as pilot:
        table = await loaded(app, pilot)
        table.move_to("m:pro-vm")
        await pilot.press("delete")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        question = app.screen.question
        assert "machine pro-vm" in question and "apply --prune" in question
        await pilot.press("y")
        await until(pilot, lambda: "m:pro-vm" not in app.screen.query_one(DomainTable).rows_by_key)
    assert "pro-vm" not in infra.read_text()


async def test_the_read_only_example_refuses_editing(infra):
    app = AnklumeApp(EXAMPLE, read_only=True, notice="example")
    async with app.run_test(size=(140, 45)) as pilot:
        await loaded(app, pilot)
        await pilot.press("j", "e")
        await pilot.pause()
        assert not isinstance(app.screen, InfraForm)
        assert any("read-only" in str(n.message) for n in app._notifications)


async def test_the_palette_and_help_offer_the_edit_keys(infra):
    app = AnklumeApp(infra)
    async with app.run_test(size=(140, 45)) as pilot:
        await loaded(app, pilot)
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert {"Edit in the infra file", "Remove from the infra file"} <= titles
        await pilot.press("question_mark")
        does = list(app.screen._keys.columns[1].cells)
        assert "Add a machine to the domain (:add-domain for a domain)" in does


def test_the_form_with_a_finding_looks_right(snap_compare, infra):
    app = AnklumeApp(infra)

    async def invalid_ip(pilot):
        form = await open_form(app, pilot, "m:homelab-media")
        await type_into(pilot, form, "ip", "10.99.0.10")
        form.query_one("#field-ip", Input).cursor_blink = False
        await pilot.pause()

    assert snap_compare(app, terminal_size=(120, 50), run_before=invalid_ip)


def test_the_preview_looks_right(snap_compare, infra):
    app = AnklumeApp(infra)

    async def previewed(pilot):
        form = await open_form(app, pilot, "m:pro-dev")
        await type_into(pilot, form, "weight", "4")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, InfraDiffScreen))

    assert snap_compare(app, terminal_size=(120, 40), run_before=previewed)
