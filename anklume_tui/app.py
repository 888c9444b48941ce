"""The Textual application: wiring only; screens and widgets do the rest."""

from __future__ import annotations

import os
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from . import exitcodes
from .engine.host import bundled_example
from .keymap import KeymapProblem, against_bindings, as_typed, bound_keys, read_keymap
from .psot.load import discover_infra, resolve_infra_path
from .psot.outline import OutlineDomain, outline
from .screens.domains.screen import DomainsScreen
from .screens.help import HelpScreen
from .user_themes import user_themes

if TYPE_CHECKING:
    from datetime import datetime

    from .psot.pipeline import PsotResult
    from .reports import MachineChecksOut

_EARLY = ThreadPoolExecutor(max_workers=1, thread_name_prefix="anklume-early")
FIRST_ROWS = 150  # the outline read for the first paint: a screenful, and then some


EXAMPLE_NOTICE = (
    "No infra of yours was found, so this is the bundled example, read-only. "
    "To start your own: cp {example} ./infra.yml, edit it, then run anklume-tui again "
    "(or point --infra / $ANKLUME_INFRA at it)."
)


class AnklumeApp(App):
    TITLE = "anklume-tui"
    CSS_PATH = "themes/app.tcss"
    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("question_mark,f1", "help", "Help", id="app.help"),
    ]

    def __init__(
        self,
        infra: Path,
        *,
        read_only: bool = False,
        notice: str | None = None,
        incus_url: str | None = None,
        guide: bool = False,
    ) -> None:
        super().__init__()
        # run_tui's first run: the guide over the read-only example when no infra was found, and the host
        # set-up offered when Incus is not ready (tests that build the app themselves leave it off)
        self.guide = guide
        self._host_setup_pending = guide and not read_only  # offered once the first rows are on screen
        themes, self.theme_problems = user_themes(self.get_css_variables())
        self.css_path = [*self.css_path, *themes]  # after the built-in CSS: user themes override it
        self.keymap, self.keymap_problems = read_keymap()
        self.set_keymap(self.keymap)
        self.infra = infra
        self.incus_url = incus_url
        self.read_only = read_only
        self.notice = notice
        self.colour = "NO_COLOR" not in os.environ
        # The last smoke result of each machine (from the plan screen), for the detail pane; this session only.
        self.last_smoke: dict[str, tuple[datetime, MachineChecksOut]] = {}
        # The quick outline is read while Textual starts up: the first paint needs both. The full check
        # comes after it (started together, it would hold the interpreter while Textual starts).
        self._first_outline: Future[list[OutlineDomain] | None] | None = _EARLY.submit(outline, infra, FIRST_ROWS)

    def take_first_outline(self) -> Future[list[OutlineDomain] | None] | None:
        """The outline read with the app, once."""
        future, self._first_outline = self._first_outline, None
        return future

    def on_mount(self) -> None:
        for problem in self.theme_problems:
            self.notify(problem.render(), title="Theme not loaded", severity="error", timeout=20, markup=False)
        for keymap_problem in self.keymap_problems:
            self._keymap_problem(keymap_problem)
        if self.keymap:
            self._check_keymap()
        self.push_screen(DomainsScreen(self.infra, self.notice, self.incus_url))
        if self.guide and self.read_only:
            from .screens.first_run import FirstRunScreen

            self.push_screen(FirstRunScreen(Path.cwd(), self.incus_url))

    def on_domains_screen_outlined(self) -> None:
        """The first rows are on screen: only now is Incus's readiness checked (its client and the set-up
        screen imported in a worker beside the first paint would hold the interpreter while it is drawn)."""
        if self._host_setup_pending:
            self._host_setup_pending = False
            self.call_after_refresh(self._offer_host_setup)

    @work(thread=True, exclusive=True, group="host-setup", exit_on_error=False)
    def _offer_host_setup(self) -> None:
        """Incus not ready (unreachable, no pool, no root disk): its set-up is offered, shown before anything."""
        from .screens.first_run import HostSetupScreen, incus_readiness

        ready, _ = incus_readiness(self.incus_url)
        if not ready:
            self.call_from_thread(self.push_screen, HostSetupScreen(self.incus_url))

    def open_new_infra(self, path: Path, result: PsotResult) -> None:
        """The guide wrote an infra: it becomes the one shown (no longer read-only), its plan on top."""
        from .screens.plan_apply import PlanScreen

        self.infra, self.read_only, self.notice = path, False, None
        self.pop_screen()
        self.switch_screen(DomainsScreen(path, None, self.incus_url))
        self.push_screen(PlanScreen(result, self.incus_url))

    @work(thread=True, exclusive=True, group="keymap", exit_on_error=False)
    def _check_keymap(self) -> None:
        """Unknown ids and taken keys need every screen imported: done beside the first paint, not before it."""
        for problem in against_bindings(self.keymap):
            self.call_from_thread(self._keymap_problem, problem)

    def _keymap_problem(self, problem: KeymapProblem) -> None:
        self.notify(problem.render(), title="Keymap", severity="error", timeout=20, markup=False)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """The palette offers what the current screen can do (its bindings), then the app's own commands."""
        for binding in getattr(screen, "BINDINGS", []):
            if isinstance(binding, Binding) and binding.description:
                action = binding.action

                def run(action: str = action) -> None:
                    self.call_later(screen.run_action, action)

                yield SystemCommand(binding.description, f"key: {as_typed(bound_keys(self.keymap, binding))}", run)
        palette_commands = getattr(screen, "palette_commands", None)  # what a screen offers without a key
        if palette_commands is not None:
            for title, help_text, callback in palette_commands():
                yield SystemCommand(title, help_text, callback)
        yield from super().get_system_commands(screen)

    def hand_over_terminal(self, argv: list[str]) -> None:
        """Give the terminal to a program (the tmux console) and come back when it ends. Tests replace this."""
        from .engine.console import run_attached

        with self.suspend():
            run_attached(argv)
        self.refresh()

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self))


def choose_infra(explicit: str | None, cwd: Path) -> tuple[Path, bool, str | None]:
    """The infra to open, whether it is the read-only bundled example, and a notice to show."""
    wanted = discover_infra(explicit, cwd)
    if resolve_infra_path(wanted) is not None or explicit:
        return wanted, False, None
    example = bundled_example()
    return example, True, EXAMPLE_NOTICE.format(example=example)


def run_tui(infra: str | None, incus_url: str | None = None) -> int:
    path, read_only, notice = choose_infra(infra, Path.cwd())
    if not read_only:
        from .verbs.common import use_declared_incus

        use_declared_incus(path, incus_url)
    AnklumeApp(path, read_only=read_only, notice=notice, incus_url=incus_url, guide=True).run()
    return exitcodes.OK
