"""Rules on `global.incus` (SPEC §3.3): IN1 its shape, IN2 a remote's name the incus CLI does not know."""

from __future__ import annotations

from typing import Any

from ..context import HostContext
from ..incus_target import incus_problems, incus_target
from .common import Collector, mapping

WHERE = ("global", "incus")


def check_incus(settings: dict[str, Any], out: Collector) -> None:
    if "incus" in settings:
        for message, below in incus_problems(settings["incus"]):
            out.error("IN1", message, WHERE + below)


def check_incus_remote(data: dict[str, Any], ctx: HostContext, out: Collector) -> None:
    """IN2, once the engine has read the incus CLI's remotes (HostContext.incus_remotes; None: not read)."""
    settings = mapping(data.get("global"))
    target = incus_target(settings.get("incus"))
    if ctx.incus_remotes is None or target is None or target.remote is None:
        return
    if target.remote not in ctx.incus_remotes:
        found = ", ".join(sorted(ctx.incus_remotes)) or "none"
        out.error(
            "IN2",
            f"global.incus.remote: the incus CLI has no remote {target.remote!r} (remotes: {found}); add it with "
            f"`incus remote add {target.remote} https://HOST:8443` or name one of those",
            WHERE + ("remote",),
        )
