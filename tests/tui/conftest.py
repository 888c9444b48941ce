"""Every TUI test sees the same look: no user themes from the tester's own config (a test sets its own)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def no_user_themes(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
