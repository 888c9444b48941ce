"""Explain is found where the failure is (issue 23): on the plan screen the footer offers x only once a real apply
failed there (Incus refuses `limits.memory: banana`); x opens the explain screen with the failed action and
Incus's error in the prompt, nothing is sent until `s`, the answer streams in with its patch, `a` asks first, and
after yes the infra is patched and the apply re-run creates the machine (read back with the incus CLI)."""

from __future__ import annotations

import json

import pytest

from anklume_tui.screens.confirm import ConfirmScreen
from anklume_tui.screens.explain import ExplainScreen
from tests.assistant.model_standin_helpers import configure, model_standin
from tests.assistant.test_failed_apply_is_explained_and_fixed import FIX, LAB
from tests.tui.plan_helpers import app_on, footer, planned
from tests.wait_helpers import until

pytestmark = pytest.mark.incus


async def test_x_on_the_plan_screen_explains_a_failed_apply_and_the_confirmed_fix_applies(
    incusd, tmp_path, monkeypatch
):
    app = app_on(LAB, tmp_path, monkeypatch, incusd.url)
    with model_standin() as standin:
        standin.answer = f"`banana` is not a size: Incus wants bytes with a unit.\n```diff\n{FIX}```\n"
        configure(tmp_path / "config", standin.config("ollama"))
        async with app.run_test(size=(160, 45)) as pilot:
            plan = await planned(app, pilot)
            assert ("a", "Apply") in footer(app) and not {key for key, _ in footer(app)} & {"x"}
            await pilot.press("x")  # nothing failed yet: said so, no empty screen
            await until(pilot, lambda: any("Nothing failed here" in str(n.message) for n in app._notifications))
            assert app.screen is plan

            await pilot.press("a")
            await until(pilot, lambda: plan.applying is None and plan.failed, timeout=60, what="the failed apply")
            await until(pilot, lambda: ("x", "Explain failure") in footer(app), what="x in the footer")

            await pilot.press("x")
            await until(pilot, lambda: isinstance(app.screen, ExplainScreen))
            screen = app.screen
            await until(pilot, lambda: not screen.busy, what="the failure read")
            assert screen.context is not None and screen.context.failure.task == "create instance work-box"
            error = screen.context.failure.message
            prompt = " ".join(" ".join(screen.query_one("#explain-prompt").lines).split())  # long lines wrap
            assert "Action: create instance work-box" in prompt and "Invalid value: banana" in error
            assert f"Error: {' '.join(error.split())}" in prompt and "infra.yml:10: limits.memory: banana" in prompt
            assert standin.requests == []

            pieces: list[str] = []
            shown = screen._chunk
            screen._chunk = lambda text: (pieces.append(text), shown(text))  # a spy: each piece still shows
            await pilot.press("s")
            await until(pilot, lambda: screen.round is not None and not screen.busy, what="the answer")
            assert len(standin.requests) == 1
            assert len(pieces) > 10 and "".join(pieces) == screen.streamed == standin.answer  # streamed in pieces
            answer = "\n".join(screen.query_one("#explain-answer").lines)
            assert "`banana` is not a size" in answer
            assert "Proposed patch:" in answer and "+          limits.memory: 64MiB" in answer.splitlines()

            await pilot.press("a")
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            assert "infra.yml" in str(app.screen.question)
            await pilot.press("y")
            await until(pilot, lambda: app.screen is screen and not screen.busy, timeout=60, what="the re-run")
            summary = str(screen.query_one("#explain-summary").render())
            assert summary.startswith("Applied; the step passed."), summary
        assert len(standin.requests) == 1
    assert "limits.memory: 64MiB" in (tmp_path / "infra.yml").read_text()
    listed = json.loads(incusd.incus("list", "--project=work", "--format=json").stdout)
    assert [i["name"] for i in listed] == ["work-box"]
    memory = incusd.incus("config", "get", "work-box", "limits.memory", "--project=work")
    assert memory.stdout.strip() == "64MiB"
