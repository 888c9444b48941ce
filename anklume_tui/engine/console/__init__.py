"""The coloured tmux console (SPEC §10.4): its layout as a value, and the only code that drives tmux."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...lazy_exports import exports_on_first_use

if TYPE_CHECKING:
    from .buffer import ConsoleBuffer, load_console_buffer, read_console_buffer
    from .layout import DEFAULT_SESSION, ConsoleError, build_layout, incus_cli_environment, render_layout
    from .selection import open_for_selection, run_attached
    from .tmux import attach, kill_console, open_console, tmux_server
else:
    __getattr__ = exports_on_first_use(
        __name__,
        {
            "buffer": ["ConsoleBuffer", "load_console_buffer", "read_console_buffer"],
            "layout": ["DEFAULT_SESSION", "ConsoleError", "build_layout", "incus_cli_environment", "render_layout"],
            "selection": ["open_for_selection", "run_attached"],
            "tmux": ["attach", "kill_console", "open_console", "tmux_server"],
        },
    )

__all__ = [
    "ConsoleBuffer",
    "ConsoleError",
    "DEFAULT_SESSION",
    "attach",
    "build_layout",
    "incus_cli_environment",
    "kill_console",
    "load_console_buffer",
    "open_console",
    "open_for_selection",
    "read_console_buffer",
    "render_layout",
    "run_attached",
    "tmux_server",
]
