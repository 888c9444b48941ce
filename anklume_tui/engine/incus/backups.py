"""Backup calls: instance export to a tarball (server-side backup, streamed download) and import from one
(streamed upload), and the rename a restore-in-place needs (mixed into `incus.IncusClient`; every request
goes through its transport)."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import AsyncIterable, AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime

from anklume_tui.engine.incus.errors import IncusTimeout
from anklume_tui.engine.incus.transport import IncusTransport, q

CHUNK = 1 << 20
POLL = 0.5  # seconds between looks at a running backup
_SIZE = re.compile(r"([0-9.]+)\s*([kKMGTPE]?)(i?)B")
_POWERS = {"": 0, "k": 1, "K": 1, "M": 2, "G": 3, "T": 4, "P": 5, "E": 6}


def written_bytes(progress: str) -> int:
    """Bytes from an Incus progress text such as `14.45MB (14.21MB/s)` (0 when there is none)."""
    found = _SIZE.match(progress.strip())
    if not found:
        return 0
    number, prefix, binary = found.groups()
    return int(float(number) * (1024 if binary else 1000) ** _POWERS[prefix])


@dataclass(frozen=True)
class Download:
    """A body being received: its size when Incus announces it, and its chunks."""

    size: int | None
    chunks: AsyncIterator[bytes]


class BackupCalls:
    _t: IncusTransport

    async def create_backup(
        self,
        instance: str,
        name: str,
        *,
        project: str,
        expires_at: datetime,
        on_progress: Callable[[int], None] | None = None,
        timeout: float = 3600,
    ) -> None:
        """`incus export`'s first half: Incus writes a gzip tarball of the instance and its snapshots on
        the server (expiring, so one left behind by a crash does not stay forever). `on_progress` gets the
        bytes written so far, as Incus reports them (about once a second)."""
        body = {"name": name, "expires_at": expires_at.isoformat(), "compression_algorithm": "gzip"}
        path = f"/1.0/instances/{q(instance)}/backups"
        op = await self._t.call("POST", path, project=project, json=body, wait=False)
        report = on_progress or (lambda _n: None)
        deadline = time.monotonic() + timeout
        while True:
            running = await self._t.call("GET", f"/1.0/operations/{q(op['id'])}") or {}
            report(written_bytes((running.get("metadata") or {}).get("create_backup_progress", "")))
            if int(running.get("status_code") or 0) >= 200:  # over: success or failure
                break
            if time.monotonic() > deadline:
                raise IncusTimeout(f"backup still running after {timeout:g} s", method="POST", path=path)
            await asyncio.sleep(POLL)
        await self._t.wait_operation(op["id"], method="POST", path=path)  # at once; raises the failure

    @contextlib.asynccontextmanager
    async def export_backup(self, instance: str, name: str, *, project: str) -> AsyncIterator[Download]:
        """The server-side backup's tarball, streamed: `async with ... as download: async for chunk in
        download.chunks`."""
        path = f"/1.0/instances/{q(instance)}/backups/{q(name)}/export"
        async with self._t.stream("GET", path, project=project) as response:
            length = response.headers.get("Content-Length")
            yield Download(int(length) if length and length.isdigit() else None, response.aiter_bytes(CHUNK))

    async def delete_backup(self, instance: str, name: str, *, project: str) -> None:
        await self._t.call("DELETE", f"/1.0/instances/{q(instance)}/backups/{q(name)}", project=project)

    async def import_backup(
        self, tarball: AsyncIterable[bytes], *, project: str, name: str | None = None, timeout: float = 3600
    ) -> None:
        """`incus import`: a new (stopped) instance from a backup tarball streamed as the body, named as
        in the backup unless `name` is given. Incus removes what it created when the import fails."""
        headers = {"Content-Type": "application/octet-stream"}
        if name:
            headers["X-Incus-name"] = name
        await self._t.call("POST", "/1.0/instances", project=project, content=tarball, headers=headers, timeout=timeout)

    async def rename_instance(self, name: str, new_name: str, *, project: str) -> None:
        """Rename a stopped instance (its snapshots follow)."""
        await self._t.call("POST", f"/1.0/instances/{q(name)}", project=project, json={"name": new_name})
