"""The AI access screen: the client domains with the current holder, and a confirmed switch carried out for
real (throwaway Incus; nft in the session's private network namespace), its steps shown as they happen.
The packets proof of the switch itself is tests/engine/test_ai_switch.py."""

from __future__ import annotations

import os
import subprocess

import pytest

from anklume_tui.app import AnklumeApp
from anklume_tui.screens.ai_access import HOLDS, AiAccessScreen
from anklume_tui.screens.confirm import ConfirmScreen
from tests.engine.incus_helpers import isolate_host
from tests.wait_helpers import until

pytestmark = pytest.mark.incus

INFRA = """\
project_name: ai-screen
global:
  addressing: {}
  ai_access_policy: exclusive
  ai_access_default: perso
domains:
  ai-tools:
    machines:
      gpu-server: {os_image: busybox}
  perso:
    trust_level: trusted
    machines:
      perso-a: {os_image: busybox}
  pro:
    trust_level: trusted
    machines:
      pro-a: {os_image: busybox}
"""


def access_column(screen: AiAccessScreen) -> dict[str, str]:
    table = screen.query_one("#ai-domains")
    return {table.get_row_at(i)[0]: table.get_row_at(i)[3] for i in range(table.row_count)}


async def test_the_screen_shows_the_holder_and_a_confirmed_switch_moves_access(incusd, tmp_path, monkeypatch):
    isolate_host(tmp_path, monkeypatch)
    infra = tmp_path / "infra.yml"
    infra.write_text(INFRA)
    app = AnklumeApp(infra, incus_url=incusd.url)
    async with app.run_test(size=(140, 40)) as pilot:
        await until(pilot, lambda: getattr(app.screen, "result", None) is not None)
        await pilot.press("A")
        screen = app.screen
        assert isinstance(screen, AiAccessScreen)
        await until(pilot, lambda: screen.holder == "perso")
        assert access_column(screen) == {"perso": HOLDS, "pro": ""}  # ai-tools itself is not a client
        assert "perso reaches ai-tools (ai_access_default)" in str(screen.query_one("#ai-summary").render())
        await pilot.press("j", "enter")
        assert isinstance(app.screen, ConfirmScreen)
        assert "Give AI access to pro?" in app.screen.question
        await pilot.press("y")
        await until(pilot, lambda: screen.holder == "pro" and screen.switching is None, timeout=60)
        assert access_column(screen) == {"perso": "", "pro": HOLDS}
        log = "\n".join(screen.query_one("#ai-log").lines)
        assert "done     nftables: only pro reaches ai-tools" in log
        assert "skipped  flush VRAM" in log  # no GPU on these machines: said, not failed
    assert (tmp_path / "state" / "anklume" / "ai-access-current").read_text().strip() == "pro"
    table = subprocess.run(
        ["nsenter", f"--net={os.environ['ANKLUME_NFT_NETNS']}", "--", "nft", "list", "table", "inet", "anklume"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert 'iifname "net-pro" oifname "net-ai-tools" accept' in table
    assert "AI access override (dynamic)" in (tmp_path / "state" / "anklume" / "nftables-isolation.nft").read_text()


async def test_escape_on_the_question_switches_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("ANKLUME_SKIP_HOST_SUBNET_CHECK", "1")
    monkeypatch.setenv("ANKLUME_INCUS", "unix:///nonexistent/unix.socket")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    infra = tmp_path / "infra.yml"
    infra.write_text(INFRA)
    app = AnklumeApp(infra)
    async with app.run_test(size=(140, 40)) as pilot:
        await until(pilot, lambda: getattr(app.screen, "result", None) is not None)
        await pilot.press("colon", "a", "i", "enter")
        screen = app.screen
        assert isinstance(screen, AiAccessScreen)
        await until(pilot, lambda: screen.holder == "perso")
        await pilot.press("j", "enter", "escape")
        assert app.screen is screen and screen.switching is None
    assert not (tmp_path / "state" / "anklume" / "ai-access-current").exists()
