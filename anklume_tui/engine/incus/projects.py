"""Projects: list, read, create, change and delete them (mixed into `IncusClient`; every request goes through its
transport)."""

from __future__ import annotations

from collections.abc import Mapping

from anklume_tui.engine.incus.instances import some
from anklume_tui.engine.incus.models import (
    Project,
)
from anklume_tui.engine.incus.transport import IncusTransport, q


class ProjectCalls:
    _t: IncusTransport

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
