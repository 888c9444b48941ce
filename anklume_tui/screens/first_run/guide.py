"""The first run, as a guide rather than a line: where Incus stands (and the host set-up when it is not ready),
then a start — a shipped example (its README's summary beside it) or a short form — copied or written into the
current folder after a yes, validated, and the plan screen opened on it. esc backs out at every step (here: to
the bundled example, read-only, as before)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, OptionList, Static
from textual.widgets.option_list import Option

from ...engine.bootstrap import BootstrapHost, BootstrapOptions, plan_bootstrap
from ...engine.host import gather_host_context
from ...engine.incus import connect
from ...errors import AnklumeError
from ...psot.generate import write_atomic
from ...psot.pipeline import run_psot
from .examples import Example, copy_example, shipped_examples

if TYPE_CHECKING:
    from ...psot.pipeline import PsotResult

FORM = "starter-form"
INCUS_STEPS = ("incus", "storage-pool", "default-profile")


def incus_readiness(incus_url: str | None) -> tuple[bool, str]:
    """(ready, one line): Incus answers and has a pool and a root disk — what applying an infra needs."""
    import asyncio

    async def read() -> tuple[bool, str]:
        async with connect(incus_url) as client:
            plan = await plan_bootstrap(client, BootstrapOptions(), BootstrapHost())
        missing = [s for s in plan.steps if s.id in INCUS_STEPS and s.state != "done"]
        if not missing:
            return True, "Incus is ready (it answers, has a storage pool and a root disk)."
        return False, f"Incus is not ready: {missing[0].message}. b: set up this host (shown first, then asked)."

    try:
        return asyncio.run(read())
    except AnklumeError as exc:
        return False, f"Incus is not ready: {exc.user_message()}. b: set up this host."


class FirstRunScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "back", "Back (the bundled example, read-only)", id="guide.back"),
        Binding("b", "host_setup", "Set up this host", id="guide.setup"),
    ]

    class Examples(Message):
        def __init__(self, examples: list[Example]) -> None:
            super().__init__()
            self.examples = examples

    class Incus(Message):
        def __init__(self, ready: bool, text: str) -> None:
            super().__init__()
            self.ready, self.text = ready, text

    class Written(Message):
        def __init__(self, path: Path | None, result: PsotResult | None, error: str = "") -> None:
            super().__init__()
            self.path, self.result, self.error = path, result, error

    def __init__(self, folder: Path, incus_url: str | None) -> None:
        super().__init__()
        self.folder = folder
        self.incus_url = incus_url
        self.examples: dict[str, Example] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(
            f"Welcome. There is no infra in {self.folder} yet. Pick a start below (enter): a shipped example, "
            "copied here, or a new one from a short form. Nothing is written before you say yes.",
            id="guide-intro",
            markup=False,
        )
        yield Static("Incus: checking…", id="guide-incus", markup=False)
        yield OptionList(Option("A new infra from a short form", id=FORM), id="guide-choices")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "first run"
        self.query_one(OptionList).focus()
        self._read_examples()
        self._check_incus()

    @work(thread=True, group="guide-read", exit_on_error=False)
    def _read_examples(self) -> None:
        self.post_message(self.Examples(shipped_examples()))

    @work(thread=True, exclusive=True, group="guide-incus", exit_on_error=False)
    def _check_incus(self) -> None:
        self.post_message(self.Incus(*incus_readiness(self.incus_url)))

    def on_first_run_screen_examples(self, message: Examples) -> None:
        choices = self.query_one(OptionList)
        for example in message.examples:
            self.examples[example.name] = example
            choices.add_option(Option(Text(f"Example {example.name}: {example.summary}"), id=f"example:{example.name}"))

    def on_first_run_screen_incus(self, message: Incus) -> None:
        self.query_one("#guide-incus", Static).update(message.text)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        from .starter_form import StarterForm

        chosen = event.option.id or ""
        if chosen == FORM:

            def written(text: str | None) -> None:
                if text is not None:
                    self._ask_then(f"Write {self.folder / 'infra.yml'} (shown in the form)?", lambda: self._write(text))

            self.app.push_screen(StarterForm(), written)
        elif chosen.startswith("example:"):
            example = self.examples[chosen.removeprefix("example:")]
            target = example.target(self.folder)
            self._ask_then(f"Copy the example {example.name} to {target}?", lambda: self._copy(example))

    def _ask_then(self, question: str, then: Callable[[], object]) -> None:
        from ..confirm import ConfirmScreen

        def answered(yes: bool | None) -> None:
            if yes:
                then()

        self.app.push_screen(ConfirmScreen(question, yes="Write"), answered)

    @work(thread=True, exclusive=True, group="guide-write", exit_on_error=False)
    def _copy(self, example: Example) -> None:
        try:
            path = copy_example(example, self.folder)
        except (AnklumeError, OSError) as exc:
            self.post_message(self.Written(None, None, str(exc)))
            return
        self.post_message(self.Written(path, run_psot(path, gather_host_context())))

    @work(thread=True, exclusive=True, group="guide-write", exit_on_error=False)
    def _write(self, text: str) -> None:
        path = self.folder / "infra.yml"
        if path.exists() or (self.folder / "infra").exists():
            self.post_message(self.Written(None, None, f"{path} exists: the guide never writes over an infra"))
            return
        try:
            write_atomic(path, text)
        except OSError as exc:
            self.post_message(self.Written(None, None, f"could not write {path}: {exc}"))
            return
        self.post_message(self.Written(path, run_psot(path, gather_host_context())))

    def on_first_run_screen_written(self, message: Written) -> None:
        if message.path is None or message.result is None:
            self.notify(message.error, title="Nothing written", severity="error", timeout=15, markup=False)
            return
        open_infra = getattr(self.app, "open_new_infra", None)
        if open_infra is not None:
            open_infra(message.path, message.result)

    def action_host_setup(self) -> None:
        from .host_setup import HostSetupScreen

        def ended(_ready: bool | None) -> None:
            self._check_incus()

        self.app.push_screen(HostSetupScreen(self.incus_url), ended)

    def action_back(self) -> None:
        self.dismiss(None)
