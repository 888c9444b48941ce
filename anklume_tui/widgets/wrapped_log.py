"""A Log whose long lines wrap at its width: an error longer than the screen is read whole, not cut at the
edge (Textual's Log scrolls sideways instead)."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from typing import Self

from textual.widgets import Log

INDENT = "  "  # the continuation of a wrapped line
SCROLLBAR = 2
NARROWEST = 20  # below this (not laid out yet), lines are written as they are


def wrapped(line: str, width: int) -> list[str]:
    """One line cut into pieces of at most `width` characters, continuations indented."""
    if width < NARROWEST or len(line) <= width:
        return [line]
    return textwrap.wrap(
        line, width, subsequent_indent=INDENT, break_on_hyphens=False, drop_whitespace=True, replace_whitespace=False
    ) or [line]


class WrappedLog(Log):
    def write_lines(self, lines: Iterable[str], scroll_end: bool | None = None) -> Self:
        # A log just shown (display: none until its first line) has no width yet: it spans the screen.
        width = self.scrollable_content_region.width or self.app.size.width - SCROLLBAR
        pieces = [part for line in lines for each in line.splitlines() or [""] for part in wrapped(each, width)]
        return super().write_lines(pieces, scroll_end)
