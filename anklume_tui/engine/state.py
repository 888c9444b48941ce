"""Where anklume-tui keeps things on the host (CLI.md "Where things are found")."""

from __future__ import annotations

import os
from pathlib import Path


def _xdg(var: str, fallback: str) -> Path:
    value = os.environ.get(var)
    return Path(value) if value and os.path.isabs(value) else Path.home() / fallback


def config_dir() -> Path:
    return _xdg("XDG_CONFIG_HOME", ".config") / "anklume"


def state_dir() -> Path:
    return _xdg("XDG_STATE_HOME", ".local/state") / "anklume"


def context_dir() -> Path:
    return Path(os.environ.get("ANKLUME_CONTEXT_DIR") or "/etc/anklume")


def user_themes_dir() -> Path:
    return config_dir() / "themes"


def bundled_example() -> Path:
    return Path(__file__).resolve().parent.parent / "bundled" / "infra.yml"
