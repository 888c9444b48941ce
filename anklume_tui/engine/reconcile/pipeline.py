"""The apply pipeline (SPEC §8.2), one function for the `apply` verb and the TUI's plan screen alike: apply,
then provisioning (unless asked not to, and only after every action was done), then the check that every
machine of the applied domains runs. Each face records the whole pipeline as one `apply` line in the usage log
(the verb as every verb is, the TUI around this call), with the pipeline's own verdict.

Progress comes as typed events: `ApplyEvent` for reconcile, `ProvisionEvent` for Ansible, `PhaseEvent` when a
phase starts. Provisioning blocks for tens of seconds, so it runs in a thread; the caller's loop stays free.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from ...psot.context import HostContext
from ...psot.model import Infra
from ..provision.events import ProvisionEvent
from ..provision.runner import ProvisionResult, provision_after_apply
from .apply import ApplyEvent, ApplyResult, apply
from .partial import runs
from .running_check import not_running

if TYPE_CHECKING:
    from ..incus.client import IncusClient
    from .apply_start import ApplyStart

Phase = Literal["apply", "provision", "running-check"]


@dataclass(frozen=True)
class PhaseEvent:
    """A phase of the pipeline starts."""

    phase: Phase

    def line(self) -> str:
        return {
            "apply": "apply: reconciling Incus",
            "provision": "provision: running Ansible (it runs to its end)",
            "running-check": "checking that every machine runs",
        }[self.phase]


PipelineEvent = ApplyEvent | ProvisionEvent | PhaseEvent
PipelineSink = Callable[[PipelineEvent], None]


@dataclass
class PipelineResult:
    applied: ApplyResult
    provisioned: ProvisionResult | None = None  # None: not run (--no-provision, or apply failed)
    not_running: list[str] | None = None  # None: not checked (apply failed)

    @property
    def ok(self) -> bool:
        provisioned = self.provisioned is None or self.provisioned.ok
        return self.applied.ok and provisioned and not self.not_running


async def apply_pipeline(
    client: IncusClient,
    infra: Infra,
    *,
    tree: Path,
    host: HostContext | None = None,
    limit: str | None = None,
    prune: bool = False,
    renumber: bool = False,
    provision: bool = True,
    steps: frozenset[str] | None = None,
    on_event: PipelineSink | None = None,
    infra_file: Path | None = None,
    start: ApplyStart | None = None,
) -> PipelineResult:
    """Apply, then provision, then check that every machine runs. Raises what `apply` raises (ApplyLocked,
    UnknownDomain, IncusError); whatever keeps provisioning from running is in `provisioned.error`. `steps`
    (partial.STEPS; None: every one): provisioning runs only with `provision`, the running check only with
    `instances`. `infra_file`: what the exported applications' menu entries launch with. `start`: the lock the
    caller took and what it read under it (apply_start.py)."""

    def say(event: PipelineEvent) -> None:
        if on_event is not None:
            on_event(event)

    say(PhaseEvent("apply"))
    applied = await apply(
        client,
        infra,
        limit=limit,
        prune=prune,
        renumber=renumber,
        host=host,
        steps=steps,
        on_event=say,
        infra_file=infra_file,
        start=start,
    )
    result = PipelineResult(applied)
    if not applied.ok:
        return result
    if provision and runs(steps, "provision"):  # SPEC §8.2: after reconciling, for the same domain(s)
        say(PhaseEvent("provision"))
        result.provisioned = await asyncio.to_thread(provision_after_apply, infra, tree, limit, client.url, say)
    if runs(steps, "instances"):
        say(PhaseEvent("running-check"))
        ended = applied.instances if result.provisioned is None else None  # nothing ran since apply read them
        result.not_running = await not_running(client, infra, limit, ended)
    return result
