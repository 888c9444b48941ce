"""The first run is a guide (issue 18): from an empty folder, keyboard only, to a valid infra on the plan screen —
through the short form or a shipped example — with nothing written before a yes and esc backing out at every
step; the host set-up (bootstrap) shown first, then carried out on a daemon started uninitialised."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from textual.widgets import Input

from anklume_tui.app import AnklumeApp, choose_infra
from anklume_tui.engine.host import examples_dir
from anklume_tui.screens.confirm import ConfirmScreen
from anklume_tui.screens.domains.screen import DomainsScreen
from anklume_tui.screens.first_run import FirstRunScreen, HostSetupScreen
from anklume_tui.screens.first_run.starter_form import StarterForm
from anklume_tui.screens.plan_apply import PlanScreen
from tests.engine.incus_helpers import isolate_host
from tests.host_root_helpers import bare_daemon, stock_debian_root
from tests.wait_helpers import until

__all__ = ["bare_daemon"]  # a fixture, used by name
NO_INCUS = "unix:///nonexistent/anklume-guide/unix.socket"


def guided_app(folder: Path, incus_url: str = NO_INCUS) -> AnklumeApp:
    """The app as `anklume-tui` starts it in `folder`."""
    path, read_only, notice = choose_infra(None, folder)
    return AnklumeApp(path, read_only=read_only, notice=notice, incus_url=incus_url, guide=True)


def choices(app: AnklumeApp) -> list[str]:
    return [str(option.id) for option in app.screen.query_one("OptionList")._options]


@pytest.fixture
def empty_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    isolate_host(tmp_path, monkeypatch)
    folder = tmp_path / "lab"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


async def test_from_an_empty_folder_the_form_writes_a_commented_valid_infra_and_opens_its_plan(empty_folder):
    app = guided_app(empty_folder)
    started = time.monotonic()
    async with app.run_test(size=(140, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, FirstRunScreen), what="the guide")
        await until(pilot, lambda: len(choices(app)) > 1, what="the examples listed")
        await pilot.press("home", "enter")  # the first choice: the short form
        await until(pilot, lambda: isinstance(app.screen, StarterForm), what="the form")
        form = app.screen
        await pilot.press("tab", "end", *", lab", "tab", "end", *", untrusted")  # a third domain, by keys
        await until(pilot, lambda: form.text is not None and "lab-1" in form.text, what="the form checked valid")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the question before writing")
        assert not (empty_folder / "infra.yml").exists()  # nothing before the yes
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, PlanScreen), what="the plan screen", timeout=30)
        elapsed = time.monotonic() - started
        assert app.infra == empty_folder / "infra.yml" and not app.read_only
        assert isinstance(app.screen_stack[-2], DomainsScreen)
    text = (empty_folder / "infra.yml").read_text()
    assert text.startswith("# Written by anklume-tui's first-run guide.")
    assert "  lab:\n    trust_level: untrusted\n    machines:\n      lab-1:\n        type: lxc\n" in text
    print(f"empty folder -> plan screen, driven by keys (Pilot): {elapsed:.2f} s")


async def test_an_example_is_offered_with_its_summary_and_copied_after_a_yes(empty_folder):
    app = guided_app(empty_folder)
    async with app.run_test(size=(140, 40)) as pilot:
        await until(pilot, lambda: "example:teacher-lab" in choices(app), what="the examples listed")
        options = app.screen.query_one("OptionList")
        shown = str(options.get_option("example:teacher-lab").prompt)
        assert shown == (
            "Example teacher-lab: A classroom: a `teacher` domain (trusted) and five isolated student domains "
            "`student-01`…`student-05` (semi-trusted, unprotected, web + db containers…"
        )
        await pilot.press("home", *["down"] * choices(app).index("example:teacher-lab"), "enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the question")
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, PlanScreen), what="the plan screen", timeout=30)
    assert (empty_folder / "infra.yml").read_text() == (examples_dir() / "teacher-lab/infra.yml").read_text()


async def test_esc_backs_out_of_every_step_and_nothing_is_written(empty_folder):
    app = guided_app(empty_folder)
    async with app.run_test(size=(140, 40)) as pilot:
        await until(pilot, lambda: len(choices(app)) > 1, what="the examples listed")
        await pilot.press("home", "enter")
        await until(pilot, lambda: isinstance(app.screen, StarterForm), what="the form")
        await until(pilot, lambda: app.screen.text is not None, what="the form checked")
        await pilot.press("escape")  # out of the form
        await until(pilot, lambda: isinstance(app.screen, FirstRunScreen), what="back to the guide")
        await pilot.press("down", "enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the question")
        await pilot.press("escape")  # no
        await until(pilot, lambda: isinstance(app.screen, FirstRunScreen), what="back to the guide again")
        await pilot.press("escape")  # out of the guide: the bundled example, read-only, as before
        await until(pilot, lambda: isinstance(app.screen, DomainsScreen), what="the read-only example")
        assert app.read_only
    assert list(empty_folder.iterdir()) == []


async def test_the_form_refuses_answers_the_psot_rejects_and_says_why(empty_folder):
    app = guided_app(empty_folder)
    async with app.run_test(size=(140, 40)) as pilot:
        await until(pilot, lambda: len(choices(app)) > 1, what="the examples listed")
        await pilot.press("home", "enter")
        await until(pilot, lambda: isinstance(app.screen, StarterForm), what="the form")
        form = app.screen
        await pilot.press("tab", "end", *", Bad_Name", "tab", "end", *", untrusted")  # a name the rules refuse
        problems = form.query_one("#starter-problems")
        await until(pilot, lambda: "error[" in str(problems.render()), what="the PSOT's finding under the fields")
        assert form.text is None
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, StarterForm)  # not written, still in the form
    assert list(empty_folder.iterdir()) == []


async def test_an_uninitialised_incus_is_said_and_its_set_up_shown_then_carried_out_after_a_yes(
    empty_folder, bare_daemon, tmp_path, monkeypatch
):
    root = stock_debian_root(tmp_path / "root")
    monkeypatch.setenv("ANKLUME_HOST_ROOT", str(root))
    monkeypatch.setenv("ANKLUME_CONTEXT_DIR", str(root / "etc/anklume"))
    monkeypatch.delenv("ANKLUME_NFT_PERSIST_DIR", raising=False)
    app = guided_app(empty_folder, bare_daemon.url)
    async with app.run_test(size=(140, 40)) as pilot:
        incus = lambda: str(app.screen.query_one("#guide-incus").render())  # noqa: E731
        await until(pilot, lambda: isinstance(app.screen, FirstRunScreen) and "not ready" in incus(), what="said")
        assert "no storage pool" in incus() or "storage pool 'default'" in incus()
        await pilot.press("b")
        await until(pilot, lambda: isinstance(app.screen, HostSetupScreen), what="the set-up screen")
        setup = app.screen
        await until(pilot, lambda: setup.state == "shown", what="the steps shown", timeout=30)
        log = "\n".join(str(line.text) for line in setup.query_one("#setup-log").lines)
        assert "Preseed (what is added to Incus):" in log and "storage-pool" in log
        assert not bare_daemon.query("/1.0/storage-pools?recursion=1")  # shown, nothing done yet
        await pilot.press("y")
        await until(pilot, lambda: setup.state == "ended", what="the steps carried out", timeout=60)
        assert setup.ok, "\n".join(str(line.text) for line in setup.query_one("#setup-log").lines)
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, FirstRunScreen) and "ready (" in incus(), what="ready")
    assert [p["name"] for p in bare_daemon.query("/1.0/storage-pools?recursion=1")] == ["default"]


SNAPSHOT_FOLDER = Path("/tmp/anklume-first-run-snapshot")


@pytest.fixture
def fixed_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty folder at a fixed path: the guide names it on screen."""
    isolate_host(tmp_path, monkeypatch)
    shutil.rmtree(SNAPSHOT_FOLDER, ignore_errors=True)
    SNAPSHOT_FOLDER.mkdir()
    monkeypatch.chdir(SNAPSHOT_FOLDER)
    yield SNAPSHOT_FOLDER
    shutil.rmtree(SNAPSHOT_FOLDER, ignore_errors=True)


def test_the_guide_looks_right(snap_compare, fixed_folder):
    app = guided_app(fixed_folder)

    async def settle(pilot):
        await until(pilot, lambda: "example:teacher-lab" in choices(app), what="the examples listed")
        await until(pilot, lambda: "checking" not in str(app.screen.query_one("#guide-incus").render()), what="Incus")

    assert snap_compare(app, terminal_size=(140, 36), run_before=settle)


def test_the_short_form_looks_right(snap_compare, fixed_folder):
    app = guided_app(fixed_folder)

    async def open_form(pilot):
        await until(pilot, lambda: len(choices(app)) > 1, what="the examples listed")
        await until(pilot, lambda: "checking" not in str(app.screen.query_one("#guide-incus").render()), what="Incus")
        await pilot.press("home", "enter")
        await until(pilot, lambda: isinstance(app.screen, StarterForm) and app.screen.text is not None, what="form")
        for box in app.screen.query(Input):
            box.cursor_blink = False  # the focused input's cursor would otherwise come and go
        await pilot.pause()

    assert snap_compare(app, terminal_size=(140, 36), run_before=open_form)
