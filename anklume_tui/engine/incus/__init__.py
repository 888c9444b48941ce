"""The only code that talks to Incus: `connect(url)` gives a client (`async with connect(url) as client`),
scoped to no project; each call names its project. Errors are `IncusError` and its kinds.

Its modules (and httpx) are imported on first use of a name (anklume_tui/lazy_exports.py): a screen or a verb
that names the package pays for the client only when it talks to Incus."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from ...lazy_exports import exports_on_first_use

# httpx's __init__ also imports its command-line client when rich, click and pygments are installed (they are,
# with Textual): nearly half of importing httpx, for a CLI we never run. A None entry makes that import fail,
# which httpx handles by leaving its CLI out. Every import of httpx in anklume-tui goes through this package.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

if TYPE_CHECKING:
    from .client import IncusClient
    from .cluster import ClusterMember, Moved, MoveFailed, MoveProgress, MoveRefused
    from .endpoint import resolve_endpoint
    from .errors import IncusError, IncusUnreachable, IncusUrlError
    from .models import ExecResult
    from .remotes import Remote, endpoint_of, incus_remotes, use_infra_incus
else:
    __getattr__ = exports_on_first_use(
        __name__,
        {
            "client": ["IncusClient"],
            "cluster": ["ClusterMember", "MoveFailed", "MoveProgress", "MoveRefused", "Moved"],
            "models": ["ExecResult"],
            "remotes": ["Remote", "endpoint_of", "incus_remotes", "use_infra_incus"],
            "endpoint": ["resolve_endpoint"],
            "errors": ["IncusError", "IncusUnreachable", "IncusUrlError"],
        },
    )


def connect(url: str | None = None) -> IncusClient:
    """A client for the Incus at `url` (`--incus`, `$ANKLUME_INCUS`, else the local socket); it connects on
    first use and closes with `async with`."""
    from .client import IncusClient

    return IncusClient(url)


__all__ = [
    "ClusterMember",
    "ExecResult",
    "IncusClient",
    "IncusError",
    "IncusUnreachable",
    "IncusUrlError",
    "MoveFailed",
    "MoveProgress",
    "MoveRefused",
    "Moved",
    "Remote",
    "connect",
    "endpoint_of",
    "incus_remotes",
    "resolve_endpoint",
    "use_infra_incus",
]
