"""`clipboard`'s document: what moved between which machines, never the text (issue 21)."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict

from .base import Model, Report


class ClipboardEndOut(Model):
    model_config = ConfigDict(extra="forbid")
    domain: str
    machine: str
    channel: Literal["x11", "wayland", "tmux"]


class ClipboardReport(Report):
    """`clipboard copy|paste`: the transfer done (source, target, bytes), or the refusal or failure."""

    op: Literal["copy", "paste"]
    machine: str  # as given on the command line
    done: bool
    source: ClipboardEndOut | None  # copy: the machine read; paste: where the host buffer's text came from
    target: ClipboardEndOut | None  # paste only (a copy's target is the host buffer)
    bytes: int
    rule: str | None  # CB1-CB4 when refused
    error: str | None
