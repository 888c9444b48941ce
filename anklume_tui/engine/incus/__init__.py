"""The only code that talks to Incus: `connect(url)` gives a client (`async with connect(url) as client`),
scoped to no project; each call names its project. Errors are `IncusError` and its kinds."""

from __future__ import annotations

from .client import IncusClient
from .transport import IncusError, IncusNotFound, IncusTimeout, IncusUnreachable, IncusUrlError


def connect(url: str | None = None) -> IncusClient:
    """A client for the Incus at `url` (`--incus`, `$ANKLUME_INCUS`, else the local socket); it connects on
    first use and closes with `async with`."""
    return IncusClient(url)


__all__ = [
    "IncusClient",
    "IncusError",
    "IncusNotFound",
    "IncusTimeout",
    "IncusUnreachable",
    "IncusUrlError",
    "connect",
]
