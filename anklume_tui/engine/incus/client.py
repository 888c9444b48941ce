"""The only module that talks to Incus (with its parts `incus_transport`, `incus_instances`,
`incus_events`, `incus_models`).

Async, over httpx: a unix socket (`unix:///var/lib/incus/unix.socket`) or HTTPS with a client certificate
(`https://host:8443`). Reads come back as pydantic models; writes take plain dicts of Incus config.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Mapping
from pathlib import Path

from anklume_tui.engine.incus.backups import BackupCalls
from anklume_tui.engine.incus.events import EventStream
from anklume_tui.engine.incus.files import FileCalls
from anklume_tui.engine.incus.host import HostCalls
from anklume_tui.engine.incus.images import ImageCalls
from anklume_tui.engine.incus.instances import Devices, InstanceCalls, some
from anklume_tui.engine.incus.listings import ReconcileCalls
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
from anklume_tui.engine.incus.transport import (
    Endpoint,
    IncusError,
    IncusNotFound,
    IncusTimeout,
    IncusTransport,
    IncusUnreachable,
    IncusUrlError,
    q,
    resolve_endpoint,
    tried_again,
)

# Setting a bridge up or down, Incus 6.0 lists the host's interfaces then asks `ip` about each to find the
# bridge's ports: an interface gone in between (a container starting moves its veth peer away) fails the
# request with "Failed to delete bridge children interfaces: ... Device "vethX" does not exist", and Incus
# undoes it. Such a request is tried again after these seconds.
BRIDGE_RETRY_DELAYS = (0.2, 0.5, 1.0, 2.0)


def lost_bridge_port(exc: IncusError) -> bool:
    """Incus's answer when an interface vanished while it looked for a bridge's ports (see above)."""
    return "bridge children interfaces" in exc.message and "does not exist" in exc.message


__all__ = [
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
    "Network",
    "Profile",
    "Project",
    "ServerInfo",
    "Snapshot",
    "StorageVolume",
    "resolve_endpoint",
]


class IncusClient(InstanceCalls, ReconcileCalls, HostCalls, ImageCalls, BackupCalls, FileCalls):
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

    async def server_info(self) -> ServerInfo:
        return ServerInfo.model_validate(await self._t.call("GET", "/1.0"))

    # Projects

    async def list_projects(self) -> list[Project]:
        return [Project.model_validate(p) for p in await self._t.call("GET", "/1.0/projects", params={"recursion": 1})]

    async def get_project(self, name: str) -> Project:
        return Project.model_validate(await self._t.call("GET", f"/1.0/projects/{q(name)}"))

    async def create_project(
        self, name: str, *, config: Mapping[str, str] | None = None, description: str = ""
    ) -> None:
        body = {"name": name, "config": dict(config or {}), "description": description}
        await self._t.call("POST", "/1.0/projects", json=body)

    async def update_project(self, name: str, *, config: Mapping[str, str], description: str = "") -> None:
        await self._t.call("PUT", f"/1.0/projects/{q(name)}", json={"config": dict(config), "description": description})

    async def patch_project(
        self, name: str, *, config: Mapping[str, str] | None = None, description: str | None = None
    ) -> None:
        """Set these config keys, keeping the others (Incus's PATCH would replace a project's whole
        config, so this reads it and PUTs the merge)."""
        if config is None:
            await self._t.call("PATCH", f"/1.0/projects/{q(name)}", json=some(description=description))
            return
        current = await self.get_project(name)
        await self.update_project(
            name,
            config={**current.config, **config},
            description=current.description if description is None else description,
        )

    async def delete_project(self, name: str) -> None:
        await self._t.call("DELETE", f"/1.0/projects/{q(name)}")

    # Networks (a bridge's set-up and removal are tried again when a host interface vanished under them)

    async def list_networks(self, project: str = "default") -> list[Network]:
        found = await self._t.call("GET", "/1.0/networks", project=project, params={"recursion": 1})
        return [Network.model_validate(n) for n in found]

    async def get_network(self, name: str, project: str = "default") -> Network:
        return Network.model_validate(await self._t.call("GET", f"/1.0/networks/{q(name)}", project=project))

    async def create_network(
        self,
        name: str,
        *,
        type: str = "bridge",
        config: Mapping[str, str] | None = None,
        description: str = "",
        project: str = "default",
    ) -> None:
        body = {"name": name, "type": type, "config": dict(config or {}), "description": description}
        await self._bridge_call(lambda: self._t.call("POST", "/1.0/networks", project=project, json=body))

    async def update_network(
        self, name: str, *, config: Mapping[str, str], description: str = "", project: str = "default"
    ) -> None:
        body = {"config": dict(config), "description": description}
        await self._bridge_call(lambda: self._t.call("PUT", f"/1.0/networks/{q(name)}", project=project, json=body))

    async def patch_network(
        self,
        name: str,
        *,
        config: Mapping[str, str] | None = None,
        description: str | None = None,
        project: str = "default",
    ) -> None:
        body = some(config=dict(config) if config is not None else None, description=description)
        await self._bridge_call(lambda: self._t.call("PATCH", f"/1.0/networks/{q(name)}", project=project, json=body))

    async def delete_network(self, name: str, project: str = "default") -> None:
        await self._bridge_call(lambda: self._t.call("DELETE", f"/1.0/networks/{q(name)}", project=project))

    async def _bridge_call(self, attempt: Callable[[], Awaitable[object]]) -> None:
        await tried_again(attempt, when=lost_bridge_port, delays=BRIDGE_RETRY_DELAYS)

    # Profiles

    async def list_profiles(self, project: str = "default") -> list[Profile]:
        found = await self._t.call("GET", "/1.0/profiles", project=project, params={"recursion": 1})
        return [Profile.model_validate(p) for p in found]

    async def get_profile(self, name: str, project: str = "default") -> Profile:
        return Profile.model_validate(await self._t.call("GET", f"/1.0/profiles/{q(name)}", project=project))

    async def create_profile(
        self,
        name: str,
        project: str = "default",
        *,
        config: Mapping[str, str] | None = None,
        devices: Devices | None = None,
        description: str = "",
    ) -> None:
        body = {
            "name": name,
            "config": dict(config or {}),
            "description": description,
            "devices": {k: dict(v) for k, v in (devices or {}).items()},
        }
        await self._t.call("POST", "/1.0/profiles", project=project, json=body)

    async def update_profile(
        self, name: str, project: str = "default", *, config: Mapping[str, str], devices: Devices, description: str = ""
    ) -> None:
        body = {"config": dict(config), "devices": {k: dict(v) for k, v in devices.items()}, "description": description}
        await self._t.call("PUT", f"/1.0/profiles/{q(name)}", project=project, json=body)

    async def patch_profile(
        self,
        name: str,
        project: str = "default",
        *,
        config: Mapping[str, str] | None = None,
        devices: Devices | None = None,
        description: str | None = None,
    ) -> None:
        body = some(
            config=dict(config) if config is not None else None,
            description=description,
            devices={k: dict(v) for k, v in devices.items()} if devices is not None else None,
        )
        await self._t.call("PATCH", f"/1.0/profiles/{q(name)}", project=project, json=body)

    async def delete_profile(self, name: str, project: str = "default") -> None:
        await self._t.call("DELETE", f"/1.0/profiles/{q(name)}", project=project)

    # Storage volumes (custom)

    async def list_storage_volumes(self, pool: str = "default", project: str = "default") -> list[StorageVolume]:
        found = await self._t.call(
            "GET", f"/1.0/storage-pools/{q(pool)}/volumes/custom", project=project, params={"recursion": 1}
        )
        return [StorageVolume.model_validate({"project": project, **v}) for v in found]

    async def create_storage_volume(
        self,
        pool: str,
        name: str,
        project: str = "default",
        *,
        config: Mapping[str, str] | None = None,
        description: str = "",
        content_type: str = "filesystem",
    ) -> None:
        body = {
            "name": name,
            "type": "custom",
            "config": dict(config or {}),
            "description": description,
            "content_type": content_type,
        }
        await self._t.call("POST", f"/1.0/storage-pools/{q(pool)}/volumes/custom", project=project, json=body)

    async def patch_storage_volume(
        self,
        pool: str,
        name: str,
        project: str = "default",
        *,
        config: Mapping[str, str] | None = None,
        description: str | None = None,
    ) -> None:
        body = some(config=dict(config) if config is not None else None, description=description)
        await self._t.call(
            "PATCH", f"/1.0/storage-pools/{q(pool)}/volumes/custom/{q(name)}", project=project, json=body
        )

    async def delete_storage_volume(self, pool: str, name: str, project: str = "default") -> None:
        await self._t.call("DELETE", f"/1.0/storage-pools/{q(pool)}/volumes/custom/{q(name)}", project=project)

    # Images

    async def list_images(self, project: str = "default") -> list[Image]:
        found = await self._t.call("GET", "/1.0/images", project=project, params={"recursion": 1})
        return [Image.model_validate({"project": project, **i}) for i in found]

    async def delete_image(self, fingerprint: str, project: str = "default") -> None:
        await self._t.call("DELETE", f"/1.0/images/{q(fingerprint)}", project=project)

    async def get_image_alias(self, alias: str, project: str = "default") -> ImageAlias:
        """The alias and the fingerprint it points to; IncusNotFound when the project has no such alias."""
        found = await self._t.call("GET", f"/1.0/images/aliases/{q(alias)}", project=project)
        return ImageAlias.model_validate(found)

    # Events

    def events(self, types: Iterable[str] = ("lifecycle", "operation"), *, project: str | None = None) -> EventStream:
        """A stream of Incus events (dicts), all projects unless one is named. Use as
        `async with client.events() as stream: async for event in stream: ...` (entering connects)."""
        params = {"type": ",".join(types)}
        if project is None:
            params["all-projects"] = "true"
        else:
            params["project"] = project
        return EventStream(self._t, params)
