"""Applications a machine exports to the host (issue 21): their menu entries, written and removed by apply and
flush, and the launch of one in its machine."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...lazy_exports import exports_on_first_use

if TYPE_CHECKING:
    from .entries import EntriesResult, EntryRefused, launcher_argv, remove_entries, sync_entries
    from .launch import launch_app
else:
    __getattr__ = exports_on_first_use(
        __name__,
        {
            "entries": ["EntriesResult", "EntryRefused", "launcher_argv", "remove_entries", "sync_entries"],
            "launch": ["launch_app"],
        },
    )

__all__ = [
    "EntriesResult",
    "EntryRefused",
    "launch_app",
    "launcher_argv",
    "remove_entries",
    "sync_entries",
]
