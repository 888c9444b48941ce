"""Explain in the TUI (issue 23): the exact prompt is on screen and nothing is sent until `s` (the stand-in
counts); the streamed answer shows as typed, never as markup; `a` asks first, and `n` leaves every file as it
was."""

from __future__ import annotations

from anklume_tui.app import AnklumeApp
from anklume_tui.screens.confirm import ConfirmScreen
from anklume_tui.screens.explain import ExplainScreen
from tests.assistant.explain_lab_helpers import ANSWER, BROKEN_TASKS, FIX_DIFF, write_failed_run
from tests.assistant.model_standin_helpers import configure, model_standin
from tests.engine.incus_helpers import isolate_host
from tests.wait_helpers import until

MARKUP = "[bold red]not markup[/bold red] "


async def test_explain_shows_the_prompt_sends_on_s_and_applies_only_when_confirmed(tmp_path, monkeypatch):
    isolate_host(tmp_path, monkeypatch)
    monkeypatch.setenv("ANKLUME_INCUS", "unix:///nonexistent/unix.socket")
    infra = write_failed_run(tmp_path)
    with model_standin() as standin:
        standin.answer = MARKUP + ANSWER
        configure(tmp_path / "config", standin.config("ollama"))
        app = AnklumeApp(infra)
        async with app.run_test(size=(160, 45)) as pilot:
            await until(pilot, lambda: getattr(app.screen, "result", None) is not None)
            app.push_screen(ExplainScreen(infra, app.screen.result.infra, None))
            screen = app.screen
            await until(pilot, lambda: not screen.busy, what="the failure read")
            prompt = "\n".join(screen.query_one("#explain-prompt").lines)
            assert f"POST {standin.url}/api/chat (model stand-in): exactly this is sent" in prompt
            assert "Task: greeter : Write the greeting" in prompt and "/bin/flase" in prompt
            assert standin.requests == []

            await pilot.press("s")
            await until(pilot, lambda: screen.round is not None and not screen.busy, what="the answer")
            assert len(standin.requests) == 1
            answer = "\n".join(screen.query_one("#explain-answer").lines)
            assert MARKUP.strip() in answer and FIX_DIFF.splitlines()[-1] in answer

            await pilot.press("a")
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            question = str(app.screen.question)
            assert "roles_custom/greeter/tasks/main.yml" in question and "greeter on work" in question
            await pilot.press("n")
            await until(pilot, lambda: app.screen is screen)
            assert (tmp_path / "roles_custom" / "greeter" / "tasks" / "main.yml").read_text() == BROKEN_TASKS
            assert len(standin.requests) == 1
