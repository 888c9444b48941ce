"""Files through the files API (mixed into `incus.IncusClient`; every request goes through its transport): a
small file pushed from memory, and streamed reads and writes, chunk by chunk, so a big file never sits whole
in memory. `incus_instances` keeps the small in-memory `pull_file`."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass

import httpx

from anklume_tui.engine.incus_transport import IncusError, IncusNotFound, IncusTransport, IncusUnreachable, q

CHUNK = 1 << 20


@dataclass(frozen=True)
class FileHead:
    """What Incus says of a path inside an instance: its type (file, directory, symlink) and ownership."""

    type: str
    mode: int
    uid: int
    gid: int
    size: int | None = None


@dataclass(frozen=True)
class FileStream:
    """A file being read: its head, and its content as chunks (empty for anything but a file)."""

    head: FileHead
    chunks: AsyncIterator[bytes]


def _head(response: httpx.Response) -> FileHead:
    h = response.headers
    length = h.get("Content-Length", "")
    return FileHead(
        type=h.get("X-Incus-type", "file"),
        mode=int(h.get("X-Incus-mode", "644"), 8),
        uid=int(h.get("X-Incus-uid", 0)),
        gid=int(h.get("X-Incus-gid", 0)),
        size=int(length) if length.isdigit() else None,
    )


async def _nothing() -> AsyncIterator[bytes]:
    return
    yield b""  # an async generator that yields nothing


class FileCalls:
    _t: IncusTransport

    async def file_head(self, name: str, project: str, path: str) -> FileHead | None:
        """The type and ownership of `path` in the instance, None when nothing is there."""
        try:
            response = await self._t.send(
                "HEAD", f"/1.0/instances/{q(name)}/files", project=project, params={"path": path}
            )
        except IncusNotFound:
            return None
        return _head(response)

    @contextlib.asynccontextmanager
    async def read_file(self, name: str, project: str, path: str) -> AsyncIterator[FileStream]:
        """`async with client.read_file(...) as found: async for chunk in found.chunks`; IncusNotFound
        when the path does not exist. A directory or a symlink comes with no chunks."""
        where = f"/1.0/instances/{q(name)}/files"
        async with self._t.stream("GET", where, project=project, params={"path": path}) as response:
            head = _head(response)
            chunks = response.aiter_bytes(CHUNK) if head.type == "file" else _nothing()
            yield FileStream(head, chunks)

    async def make_directory(self, name: str, project: str, path: str, *, mode: int = 0o755) -> None:
        """Create a directory owned by root (its parent must exist); one already there is kept."""
        headers = {"X-Incus-uid": "0", "X-Incus-gid": "0", "X-Incus-mode": f"{mode:04o}", "X-Incus-type": "directory"}
        try:
            await self._t.send(
                "POST", f"/1.0/instances/{q(name)}/files", project=project, params={"path": path}, headers=headers
            )
        except IncusError as exc:  # Incus says "file exists" (or 409) for one already there
            if isinstance(exc, IncusUnreachable) or not (exc.status == 409 or "exists" in exc.message.lower()):
                raise

    async def push_file(
        self,
        name: str,
        project: str = "default",
        path: str = "",
        content: bytes | str = b"",
        *,
        mode: int = 0o644,
        uid: int = 0,
        gid: int = 0,
    ) -> None:
        """Create or overwrite a small regular file from memory, with this mode and owner."""
        data = content.encode() if isinstance(content, str) else content
        await self._post_file(name, project, path, data, mode=mode, uid=uid, gid=gid, timeout=None)

    async def write_file(
        self, name: str, project: str, path: str, chunks: AsyncIterable[bytes], *, mode: int, uid: int, gid: int
    ) -> None:
        """Create or overwrite a regular file from streamed chunks, with this mode and owner."""
        await self._post_file(name, project, path, chunks, mode=mode, uid=uid, gid=gid, timeout=3600)

    async def _post_file(
        self,
        name: str,
        project: str,
        path: str,
        content: bytes | AsyncIterable[bytes],
        *,
        mode: int,
        uid: int,
        gid: int,
        timeout: float | None,
    ) -> None:
        headers = {
            "X-Incus-uid": str(uid),
            "X-Incus-gid": str(gid),
            "X-Incus-mode": f"{mode:04o}",
            "X-Incus-type": "file",
            "X-Incus-write": "overwrite",
            "Content-Type": "application/octet-stream",
        }
        await self._t.send(
            "POST",
            f"/1.0/instances/{q(name)}/files",
            project=project,
            params={"path": path},
            content=content,
            headers=headers,
            timeout=timeout,
        )
