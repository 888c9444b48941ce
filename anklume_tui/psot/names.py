"""Names the tool gives to things it makes beside the declared machines (SPEC §5.5, §10.2)."""

from __future__ import annotations

from datetime import datetime

DISPOSABLE_STEM = "disp-"


def disposable_name(prefix: str, now: datetime | None = None) -> str:
    """`<prefix>disp-YYYYMMDD-HHMMSS`: a new disposable's name."""
    return f"{prefix}{DISPOSABLE_STEM}{(now or datetime.now()).strftime('%Y%m%d-%H%M%S')}"


def named_as_disposable(name: str, prefix: str) -> bool:
    """Whether an instance name is a disposable's (`<prefix>disp-…`)."""
    return name.startswith(f"{prefix}{DISPOSABLE_STEM}")
