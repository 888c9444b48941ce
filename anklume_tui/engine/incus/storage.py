"""Storage: pools, and the custom volumes of a pool (mixed into `IncusClient`; every request goes through its
transport)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from anklume_tui.engine.incus.instances import some
from anklume_tui.engine.incus.models import (
    StorageVolume,
)
from anklume_tui.engine.incus.transport import IncusTransport, q


class StorageCalls:
    _t: IncusTransport

    async def storage_pool_names(self) -> list[str]:
        found = await self._t.call("GET", "/1.0/storage-pools", params={"recursion": 1})
        return [pool["name"] for pool in found or ()]  # no pool at all: Incus says null, not []

    async def storage_pool(self, name: str) -> dict[str, Any]:
        """One storage pool as Incus describes it (`IncusNotFound` when absent)."""
        return dict(await self._t.call("GET", f"/1.0/storage-pools/{q(name)}"))

    async def create_storage_pool(
        self, name: str, driver: str, *, config: Mapping[str, str] | None = None, description: str = ""
    ) -> None:
        body = {"name": name, "driver": driver, "config": dict(config or {}), "description": description}
        await self._t.call("POST", "/1.0/storage-pools", json=body)

    async def list_storage_volumes(self, pool: str = "default", *, project: str = "default") -> list[StorageVolume]:
        found = await self._t.call(
            "GET", f"/1.0/storage-pools/{q(pool)}/volumes/custom", project=project, params={"recursion": 1}
        )
        return [StorageVolume.model_validate({"project": project, **v}) for v in found]

    async def create_storage_volume(
        self,
        pool: str,
        name: str,
        *,
        project: str = "default",
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
        *,
        project: str = "default",
        config: Mapping[str, str] | None = None,
        description: str | None = None,
    ) -> None:
        body = some(config=dict(config) if config is not None else None, description=description)
        await self._t.call(
            "PATCH", f"/1.0/storage-pools/{q(pool)}/volumes/custom/{q(name)}", project=project, json=body
        )

    async def delete_storage_volume(self, pool: str, name: str, *, project: str = "default") -> None:
        await self._t.call("DELETE", f"/1.0/storage-pools/{q(pool)}/volumes/custom/{q(name)}", project=project)
