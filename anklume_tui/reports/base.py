"""What every `--json` document carries."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

SCHEMA_VERSION = 1


class Report(BaseModel):
    model_config = ConfigDict(extra="forbid")
    schema_version: int = SCHEMA_VERSION


class ErrorOut(BaseModel):
    """Why a verb ended without its own document: the kind of error (its exit code) and the user's message."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["failed", "invalid", "unreachable", "refused", "internal"]
    message: str
    exit_code: int


class ErrorReport(Report):
    """The one document a `--json` run prints when it ends on an error before printing its own (CLI.md: exactly
    one JSON document on stdout)."""

    ok: Literal[False] = False
    error: ErrorOut
