"""Which domains an operation covers: all the enabled ones, or the one `--limit` names."""

from __future__ import annotations

from ..errors import Invalid
from .model import Infra


class UnknownDomain(Invalid, ValueError):
    """`--limit` names no enabled domain."""


def check_limit(infra: Infra, limit: str | None) -> None:
    """Raise UnknownDomain unless `limit` is None or names an enabled domain."""
    if limit is not None and limit not in {d.name for d in infra.enabled_domains}:
        known = ", ".join(d.name for d in infra.enabled_domains) or "none"
        raise UnknownDomain(f"--limit {limit!r}: no enabled domain of that name (enabled: {known})")
