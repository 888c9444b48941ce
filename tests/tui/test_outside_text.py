"""Text the app did not write (a theme file, an infra description, Incus's messages) is shown as it is, never
read as markup: `[/b]` does not stop the app and `[bold]` stays on screen as typed."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console
from textual.widgets._toast import Toast

from anklume_tui.app import AnklumeApp
from anklume_tui.engine import machines
from anklume_tui.engine.incus.transport import IncusError
from anklume_tui.engine.machines.file_transfer import Location
from anklume_tui.psot.context import HostContext
from anklume_tui.psot.pipeline import run_psot
from anklume_tui.screens.copy_file import CopyRequest
from anklume_tui.widgets.detail import machine_detail
from anklume_tui.widgets.domain_table import DomainTable
from tests.wait_helpers import until

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "pro-workstation" / "infra.yml"
MARKUP = "[bold]/root/x[/b] [red]no[/]"


@pytest.fixture(autouse=True)
def quiet_host(tmp_path, monkeypatch):
    monkeypatch.setenv("ANKLUME_SKIP_HOST_SUBNET_CHECK", "1")
    monkeypatch.setenv("ANKLUME_CONTEXT_DIR", "/nonexistent")
    monkeypatch.setenv("ANKLUME_INCUS", "unix:///nonexistent/unix.socket")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


def toasts(app) -> list[str]:
    return [str(toast.render()) for toast in app.screen.query(Toast)]


async def test_a_theme_with_a_stray_closing_tag_is_named_and_the_app_starts(tmp_path):
    themes = tmp_path / "config" / "anklume" / "themes"
    themes.mkdir(parents=True)
    (themes / "odd.tcss").write_text("#detail {\n  color: [/b];\n}\n")
    app = AnklumeApp(EXAMPLE)
    async with app.run_test(size=(140, 40), notifications=True) as pilot:
        table = app.screen.query_one(DomainTable)
        await until(pilot, lambda: table.rows_by_key, what="the table's rows")
        messages = [str(n.message) for n in app._notifications]
        assert any(str(themes / "odd.tcss") in m and "[/b]" in m for m in messages), messages
        await until(pilot, lambda: any("[/b]" in text for text in toasts(app)), what="the theme's toast")


async def test_an_incus_error_with_markup_is_shown_literally(monkeypatch):
    async def refused(*args, **kwargs):
        raise IncusError(f"Failed to write {MARKUP}", status=500)

    monkeypatch.setattr(machines, "copy_file", refused)  # the screen calls machines.copy_file
    app = AnklumeApp(EXAMPLE)
    async with app.run_test(size=(140, 40), notifications=True) as pilot:
        screen = app.screen
        await until(pilot, lambda: screen.result is not None and screen.result.infra is not None, what="the infra")
        request = CopyRequest(Location("pro-dev", "/root/x"), Location("pro-vm", "/root/x"))
        screen.run_copy(screen.result.infra, request)
        await until(pilot, lambda: any(MARKUP in text for text in toasts(app)), what="the error's toast")
        assert app.is_running


def test_an_infra_description_with_markup_shows_as_written_in_the_detail_pane(tmp_path):
    path = tmp_path / "infra.yml"
    path.write_text(
        "project_name: t\nglobal:\n  addressing: {}\ndomains:\n  lab:\n    trust_level: trusted\n    machines:\n"
        f"      lab-a:\n        description: '{MARKUP}'\n"
    )
    infra = run_psot(path, HostContext(skip_subnet_check=True)).infra
    domain = infra.domains[0]
    console = Console(width=120, file=io.StringIO(), record=True, color_system=None)
    console.print(machine_detail(domain, domain.machines[0]))
    assert MARKUP in console.export_text()


async def test_a_plan_detail_quoting_incus_and_infra_values_shows_as_written():
    """The plan's detail column quotes Incus's values and the infra's: a list reads `[default, x]`, and a
    description holding `[/b]` is shown, not taken as a closing tag (which stopped the screen's drawing)."""
    from anklume_tui.engine.reconcile import Action, Plan
    from anklume_tui.screens.plan_apply import PlanScreen

    detail = f"profiles: [default, pro] → [default]; description: '{MARKUP}' → ''"
    action = Action(op="update", kind="instance", project="pro", name="pro-dev", detail=detail, domain="pro")
    app = AnklumeApp(EXAMPLE)
    async with app.run_test(size=(200, 40)) as pilot:
        domains = app.screen
        await until(pilot, lambda: domains.result is not None and domains.result.infra is not None, what="the infra")
        screen = PlanScreen(domains.result, None)  # no Incus here: the plan is given to the screen as planned
        app.push_screen(screen)

        def summary() -> str:  # nothing until the screen is composed
            found = screen.query("#plan-summary")
            return str(found.first().render()) if found else ""

        await until(pilot, lambda: "Cannot plan" in summary(), what="the plan screen without Incus")
        screen.post_message(PlanScreen.Planned(Plan(actions=[action])))
        table = screen.query_one("#actions")
        await until(pilot, lambda: table.row_count == 1, what="the action's row")
        await pilot.pause()
        drawn = ["".join(segment.text for segment in table.render_line(y)) for y in range(table.size.height)]
        assert any(detail in line for line in drawn), drawn
        assert app.is_running


async def test_an_incus_project_name_with_brackets_is_listed_as_named_on_the_telemetry_screen():
    """Incus takes `[red]p` as a project name (checked on the throwaway daemon); its instances are listed as
    `[red]p/web`, not as a red `p/web`."""
    from anklume_tui.engine.host.metrics import InstanceReading, MetricsHistory
    from anklume_tui.screens.telemetry import TelemetryScreen

    history = MetricsHistory()
    history.add(1.0, {("[red]p", "web"): InstanceReading(1.0, 1024)})
    app = AnklumeApp(EXAMPLE)
    async with app.run_test(size=(140, 44)) as pilot:
        screen = TelemetryScreen(None, history)  # no Incus here: the history read so far is listed
        await app.push_screen(screen)
        listing = screen.query_one("#instances")
        await until(pilot, lambda: listing.option_count == 1, what="the instance's line")
        await pilot.pause()
        drawn = "\n".join("".join(s.text for s in listing.render_line(y)) for y in range(listing.size.height))
        assert "[red]p/web" in drawn, drawn
