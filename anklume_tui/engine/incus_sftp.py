"""Several small files into an instance over one SFTP session (mixed into `incus.IncusClient`).

Incus upgrades `GET /1.0/instances/NAME/sftp` to a raw SFTP stream. One session writes a directory and its
files in a few round trips, where the files API takes one request per file, each served by a file server
Incus starts for it (about 0.3 s of wall time for a directory and four files here, against ~20 ms for the
session: see benchmarks/engine_plan_apply.py). paramiko speaks SFTP; it blocks, so the session runs in a
worker thread.
"""

from __future__ import annotations

import asyncio
import socket
import stat
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit

from anklume_tui.engine.incus_transport import (
    Endpoint,
    IncusError,
    IncusTimeout,
    IncusTransport,
    IncusUnreachable,
    error_of,
    q,
)

if TYPE_CHECKING:
    import paramiko

_HEAD_LIMIT = 1 << 16
_BUSY_RETRIES = (0.1, 0.3, 1.0)  # seconds before each new attempt


class _Channel:
    """The upgraded socket, as the channel paramiko's SFTP client expects."""

    def __init__(self, sock: socket.socket, early: bytes) -> None:
        self._sock = sock
        self._early = early  # bytes read past the HTTP head, if the server spoke first

    def send(self, data: bytes) -> int:
        return self._sock.send(data)

    def recv(self, size: int) -> bytes:
        if self._early:
            data, self._early = self._early[:size], self._early[size:]
            return data
        return self._sock.recv(size)

    def get_name(self) -> str:
        return "incus-sftp"

    def close(self) -> None:
        self._sock.close()


def _connect(endpoint: Endpoint, timeout: float) -> tuple[socket.socket, str]:
    """A connected socket to Incus and the Host header to send."""
    if endpoint.is_unix:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect(endpoint.socket or "")
        except OSError:
            sock.close()
            raise
        return sock, "incus"
    url = urlsplit(endpoint.url)
    raw = socket.create_connection((url.hostname or "", url.port or 8443), timeout=timeout)
    try:
        return endpoint.ssl_context().wrap_socket(raw, server_hostname=url.hostname), url.netloc
    except OSError:
        raw.close()
        raise


def _upgrade(sock: socket.socket, host: str, name: str, project: str) -> bytes:
    """Ask for the SFTP upgrade; the bytes that came after the HTTP head. Refusals raise IncusError."""
    path = f"/1.0/instances/{q(name)}/sftp?project={quote(project, safe='')}"
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: sftp\r\nConnection: Upgrade\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk or len(data) > _HEAD_LIMIT:
            raise IncusUnreachable("closed the connection during the SFTP upgrade", method="GET", path=path)
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    status_line = head.split(b"\r\n", 1)[0].decode("latin-1")
    parts = status_line.split()
    code = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
    if code == 101:
        return rest
    raise error_of(code, rest, " ".join(parts[2:]), "GET", path)


def _sftp_busy(exc: IncusError) -> bool:
    """Incus 6.0's 500 while an instance's file server is starting (or will not start for this session)."""
    return exc.status == 500 and "SFTP connection" in exc.message


def _ensure_directory(sftp: paramiko.SFTPClient, directory: str, mode: int) -> None:
    try:
        sftp.mkdir(directory, mode)
    except OSError:
        try:
            found = sftp.stat(directory)
        except OSError:
            found = None
        if found is None or not stat.S_ISDIR(found.st_mode or 0):
            raise
    sftp.chmod(directory, mode)


def _write_files(
    endpoint: Endpoint,
    name: str,
    project: str,
    directory: str,
    files: Mapping[str, str | bytes],
    mode: int,
    timeout: float,
) -> None:
    import paramiko  # ~0.3 s to import (its crypto): only when files are written, never at start-up

    where = f"{project}/{name}"
    sock, early = _session(endpoint, name, project, timeout)
    current = directory
    try:
        sftp = paramiko.SFTPClient(_Channel(sock, early))
        try:
            _ensure_directory(sftp, directory, 0o755)
            for file_name, content in files.items():
                current = f"{directory}/{file_name}"
                with sftp.open(current, "wb") as handle:
                    handle.write(content.encode() if isinstance(content, str) else content)
                sftp.chmod(current, mode)
        finally:
            sftp.close()
    except TimeoutError:
        raise IncusTimeout(f"Incus did not answer within {timeout:g} s writing {current} in {where}") from None
    except paramiko.SSHException as exc:
        raise IncusError(f"SFTP to {where} failed: {exc}") from None
    except OSError as exc:
        raise IncusError(f"cannot write {current} in {where}: {exc.strerror or exc}") from None
    finally:
        sock.close()


def _session(endpoint: Endpoint, name: str, project: str, timeout: float) -> tuple[socket.socket, bytes]:
    """A socket upgraded to SFTP, and the bytes already read past the HTTP head. Incus 6.0 can answer 500
    "Failed getting instance SFTP connection" while the instance's file server is still starting (seen on
    stopped containers being created side by side): that answer is retried a few times."""
    for delay in _BUSY_RETRIES:
        try:
            return _open(endpoint, name, project, timeout)
        except IncusError as exc:
            if not _sftp_busy(exc):
                raise
        time.sleep(delay)
    return _open(endpoint, name, project, timeout)


def _open(endpoint: Endpoint, name: str, project: str, timeout: float) -> tuple[socket.socket, bytes]:
    try:
        sock, host = _connect(endpoint, timeout)
    except TimeoutError:
        raise IncusUnreachable(f"Incus at {endpoint.url} did not accept the connection in time") from None
    except OSError as exc:
        raise IncusUnreachable(f"Incus at {endpoint.url} could not be reached ({exc.strerror or exc})") from None
    try:
        return sock, _upgrade(sock, host, name, project)
    except TimeoutError:
        sock.close()
        raise IncusTimeout(f"Incus did not answer the SFTP upgrade within {timeout:g} s") from None
    except OSError as exc:
        sock.close()
        raise IncusUnreachable(f"Incus at {endpoint.url} closed the connection ({exc.strerror or exc})") from None
    except IncusError:
        sock.close()
        raise


class SftpCalls:
    _t: IncusTransport

    async def write_files(
        self,
        name: str,
        project: str,
        directory: str,
        files: Mapping[str, str | bytes],
        *,
        mode: int = 0o644,
    ) -> None:
        """Create `directory` (its parent must exist; an existing one is kept) and write each file into it,
        owned by root with `mode`, over one SFTP session: works on a stopped container too. When Incus keeps
        refusing the session (its 500 "Failed getting instance SFTP connection", seen with containers created
        side by side), the files go through the files API instead, one request each."""
        self._t.requests += 1
        try:
            await asyncio.to_thread(
                _write_files, self._t.endpoint, name, project, directory, files, mode, self._t.timeout
            )
        except IncusError as exc:
            if not _sftp_busy(exc):
                raise
            await self.make_directory(name, project, directory)
            for file_name, content in files.items():
                await self.push_file(name, project, f"{directory}/{file_name}", content, mode=mode)
