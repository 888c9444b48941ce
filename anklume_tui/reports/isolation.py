"""Documents about network isolation: the ruleset apply loads, nftables, ai-switch."""

from __future__ import annotations

from typing import Literal

from .base import Model, Report


class IsolationOut(Model):
    """What loading the host isolation ruleset did at the end of apply."""

    bridges: list[str]
    loaded: bool
    changed: bool
    warnings: list[str]
    error: str | None


class NftablesReport(Report):
    dry_run: bool
    ruleset: str
    bridges: list[str]
    bridges_from: Literal["incus", "infra"]  # infra: dry run without Incus (enabled domains' bridges)
    ai_override: str | None
    loaded: bool
    changed: bool
    state_file: str | None
    persisted: str | None
    warnings: list[str]
    error: str | None


class AiSwitchStepOut(Model):
    step: str
    outcome: Literal["planned", "done", "skipped", "failed"]
    detail: str


class AiSwitchReport(Report):
    dry_run: bool
    target: str
    previous: str | None
    switched: bool
    steps: list[AiSwitchStepOut]
