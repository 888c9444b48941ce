"""The Incus client: one transport, and the calls of each REST resource mixed in from their own files
(projects, networks, profiles, storage, images, instances, files, backups, host), as the Incus Go client
lays out its `client/` package.

Async, over httpx: a unix socket (`unix:///var/lib/incus/unix.socket`) or HTTPS with a client certificate
(`https://host:8443`). Reads come back as pydantic models; writes take plain dicts of Incus config.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from anklume_tui.engine.incus.backups import BackupCalls
from anklume_tui.engine.incus.cluster import ClusterCalls, ClusterMember, Moved, MoveFailed, MoveProgress, MoveRefused
from anklume_tui.engine.incus.endpoint import Endpoint, resolve_endpoint
from anklume_tui.engine.incus.errors import IncusError, IncusNotFound, IncusTimeout, IncusUnreachable, IncusUrlError
from anklume_tui.engine.incus.events import EventStream
from anklume_tui.engine.incus.files import FileCalls
from anklume_tui.engine.incus.host import HostCalls
from anklume_tui.engine.incus.images import ImageCalls
from anklume_tui.engine.incus.instances import InstanceCalls
from anklume_tui.engine.incus.models import (
    ExecResult,
    Image,
    ImageAlias,
    Instance,
    InstanceFile,
    InstanceState,
    Network,
    Profile,
    Project,
    ServerInfo,
    Snapshot,
    StorageVolume,
)
from anklume_tui.engine.incus.networks import NetworkCalls
from anklume_tui.engine.incus.profiles import ProfileCalls
from anklume_tui.engine.incus.projects import ProjectCalls
from anklume_tui.engine.incus.storage import StorageCalls
from anklume_tui.engine.incus.transport import IncusTransport

__all__ = [
    "ClusterMember",
    "Endpoint",
    "EventStream",
    "ExecResult",
    "Image",
    "ImageAlias",
    "IncusClient",
    "IncusError",
    "IncusNotFound",
    "IncusTimeout",
    "IncusUnreachable",
    "IncusUrlError",
    "Instance",
    "InstanceFile",
    "InstanceState",
    "MoveFailed",
    "MoveProgress",
    "MoveRefused",
    "Moved",
    "Network",
    "Profile",
    "Project",
    "ServerInfo",
    "Snapshot",
    "StorageVolume",
    "resolve_endpoint",
]


class IncusClient(
    ProjectCalls,
    NetworkCalls,
    ProfileCalls,
    StorageCalls,
    ImageCalls,
    InstanceCalls,
    FileCalls,
    BackupCalls,
    HostCalls,
    ClusterCalls,
):
    """`async with IncusClient(url) as incus: ...`; see `resolve_endpoint` for how the URL is found."""

    def __init__(
        self,
        url: str | None = None,
        *,
        cert: str | Path | None = None,
        key: str | Path | None = None,
        server_cert: str | Path | None = None,
        ca: str | Path | None = None,
        timeout: float = 30.0,
        operation_timeout: float = 120.0,
    ) -> None:
        self.endpoint = resolve_endpoint(url, cert=cert, key=key, server_cert=server_cert, ca=ca)
        self._t = IncusTransport(self.endpoint, timeout=timeout, operation_timeout=operation_timeout)
        self._file_locks = defaultdict(asyncio.Lock)

    @property
    def requests(self) -> int:
        """HTTP requests (and event websocket connections) made so far."""
        return self._t.requests

    @property
    def url(self) -> str:
        return self.endpoint.url

    async def close(self) -> None:
        await self._t.aclose()

    async def __aenter__(self) -> IncusClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # Networks (a bridge's set-up and removal are tried again when a host interface vanished under them)

    # Storage volumes (custom)

    def events(self, types: Iterable[str] = ("lifecycle", "operation"), *, project: str | None = None) -> EventStream:
        """A stream of Incus events (dicts), all projects unless one is named. Use as
        `async with client.events() as stream: async for event in stream: ...` (entering connects)."""
        params = {"type": ",".join(types)}
        if project is None:
            params["all-projects"] = "true"
        else:
            params["project"] = project
        return EventStream(self._t, params)
