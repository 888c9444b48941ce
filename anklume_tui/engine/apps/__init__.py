"""Applications a machine exports to the host (issue 21): their menu entries, written and removed by apply and
flush, and the launch of one in its machine."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...lazy_exports import exports_on_first_use

if TYPE_CHECKING:
    from .entries import EntriesResult, EntryRefused, launcher_argv, remove_entries, sync_entries
    from .launch import display_env, launch_app
else:
    __getattr__ = exports_on_first_use(
        __name__,
        {
            "entries": ["EntriesResult", "EntryRefused", "launcher_argv", "remove_entries", "sync_entries"],
            "launch": ["display_env", "launch_app"],
        },
    )

__all__ = [
    "EntriesResult",
    "EntryRefused",
    "display_env",
    "launch_app",
    "launcher_argv",
    "remove_entries",
    "sync_entries",
]
