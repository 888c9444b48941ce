"""Images: list (one project or all), aliases, copies between projects, downloads from a server, snapshots published
as images, deletion (mixed into `IncusClient`; every request goes through its transport)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from anklume_tui.engine.incus.models import (
    Image,
    ImageAlias,
)
from anklume_tui.engine.incus.transport import IncusTransport, q


class ImageCalls:
    _t: IncusTransport

    async def list_images(self, *, project: str = "default") -> list[Image]:
        found = await self._t.call("GET", "/1.0/images", project=project, params={"recursion": 1})
        return [Image.model_validate({"project": project, **i}) for i in found]

    async def list_images_all_projects(self) -> list[Image]:
        """Every image of every project in one request (each carries its `project`)."""
        found = await self._t.call("GET", "/1.0/images", params={"recursion": 1, "all-projects": "true"})
        return [Image.model_validate(i) for i in found]

    async def get_image_alias(self, alias: str, *, project: str = "default") -> ImageAlias:
        """The alias and the fingerprint it points to; IncusNotFound when the project has no such alias."""
        found = await self._t.call("GET", f"/1.0/images/aliases/{q(alias)}", project=project)
        return ImageAlias.model_validate(found)

    async def copy_image_from_project(
        self, fingerprint: str, source_project: str, *, project: str, aliases: Sequence[str] = ()
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
        *,
        project: str = "default",
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

    async def publish_snapshot(
        self,
        instance: str,
        snapshot: str,
        *,
        project: str = "default",
        aliases: Sequence[str] = (),
        properties: Mapping[str, str] | None = None,
        timeout: float | None = 600,
    ) -> str:
        """`incus publish INSTANCE/SNAPSHOT --alias A` into the project's image store; the fingerprint."""
        body = {
            "source": {"type": "snapshot", "name": f"{instance}/{snapshot}"},
            "aliases": [{"name": a} for a in aliases],
            "properties": dict(properties or {}),
        }
        op = await self._t.call("POST", "/1.0/images", project=project, json=body, timeout=timeout)
        return str(((op or {}).get("metadata") or {}).get("fingerprint", ""))

    async def delete_image(self, fingerprint: str, *, project: str = "default") -> None:
        await self._t.call("DELETE", f"/1.0/images/{q(fingerprint)}", project=project)
