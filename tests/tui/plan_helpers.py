"""The plan screen's prelude in Pilot tests: the app on an infra of the test's own, its plan on screen."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot

from anklume_tui.app import AnklumeApp
from anklume_tui.screens.plan_apply import PlanScreen
from tests.engine.incus_helpers import isolate_host
from tests.wait_helpers import until


def app_on(text: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, incus_url: str) -> AnklumeApp:
    """The TUI on `text` written as the infra of a host of the test's own, against the daemon at `incus_url`."""
    isolate_host(tmp_path, monkeypatch)
    infra = tmp_path / "infra.yml"
    infra.write_text(text)
    return AnklumeApp(infra, incus_url=incus_url)


def footer(app: AnklumeApp) -> set[tuple[str, str]]:
    """The keys the footer shows, as drawn (enabled ones only): key and description."""
    return {(k.key, k.description) for k in app.screen.query("FooterKey") if not k.disabled}  # type: ignore[attr-defined]


async def planned(app: AnklumeApp, pilot: Pilot[None]) -> PlanScreen:
    """Once the domains screen has its first result, `p`; the plan screen once its plan is made."""
    await until(pilot, lambda: getattr(app.screen, "result", None) is not None)
    await pilot.press("p")
    screen = app.screen
    assert isinstance(screen, PlanScreen)
    await until(pilot, lambda: screen.plan is not None, timeout=30)
    return screen
