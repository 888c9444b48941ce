"""How `apply` starts (issue 17): the apply lock taken first, then, under it, what apply reads of Incus sent
before the client, the check and the engine are imported (incus/quick_read.py): Incus lists its objects on
another core while this process imports them. The check's stable allocation and the plan are made from those
listings, and an apply that changes nothing needs no other request and never imports the HTTP client.

The listings are read under the lock, as the plan's own reads are: no other apply, provision or ai-switch can
change Incus between them and the plan. When the lock is held by another, nothing is read early: the check runs
and `apply` says who holds the lock, as before. When the reads are not simply answered (another Incus than a
local socket, a cluster, an error), the check and the plan read through the client, as before.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from ..host import paths as state
from ..host.apply_lock import ApplyLock, ApplyLocked
from ..incus.quick_read import ApplyListings, QuickReads, apply_listings, start_apply_reads

if TYPE_CHECKING:
    from ...psot.stability import PriorAllocation

Cluster = tuple[tuple[str, ...], tuple[str, ...]]  # member names, group names (both empty: not a cluster)


class ApplyStart:
    """`with ApplyStart.begin(url) as start:` — the lock (`locked`) and the early listings (`listings()`),
    released on leaving."""

    def __init__(self, lock: ApplyLock | None, reads: QuickReads | None) -> None:
        self._lock = lock
        self._reads = reads
        self._listings: ApplyListings | None = None

    @classmethod
    def begin(cls, url: str | None, state_dir: Path | None = None) -> ApplyStart:
        lock = ApplyLock(Path(state_dir) if state_dir is not None else state.state_dir())
        try:
            lock.__enter__()
        except (ApplyLocked, OSError):  # said by apply itself, once the infra is checked, as before
            return cls(None, None)
        return cls(lock, start_apply_reads(url))

    @property
    def locked(self) -> bool:
        """Whether this process holds the apply lock: `apply` then does not take it again."""
        return self._lock is not None

    def listings(self) -> ApplyListings | None:
        """What Incus answered (waited for the first time), or None: read through the client instead."""
        if self._reads is not None:
            self._listings = apply_listings(self._reads)
            self._reads = None
        return self._listings

    def allocation(self) -> PriorAllocation | None:
        """The check's stable allocation from the listings (as `gather_applied` reads it), or None."""
        found = self.listings()
        if found is None:
            return None
        from .allocation import prior_allocation

        return prior_allocation((found.networks, found.instances))

    def cluster(self) -> Cluster | None:
        """The cluster's members and groups for the check: none, as the listings are only kept off a cluster."""
        return ((), ()) if self.listings() is not None else None

    @contextlib.contextmanager
    def held_by_apply(self) -> Iterator[None]:
        """For `apply`: the lock taken at start, released when apply ends, as apply's own lock is (provisioning
        then takes it again)."""
        try:
            yield
        finally:
            self.release()

    def release(self) -> None:
        if self._lock is not None:
            self._lock.__exit__(None, None, None)
            self._lock = None

    def __enter__(self) -> ApplyStart:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()
