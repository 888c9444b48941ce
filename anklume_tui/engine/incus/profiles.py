"""Profiles: list (one project or all), read, create, change and delete them (mixed into `IncusClient`; every
request goes through its transport)."""

from __future__ import annotations

from collections.abc import Mapping

from anklume_tui.engine.incus.instances import Devices, some
from anklume_tui.engine.incus.models import (
    Profile,
)
from anklume_tui.engine.incus.transport import IncusTransport, q


class ProfileCalls:
    _t: IncusTransport

    async def list_profiles(self, *, project: str = "default") -> list[Profile]:
        found = await self._t.call("GET", "/1.0/profiles", project=project, params={"recursion": 1})
        return [Profile.model_validate(p) for p in found]

    async def list_profiles_all_projects(self) -> list[Profile]:
        """Every profile of every project in one request (each carries its `project`)."""
        found = await self._t.call("GET", "/1.0/profiles", params={"recursion": 1, "all-projects": "true"})
        return [Profile.model_validate(p) for p in found]

    async def get_profile(self, name: str, *, project: str = "default") -> Profile:
        return Profile.model_validate(await self._t.call("GET", f"/1.0/profiles/{q(name)}", project=project))

    async def create_profile(
        self,
        name: str,
        *,
        project: str = "default",
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
        self, name: str, *, project: str = "default", config: Mapping[str, str], devices: Devices, description: str = ""
    ) -> None:
        body = {"config": dict(config), "devices": {k: dict(v) for k, v in devices.items()}, "description": description}
        await self._t.call("PUT", f"/1.0/profiles/{q(name)}", project=project, json=body)

    async def patch_profile(
        self,
        name: str,
        *,
        project: str = "default",
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

    async def delete_profile(self, name: str, *, project: str = "default") -> None:
        await self._t.call("DELETE", f"/1.0/profiles/{q(name)}", project=project)
