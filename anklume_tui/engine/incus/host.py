"""The server itself: its info, hardware resources and metrics (mixed into `IncusClient`; every request goes through
its transport)."""

from __future__ import annotations

from typing import Any

from anklume_tui.engine.incus.models import (
    ServerInfo,
)
from anklume_tui.engine.incus.transport import IncusTransport


class HostCalls:
    _t: IncusTransport

    async def server_info(self) -> ServerInfo:
        return ServerInfo.model_validate(await self._t.call("GET", "/1.0"))

    async def resources(self) -> dict[str, Any]:
        """`GET /1.0/resources`: CPU, memory, GPUs (`gpu.cards`), disks... as Incus describes them."""
        return dict(await self._t.call("GET", "/1.0/resources"))

    async def metrics_text(self) -> str:
        """`GET /1.0/metrics` with no project: every project's running instances in one Prometheus text
        document. Over the unix socket no certificate is needed (HTTPS wants a trusted or `metrics` one); Incus
        caches each project's figures for 8 s, so a reading can repeat the previous one."""
        return (await self._t.send("GET", "/1.0/metrics")).text
