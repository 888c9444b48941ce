"""Image calls for golden images: publishing an instance snapshot as a local image (mixed into
`incus.IncusClient`; every request goes through its transport)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from anklume_tui.engine.incus.transport import IncusTransport


class ImageCalls:
    _t: IncusTransport

    async def publish_snapshot(
        self,
        instance: str,
        snapshot: str,
        project: str = "default",
        *,
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
