"""Setting the host up from the TUI (`bootstrap`): the steps and the preseed shown first, carried out only
after a yes, each step said as it ends, then the result. esc backs out at every point but while steps run."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, LoadingIndicator, RichLog, Static

from ...engine.bootstrap import BootstrapHost, BootstrapOptions, carry_out, plan_bootstrap
from ...engine.incus import connect
from ...errors import AnklumeError

if TYPE_CHECKING:
    from ...engine.bootstrap import BootstrapPlan, Outcome, Step

MARKS = {"done": "ok", "todo": "to do", "left": "left as it is", "manual": "yours to do", "refused": "refused"}


def step_line(step: Step) -> str:
    return f"[{MARKS.get(step.state, step.state)}] {step.id}: {step.message}"


class HostSetupScreen(Screen[bool]):
    """Dismissed with True when Incus was made ready."""

    BINDINGS = [
        Binding("escape", "back", "Back", id="setup.back"),
        Binding("y", "carry_out", "Set up", id="setup.yes"),
    ]

    class Planned(Message):
        def __init__(self, plan: BootstrapPlan | None, error: str = "") -> None:
            super().__init__()
            self.plan, self.error = plan, error

    class StepEnded(Message):
        def __init__(self, outcome: Outcome) -> None:
            super().__init__()
            self.outcome = outcome

    class Ended(Message):
        def __init__(self, ok: bool, text: str) -> None:
            super().__init__()
            self.ok, self.text = ok, text

    def __init__(self, incus_url: str | None) -> None:
        super().__init__()
        self.incus_url = incus_url
        self.plan: BootstrapPlan | None = None
        self.state = "planning"  # planning | shown | running | ended
        self.ok = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Reading the host and Incus…", id="setup-head", markup=False)
        yield LoadingIndicator(id="setup-busy")
        yield RichLog(id="setup-log", wrap=True, markup=False, highlight=False)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "set up this host"
        self._plan()

    @work(thread=True, exclusive=True, group="setup", exit_on_error=False)
    def _plan(self) -> None:
        import asyncio

        async def read() -> BootstrapPlan:
            async with connect(self.incus_url) as client:
                return await plan_bootstrap(client, BootstrapOptions(), BootstrapHost())

        try:
            self.post_message(self.Planned(asyncio.run(read())))
        except AnklumeError as exc:
            self.post_message(self.Planned(None, exc.user_message()))
        except Exception as exc:  # shown, never a traceback
            self.post_message(self.Planned(None, f"{type(exc).__name__}: {exc}"))

    def on_host_setup_screen_planned(self, message: Planned) -> None:
        self.query_one("#setup-busy").display = False
        log = self.query_one("#setup-log", RichLog)
        head = self.query_one("#setup-head", Static)
        if message.plan is None:
            head.update(f"Could not read the host: {message.error}")
            self.state = "ended"
            return
        self.plan = message.plan
        for step in message.plan.steps:
            log.write(step_line(step))
            if step.state == "todo" and step.command:
                log.write(f"      runs: {step.command}")
        if message.plan.preseed:
            log.write("")
            log.write("Preseed (what is added to Incus):")
            for line in message.plan.preseed.splitlines():
                log.write("  " + line)
        todo = len(message.plan.todo)
        refused = [s for s in message.plan.steps if s.state == "refused"]
        if refused:
            head.update("Refused: " + refused[0].message + "  (esc: back)")
            self.state = "ended"
        elif todo:
            head.update(f"{todo} step(s) to carry out, shown below. y: carry them out   esc: back, nothing changed")
            self.state = "shown"
        else:
            head.update("Nothing to do: this host is set up. esc: back")
            self.state = "ended"

    def action_carry_out(self) -> None:
        if self.state != "shown" or self.plan is None:
            return
        self.state = "running"
        self.query_one("#setup-busy").display = True
        self.query_one("#setup-head", Static).update("Setting up… (each step is said as it ends)")
        self.query_one("#setup-log", RichLog).write("")
        self._carry_out(self.plan)

    @work(thread=True, exclusive=True, group="setup", exit_on_error=False)
    def _carry_out(self, plan: BootstrapPlan) -> None:
        import asyncio

        def said(outcome: Outcome) -> None:
            self.post_message(self.StepEnded(outcome))

        async def run() -> list[Outcome]:
            # a client of this thread's loop (the plan's was closed with its own): the plan read again, and only
            # the steps shown as to do carried out
            async with connect(self.incus_url) as client:
                fresh = await plan_bootstrap(client, BootstrapOptions(), BootstrapHost())
                return await carry_out(fresh, only={s.id for s in plan.todo}, on_step=said)

        try:
            outcomes = asyncio.run(run())
        except Exception as exc:  # shown, never a traceback
            self.post_message(self.Ended(False, f"{type(exc).__name__}: {exc}"))
            return
        failed = [o for o in outcomes if o.status in ("failed", "manual")]
        text = "Done: the host is set up." if not failed else f"Ended with {len(failed)} step(s) not done (above)."
        self.post_message(self.Ended(not failed, text))

    def on_host_setup_screen_step_ended(self, message: StepEnded) -> None:
        outcome = message.outcome
        if outcome.status != "done":
            self.query_one("#setup-log", RichLog).write(f"[{outcome.status}] {outcome.step.id}: {outcome.message}")

    def on_host_setup_screen_ended(self, message: Ended) -> None:
        self.state = "ended"
        self.ok = message.ok
        self.query_one("#setup-busy").display = False
        self.query_one("#setup-head", Static).update(message.text + "  esc: back")

    def action_back(self) -> None:
        if self.state == "running":
            self.notify("The steps are running: wait for them to end.", severity="warning")
            return
        self.dismiss(self.ok)
