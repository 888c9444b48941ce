"""Files through the files API (mixed into `incus.IncusClient`; every request goes through its transport): a
small file pushed or pulled in memory, and streamed reads and writes, chunk by chunk, so a big file never sits
whole in memory.

Incus 6.0 serves each instance's files through a helper process listening on a socket it names through a
directory file descriptor. When one instance's idle helper exits, Incus closes its listener through a
descriptor number another request may just have reused, and unlinks that other instance's fresh socket (the
race upstream describes in canonical/lxd#18403; same code in Incus): the request fails with HTTP 500 "dial
unix /proc/self/fd/N/forkfile.sock: connect: no such file or directory", and the instance's helper lives on,
unreachable, until it exits idle. Any files request for that instance sent before then waits for it, and then
fails the same way, leaving a new unreachable helper: requests sent one after another keep failing. So files
requests for one instance go one at a time, and one the race failed is tried again only once the orphaned
helper has exited; a streamed upload cannot be sent again, and fails."""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from anklume_tui.engine.incus.errors import IncusError, IncusNotFound, IncusUnreachable
from anklume_tui.engine.incus.models import InstanceFile
from anklume_tui.engine.incus.transport import IncusTransport, q, tried_again

if TYPE_CHECKING:
    import httpx

T = TypeVar("T")

CHUNK = 1 << 20
# Incus's file helper exits after 10 s without a connection then 5 s without a request (its forkfile command).
HELPER_IDLE_EXIT = 15.0
# Seconds before each new try of a request the race failed (see above): past the orphaned helper's exit.
RACE_RETRY_DELAYS = (HELPER_IDLE_EXIT + 2, HELPER_IDLE_EXIT + 2)


def lost_helper_socket(exc: IncusError) -> bool:
    """Incus's answer when the race above took the instance's file-helper socket away."""
    return exc.status == 500 and "forkfile.sock" in exc.message


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


def _file_headers(mode: int, uid: int, gid: int) -> dict[str, str]:
    """The headers of a regular file written whole (created or overwritten) with this mode and owner."""
    return {
        "X-Incus-uid": str(uid),
        "X-Incus-gid": str(gid),
        "X-Incus-mode": f"{mode:04o}",
        "X-Incus-type": "file",
        "X-Incus-write": "overwrite",
        "Content-Type": "application/octet-stream",
    }


async def _nothing() -> AsyncIterator[bytes]:
    return
    yield b""  # an async generator that yields nothing


class FileCalls:
    _t: IncusTransport
    # One lock per (project, instance): files requests for one instance go one at a time (see above).
    _file_locks: defaultdict[tuple[str, str], asyncio.Lock]

    async def _one_at_a_time(
        self, name: str, attempt: Callable[[], Awaitable[T]], *, project: str, again: bool = True
    ) -> T:
        """`attempt` (one files request) while no other files request for this instance is in flight; with
        `again`, tried again past the orphaned helper's exit when Incus lost the instance's helper socket."""
        async with self._file_locks[(project, name)]:
            return await tried_again(attempt, when=lost_helper_socket, delays=RACE_RETRY_DELAYS if again else ())

    async def _files(
        self,
        method: str,
        name: str,
        path: str,
        *,
        project: str,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """One request to the instance's files API whose body can be sent again."""
        where = f"/1.0/instances/{q(name)}/files"
        return await self._one_at_a_time(
            name,
            lambda: self._t.send(
                method, where, project=project, params={"path": path}, content=content, headers=headers
            ),
            project=project,
        )

    async def file_head(self, name: str, path: str, *, project: str) -> FileHead | None:
        """The type and ownership of `path` in the instance, None when nothing is there."""
        try:
            return _head(await self._files("HEAD", name, path, project=project))
        except IncusNotFound:
            return None

    async def pull_file(self, name: str, path: str, *, project: str = "default") -> InstanceFile:
        """A small file read whole into memory, or a directory's entries."""
        response = await self._files("GET", name, path, project=project)
        head = _head(response)
        result = InstanceFile(path=path, type=head.type, uid=head.uid, gid=head.gid, mode=head.mode)
        if head.type == "directory":
            result.entries = list(response.json().get("metadata") or [])
        else:
            result.content = response.content
        return result

    @contextlib.asynccontextmanager
    async def read_file(self, name: str, path: str, *, project: str) -> AsyncIterator[FileStream]:
        """`async with client.read_file(...) as found: async for chunk in found.chunks`; IncusNotFound
        when the path does not exist. A directory or a symlink comes with no chunks."""
        where = f"/1.0/instances/{q(name)}/files"
        async with contextlib.AsyncExitStack() as stack:

            def opened() -> Awaitable[httpx.Response]:
                return stack.enter_async_context(self._t.stream("GET", where, project=project, params={"path": path}))

            response = await self._one_at_a_time(name, opened, project=project)
            head = _head(response)
            chunks = response.aiter_bytes(CHUNK) if head.type == "file" else _nothing()
            yield FileStream(head, chunks)

    async def make_directory(self, name: str, path: str, *, project: str, mode: int = 0o755) -> None:
        """Create a directory owned by root (its parent must exist); one already there is kept."""
        headers = {"X-Incus-uid": "0", "X-Incus-gid": "0", "X-Incus-mode": f"{mode:04o}", "X-Incus-type": "directory"}
        try:
            await self._files("POST", name, path, headers=headers, project=project)
        except IncusError as exc:  # Incus says "file exists" (or 409) for one already there
            if isinstance(exc, IncusUnreachable) or not (exc.status == 409 or "exists" in exc.message.lower()):
                raise

    async def push_file(
        self,
        name: str,
        path: str,
        content: bytes | str,
        *,
        project: str = "default",
        mode: int = 0o644,
        uid: int = 0,
        gid: int = 0,
    ) -> None:
        """Create or overwrite a small regular file from memory, with this mode and owner."""
        data = content.encode() if isinstance(content, str) else content
        await self._files("POST", name, path, content=data, headers=_file_headers(mode, uid, gid), project=project)

    async def write_file(
        self, name: str, path: str, chunks: AsyncIterable[bytes], *, project: str, mode: int, uid: int, gid: int
    ) -> None:
        """Create or overwrite a regular file from streamed chunks, with this mode and owner."""
        await self._one_at_a_time(
            name,
            lambda: self._t.send(
                "POST",
                f"/1.0/instances/{q(name)}/files",
                project=project,
                params={"path": path},
                content=chunks,
                headers=_file_headers(mode, uid, gid),
                timeout=3600,
            ),
            again=False,
            project=project,
        )
