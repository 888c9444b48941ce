"""The only code that talks to Incus: `connect(url)` gives a client (`async with connect(url) as client`),
scoped to no project; each call names its project. Errors are `IncusError` and its kinds."""

from __future__ import annotations

from .client import IncusClient
from .models import ExecResult
from .transport import IncusError, IncusUnreachable, IncusUrlError, resolve_endpoint


def connect(url: str | None = None) -> IncusClient:
    """A client for the Incus at `url` (`--incus`, `$ANKLUME_INCUS`, else the local socket); it connects on
    first use and closes with `async with`."""
    return IncusClient(url)


__all__ = [
    "ExecResult",
    "IncusClient",
    "IncusError",
    "IncusUnreachable",
    "IncusUrlError",
    "connect",
    "resolve_endpoint",
]
