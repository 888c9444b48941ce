"""The desktop (issue 21): a machine's display environment, and the clipboard between domains by explicit
action (copy from a machine into a host-held buffer, paste into another where the infra allows it), and the
window marker of i3 and sway (each machine's windows in its domain's trust colour)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...lazy_exports import exports_on_first_use

if TYPE_CHECKING:
    from .clipboard import (
        CHANNELS,
        ClipboardFailed,
        ClipboardRefused,
        ClipboardUsage,
        Console,
        End,
        FileBuffer,
        MemoryBuffer,
        Transfer,
        clipboard_log_file,
        copy_from_machine,
        host_buffer,
        machine_display_env,
        paste_into_machine,
        verdict,
    )
    from .window_marker import MarkerFailed, mark_windows
else:
    __getattr__ = exports_on_first_use(
        __name__,
        {
            "clipboard": [
                "CHANNELS",
                "ClipboardFailed",
                "ClipboardRefused",
                "ClipboardUsage",
                "Console",
                "End",
                "FileBuffer",
                "MemoryBuffer",
                "Transfer",
                "clipboard_log_file",
                "copy_from_machine",
                "host_buffer",
                "machine_display_env",
                "paste_into_machine",
                "verdict",
            ],
            "window_marker": ["MarkerFailed", "mark_windows"],
        },
    )

__all__ = [
    "CHANNELS",
    "ClipboardFailed",
    "ClipboardRefused",
    "ClipboardUsage",
    "Console",
    "End",
    "FileBuffer",
    "MarkerFailed",
    "MemoryBuffer",
    "Transfer",
    "clipboard_log_file",
    "copy_from_machine",
    "host_buffer",
    "machine_display_env",
    "mark_windows",
    "paste_into_machine",
    "verdict",
]
