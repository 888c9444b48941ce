"""`explain --json`: the failure, exactly what would be (or was) sent, and each fix round."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict

from .base import Model, Report


class FailureOut(Model):
    model_config = ConfigDict(extra="forbid")
    step: str = "provision"
    host: str
    domain: str | None
    task: str
    message: str
    signature: str
    infra_lines: list[str]
    role_files: list[str]


class ExplainRoundOut(Model):
    model_config = ConfigDict(extra="forbid")
    number: int
    source: str  # "experience" | "model"
    explanation: str
    diff: str | None
    applied: list[str]
    rerun_ok: bool | None
    refused: str | None


class ExperienceOut(Model):
    model_config = ConfigDict(extra="forbid")
    signature: str
    task: str
    message: str
    diff: str
    stored: str


class ExplainReport(Report):
    backend: str
    failure: FailureOut | None = None
    prompt: str | None = None  # the user message: what the model is told about the failure
    request: dict[str, Any] | None = None  # method, url, headers (the key masked), body: as sent
    sent: bool = False
    rounds: list[ExplainRoundOut] = []
    fixed: bool = False
    history: list[ExperienceOut] | None = None
    forgotten: int | None = None
    error: str | None = None
