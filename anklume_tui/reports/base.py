"""What every `--json` document carries."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

SCHEMA_VERSION = 1


class Model(BaseModel):
    """Every document and part: its validator and serializer are built when first used (pydantic's
    defer_build), not as its module is imported: a verb imports the module of its document and builds only
    what it prints (issue 17)."""

    model_config = ConfigDict(defer_build=True)


class Report(Model):
    model_config = ConfigDict(extra="forbid")
    schema_version: int = SCHEMA_VERSION


class ErrorOut(Model):
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
