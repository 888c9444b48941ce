"""Explain a failed provisioning in the TUI (issue 23): the exact prompt is shown first and nothing is sent
until `s`; the answer streams in as plain text (never markup); `a` applies the proposed patch after a
confirmation naming its files (validated by the engine, only infra and roles_custom/), then re-runs the step.
A fix the user confirmed before for the same failure is offered instead, with no model asked."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from ..engine.assistant import (
    apply_fix,
    ask,
    failure_context,
    how_to_configure,
    load_config,
    offered_fix,
    provision_again,
    request_for,
)
from ..errors import AnklumeError
from ..widgets.wrapped_log import WrappedLog
from .confirm import ConfirmScreen

if TYPE_CHECKING:
    from ..engine.assistant import AssistantConfig, FailureContext, Round
    from ..psot.model import Infra


class ExplainScreen(Screen):
    DEFAULT_CSS = """
    ExplainScreen #explain-summary { padding: 0 1; height: auto; }
    ExplainScreen #explain-prompt { height: 1fr; border-top: solid $primary 40%; }
    ExplainScreen #explain-answer { height: 1fr; border-top: solid $accent 40%; }
    """
    BINDINGS = [
        Binding("s", "send", "Send to the model", id="explain.send"),
        Binding("a", "apply", "Apply the patch", id="explain.apply"),
        Binding("escape", "back", "Back", id="explain.back"),
    ]

    class Loaded(Message):
        def __init__(
            self,
            context: FailureContext | None,
            config: AssistantConfig | None,
            offered: Round | None = None,
            error: str = "",
        ) -> None:
            super().__init__()
            self.context, self.config, self.offered, self.error = context, config, offered, error

    class Chunk(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class Answered(Message):
        def __init__(self, round_: Round | None, error: str = "") -> None:
            super().__init__()
            self.round, self.error = round_, error

    class Applied(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, infra_path: Path, infra: Infra, incus_url: str | None) -> None:
        super().__init__()
        self.infra_path, self.infra, self.incus_url = infra_path, infra, incus_url
        self.context: FailureContext | None = None
        self.config: AssistantConfig | None = None
        self.round: Round | None = None
        self.busy = True
        self.streamed = ""

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Reading the last provisioning run …", id="explain-summary", markup=False)
        yield WrappedLog(id="explain-prompt")
        yield WrappedLog(id="explain-answer")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "explain a failure"
        self.load()

    def _say(self, text: str) -> None:
        self.query_one("#explain-summary", Static).update(text)

    @work(thread=True, exclusive=True, group="explain")
    def load(self) -> None:
        try:
            context = failure_context(None, self.infra_path, None)
            offered = offered_fix(context) if context is not None else None  # reads the library: off the UI thread
            self.post_message(self.Loaded(context, load_config(), offered))
        except AnklumeError as exc:
            self.post_message(self.Loaded(None, None, error=exc.user_message()))

    def on_explain_screen_loaded(self, message: Loaded) -> None:
        self.busy = False
        self.context, self.config = message.context, message.config
        if message.error or message.context is None or message.config is None:
            self._say(message.error or "The last provisioning run passed: nothing to explain.")
            return
        prompt = self.query_one("#explain-prompt", WrappedLog)
        if message.offered is not None:
            self.round = message.offered
            self._show_round(message.offered)
            self._say("A fix you confirmed before for this failure (no model asked): a applies it, esc goes back.")
            return
        request = request_for(message.config, message.context)
        if request is None:
            prompt.write_lines(message.context.prompt().splitlines())
            self._say(f"Nothing is sent: {how_to_configure()}")
            return
        prompt.write_line(f"POST {request.url} (model {message.config.model}): exactly this is sent")
        for part in request.body["messages"]:
            prompt.write_line(f"[{part['role']}]")
            prompt.write_lines(part["content"].splitlines())
        self._say(f"Nothing sent yet. s sends this to {message.config.model} at {message.config.base_url}.")

    def action_send(self) -> None:
        if self.busy or self.context is None or self.config is None or self.round is not None:
            return
        if not self.config.enabled:
            self.app.notify(how_to_configure(), severity="warning", markup=False)
            return
        self.busy = True
        self._say(f"Asking {self.config.model} … (the answer streams below)")
        self.send()

    @work(thread=True, exclusive=True, group="explain")
    def send(self) -> None:
        assert self.context is not None and self.config is not None
        try:
            round_ = ask(self.config, self.infra, self.context, on_chunk=self._chunk)
        except AnklumeError as exc:
            self.post_message(self.Answered(None, exc.user_message()))
            return
        self.post_message(self.Answered(round_))

    def _chunk(self, text: str) -> None:
        self.post_message(self.Chunk(text))

    def on_explain_screen_chunk(self, message: Chunk) -> None:
        self.streamed += message.text
        answer = self.query_one("#explain-answer", WrappedLog)
        answer.clear()
        answer.write_lines(self.streamed.splitlines())

    def on_explain_screen_answered(self, message: Answered) -> None:
        self.busy = False
        if message.round is None:
            self._say(f"Not sent or failed: {message.error}")
            self.app.notify(message.error, severity="error", markup=False)
            return
        self.round = message.round
        self._show_round(message.round)
        if message.round.diff is None:
            self._say("The model proposed no patch.")
        else:
            self._say("a applies the patch (validated first), then re-runs the failed step; esc goes back.")

    def _show_round(self, round_: Round) -> None:
        answer = self.query_one("#explain-answer", WrappedLog)
        answer.clear()
        answer.write_lines(round_.explanation.splitlines())
        if round_.diff:
            answer.write_line("")
            answer.write_line("Proposed patch:")
            answer.write_lines(round_.diff.splitlines())

    def action_apply(self) -> None:
        if self.busy or self.round is None or self.round.diff is None or self.context is None:
            return
        files = sorted({line[6:].strip() for line in self.round.diff.splitlines() if line.startswith("+++ b/")})
        failure = self.context.failure
        question = (
            f"Apply the patch to {', '.join(files) or 'the files it names'}, then re-run "
            f"{failure.role or 'provisioning'} on {failure.domain}?"
        )
        self.app.push_screen(ConfirmScreen(question, yes="Apply"), self._confirmed)

    def _confirmed(self, yes: bool | None) -> None:
        if yes:
            self.busy = True
            self._say("Applying the patch and re-running the step …")
            self.apply_patch()

    @work(thread=True, exclusive=True, group="explain")
    def apply_patch(self) -> None:
        assert self.round is not None and self.context is not None
        try:
            left = apply_fix(self.round, self.context, provision_again(self.incus_url))
        except AnklumeError as exc:
            self.post_message(self.Applied(f"Not applied: {exc.user_message()}"))
            return
        if left is None:
            self.post_message(self.Applied("Applied; the step passed. The fix is remembered for next time."))
        else:
            self.post_message(self.Applied(f"Applied; the step still fails: {left[0].task}: {left[0].message}"))

    def on_explain_screen_applied(self, message: Applied) -> None:
        self.busy = False
        self._say(message.text)
        self.app.notify(message.text, markup=False)

    def action_back(self) -> None:
        if not self.busy:
            self.app.pop_screen()
