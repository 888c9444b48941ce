"""Plan, apply and the AI-access switch for callers that hold no client (the TUI): each opens its own
connection."""

from __future__ import annotations

from collections.abc import Callable

from ...psot.context import HostContext
from ...psot.model import Infra
from ..incus.client import IncusClient
from ..isolation.ai_access import SwitchResult, SwitchStep, ai_switch
from .apply import ApplyResult, EventSink, apply
from .plan import make_plan
from .plan_models import Plan
from .running_check import not_running


async def plan_infra(url: str | None, infra: Infra, host: HostContext, *, limit: str | None = None) -> Plan:
    async with IncusClient(url) as client:
        return await make_plan(client, infra, limit=limit, host=host)


async def apply_infra(
    url: str | None, infra: Infra, host: HostContext, on_event: EventSink, *, limit: str | None = None
) -> ApplyResult:
    async with IncusClient(url) as client:
        return await apply(client, infra, limit=limit, host=host, on_event=on_event)


async def machines_not_running(url: str | None, infra: Infra, *, limit: str | None = None) -> list[str]:
    async with IncusClient(url) as client:
        return await not_running(client, infra, limit)


async def switch_ai_access(
    url: str | None, infra: Infra, target: str, on_step: Callable[[SwitchStep], None]
) -> SwitchResult:
    async with IncusClient(url) as client:
        return await ai_switch(client, infra, target, on_step=on_step)
