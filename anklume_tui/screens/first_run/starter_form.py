"""The short form of the first-run guide: a project name, the domains (names and trust levels) and machines
per domain. The infra it makes is shown as it will be written and checked by the PSOT as you type (in a
worker); the form ends with the text only when it is valid."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from ...engine.host import gather_host_context
from ...psot.pipeline import run_psot
from ...psot.starter import TRUST_LEVELS, StarterDomain, starter_infra

FIELDS = (
    ("project", "Project name", "my-lab"),
    ("domains", "Domains (names, comma-separated)", "perso, work"),
    ("trust", "Their trust levels (one per domain, or one for all)", "trusted, semi-trusted"),
    ("machines", "Machines per domain", "1"),
)


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def read_answers(values: dict[str, str]) -> tuple[str | None, list[str]]:
    """The infra text from the answers, or None and what is wrong with them (before the PSOT's own rules)."""
    problems = []
    domains, levels = _names(values["domains"]), _names(values["trust"])
    if not domains:
        problems.append("name at least one domain")
    if len(levels) == 1:
        levels = levels * len(domains)
    if len(levels) != len(domains):
        problems.append(f"{len(domains)} domain(s) but {len(levels)} trust level(s)")
    for level in levels:
        if level not in TRUST_LEVELS:
            problems.append(f"trust level {level!r}: one of {', '.join(TRUST_LEVELS)}")
    machines = values["machines"].strip()
    if not re.fullmatch(r"[0-9]{1,2}", machines) or not 0 < int(machines) <= 50:
        problems.append("machines per domain: a number from 1 to 50")
    if not values["project"].strip():
        problems.append("a project name")
    if problems:
        return None, problems
    wanted = [StarterDomain(d, t, int(machines)) for d, t in zip(domains, levels, strict=True)]
    return starter_infra(values["project"].strip(), wanted), []


def check_text(text: str) -> list[str]:
    """The PSOT's errors for this text, as lines without the temporary file's name."""
    with tempfile.TemporaryDirectory(prefix="anklume-starter-") as folder:
        path = Path(folder) / "infra.yml"
        path.write_text(text, encoding="utf-8")
        result = run_psot(path, gather_host_context())
        return [f.render().replace(str(path), "infra.yml") for f in result.findings if f.is_error]


class StarterForm(ModalScreen[str | None]):
    """Dismissed with the infra text (valid), or None when backed out."""

    BINDINGS = [
        Binding("escape", "back", "Back", id="starter.back"),
        Binding("ctrl+s", "done", "Write it", id="starter.done"),
    ]

    class Checked(Message):
        def __init__(self, text: str | None, problems: list[str]) -> None:
            super().__init__()
            self.text, self.problems = text, problems

    def __init__(self) -> None:
        super().__init__()
        self.text: str | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(id="starter-body"):
            with Vertical(id="starter-fields"):
                yield Static("A new infra: tab between fields, ctrl+s writes it, esc backs out.", markup=False)
                for key, label, value in FIELDS:
                    yield Label(label)
                    yield Input(value=value, id=f"starter-{key}")
                yield Static("", id="starter-problems", markup=False)
            with VerticalScroll(id="starter-preview-box"):
                yield Static("", id="starter-preview", markup=False)

    def on_mount(self) -> None:
        self.query_one("#starter-project", Input).focus()
        self._check(self._values())

    def _values(self) -> dict[str, str]:
        return {key: self.query_one(f"#starter-{key}", Input).value for key, _, _ in FIELDS}

    @on(Input.Changed)
    def _changed(self) -> None:
        self._check(self._values())

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.focus_next()

    @work(thread=True, exclusive=True, group="starter", exit_on_error=False)
    def _check(self, values: dict[str, str]) -> None:
        text, problems = read_answers(values)
        if text is not None:
            problems = check_text(text)
        self.post_message(self.Checked(text, problems))

    def on_starter_form_checked(self, message: Checked) -> None:
        self.text = message.text if not message.problems else None
        self.query_one("#starter-preview", Static).update(message.text or "")
        shown = "\n".join(message.problems) if message.problems else "valid: ctrl+s writes it"
        self.query_one("#starter-problems", Static).update(shown)

    def action_done(self) -> None:
        if self.text is None:
            self.notify("Not valid yet: see the lines under the fields.", severity="warning")
            return
        self.dismiss(self.text)

    def action_back(self) -> None:
        self.dismiss(None)
