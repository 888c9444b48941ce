"""Calls apply needs beyond the basic client: listings across projects, images between projects and from a
server (mixed into `incus.IncusClient`; every request goes through its transport)."""

from __future__ import annotations

from collections.abc import Sequence

from anklume_tui.engine.incus.models import Image, Profile
from anklume_tui.engine.incus.transport import IncusTransport


class ReconcileCalls:
    _t: IncusTransport

    async def list_profiles_all_projects(self) -> list[Profile]:
        """Every profile of every project in one request (each carries its `project`)."""
        found = await self._t.call("GET", "/1.0/profiles", params={"recursion": 1, "all-projects": "true"})
        return [Profile.model_validate(p) for p in found]

    async def list_images_all_projects(self) -> list[Image]:
        """Every image of every project in one request (each carries its `project`)."""
        found = await self._t.call("GET", "/1.0/images", params={"recursion": 1, "all-projects": "true"})
        return [Image.model_validate(i) for i in found]

    async def copy_image_from_project(
        self, fingerprint: str, source_project: str, project: str, *, aliases: Sequence[str] = ()
    ) -> None:
        """Copy a local image into another project's image store of the same daemon (API extension
        `image_source_project`; `incus image copy` cannot do this without a network listener)."""
        body = {
            "source": {
                "type": "image",
                "mode": "pull",
                "protocol": "incus",
                "fingerprint": fingerprint,
                "project": source_project,
            },
            "aliases": [{"name": a} for a in aliases],
        }
        await self._t.call("POST", "/1.0/images", project=project, json=body)

    async def download_image(
        self,
        server: str,
        alias: str,
        project: str = "default",
        *,
        protocol: str = "simplestreams",
        auto_update: bool = True,
        timeout: float | None = None,
    ) -> None:
        """Fetch an image from an image server into the project's cache (as `incus image copy` would)."""
        body = {
            "source": {"type": "image", "mode": "pull", "server": server, "protocol": protocol, "alias": alias},
            "auto_update": auto_update,
        }
        await self._t.call("POST", "/1.0/images", project=project, json=body, timeout=timeout)
