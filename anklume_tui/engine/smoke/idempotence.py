"""`smoke --idempotent` (issue 22): apply (and provision), then both again; whatever the second run changed
(an apply action, a ruleset reloaded with changes, an Ansible task reporting `changed`) is named."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ...psot.context import HostContext
from ...psot.model import Infra
from ..provision import ProvisionEvent
from ..reconcile import PipelineEvent, PipelineResult, apply_pipeline

if TYPE_CHECKING:
    from collections.abc import Callable

    from ..incus import IncusClient


@dataclass
class Idempotence:
    first_ok: bool
    first_error: str = ""
    changes: list[str] = field(default_factory=list)  # what the second run changed, one line each

    @property
    def ok(self) -> bool:
        return self.first_ok and not self.changes


def _failure(result: PipelineResult) -> str:
    bad = [o for o in result.applied.outcomes if o.status != "done"]
    if bad:
        return f"apply: {bad[0].action.op} {bad[0].action.project}/{bad[0].action.name}: {bad[0].error}"
    if result.applied.isolation is not None and result.applied.isolation.error:
        return f"nftables: {result.applied.isolation.error}"
    if result.provisioned is not None and not result.provisioned.ok:
        return f"provision: {result.provisioned.error or result.provisioned.summary()}"
    return f"not Running at the end: {', '.join(result.not_running or [])}"


async def check_idempotence(
    client: IncusClient,
    infra: Infra,
    tree: Path,
    *,
    host: HostContext | None = None,
    limit: str | None = None,
    provision: bool = True,
    on_event: Callable[[PipelineEvent], None] | None = None,
) -> Idempotence:
    """Run the apply pipeline twice; the second run must change nothing."""
    first = await apply_pipeline(
        client, infra, tree=tree, host=host, limit=limit, provision=provision, on_event=on_event
    )
    if not first.ok:
        return Idempotence(first_ok=False, first_error=_failure(first))
    changed: list[str] = []

    def seen(event: PipelineEvent) -> None:
        if isinstance(event, ProvisionEvent) and event.kind == "changed":
            changed.append(f"provision: {event.host}: {event.task} reported changed")
        if on_event is not None:
            on_event(event)

    second = await apply_pipeline(client, infra, tree=tree, host=host, limit=limit, provision=provision, on_event=seen)
    changes = [
        f"apply: {o.action.op} {o.action.kind} {o.action.project}/{o.action.name}"
        + (f" ({o.action.detail})" if o.action.detail else "")
        for o in second.applied.outcomes
    ]
    if second.applied.isolation is not None and second.applied.isolation.changed:
        changes.append("nftables: the isolation ruleset changed when loaded again")
    changes += changed
    if not second.ok:
        changes.append(f"the second run failed: {_failure(second)}")
    return Idempotence(first_ok=True, changes=changes)
