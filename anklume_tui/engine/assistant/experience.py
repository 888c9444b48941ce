"""The experience library: each fix the user confirmed (applied, and the step then passed) by the failure's
signature, offered first when the same failure comes back, before any model is asked. Local and private."""

from __future__ import annotations

import contextlib
import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from ..host import paths
from ..host.private_files import append_private, read_json_lines


@dataclass(frozen=True)
class Experience:
    signature: str
    task: str
    message: str
    diff: str
    stored: str  # UTC ISO-8601


def library_file() -> Path:
    return paths.assistant_dir() / "experience.jsonl"


def rounds_log_file() -> Path:
    return paths.assistant_dir() / "rounds.jsonl"


def experiences() -> list[Experience]:
    found = []
    for data in read_json_lines(library_file()):
        with contextlib.suppress(KeyError):  # a line another version wrote without one of the fields
            found.append(Experience(**{k: str(data[k]) for k in Experience.__dataclass_fields__}))
    return found


def known_fix(signature: str) -> Experience | None:
    """The last fix stored for this signature."""
    return next((e for e in reversed(experiences()) if e.signature == signature), None)


def remember(signature: str, task: str, message: str, diff: str) -> Experience:
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    experience = Experience(signature, task, message, diff, stamp)
    append_private(library_file(), json.dumps(asdict(experience)) + "\n")
    return experience


def forget() -> int:
    """Clear the library; how many fixes it held."""
    count = len(experiences())
    library_file().unlink(missing_ok=True)
    return count


def log_round(entry: dict) -> None:
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    append_private(rounds_log_file(), json.dumps({"time": stamp, **entry}) + "\n")
