"""apply (SPEC §8.2): lock, plan, the bridges' configuration backed up, pre-apply snapshots, reconcile in §8.3
order with independent actions in parallel, journal and progress events, snapshot retention. Provisioning and
the check that every machine runs follow, outside (verbs/apply.py, the TUI's plan screen).

Each domain runs its own pipeline, all domains at once: its project (its bridge alongside, as a bridge
needs no project), then its images, then its profiles (whose nic names the bridge), then its instances,
each as a chain (its volumes, then itself: create or correct, start, context files) with chains in
parallel (the firewall VM's profile, with a nic on every bridge, waits for all of them). No instance chain
starts before the isolation ruleset was loaded (SPEC §9.1): for the bridges Incus holds and those the apply is
making, at once, alongside them (its drops name bridges, so it holds from the moment each one exists); it is
loaded again at the end, also when apply fails or is interrupted. The prune deletions run last; then the
context files written are recorded on their projects, one write per project (context_record.py). At
most `parallel` actions run at once. A failed action fails its own chain and skips what depends on it
(later steps of its domain, instances needing a missing image); the others go on. Incus going away stops
everything: `ApplyInterrupted` names the object.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from ...psot.context import HostContext
from ...psot.model import Infra
from ..apps import EntriesResult, EntryRefused, launcher_argv, sync_entries
from ..host import paths as state
from ..host.apply_lock import ApplyLock, Journal
from ..incus.errors import IncusError, IncusUnreachable
from ..incus.models import Instance, Network
from ..isolation.enforce import IsolationResult, apply_isolation, declared_bridges, enforce_isolation, summary
from . import pre_apply, pre_apply_pending
from .addresses import address_targets, readdress, release, settle
from .allocation import record_applied
from .context_record import record_contexts
from .network_backup import save_networks
from .partial import only_steps, runs
from .plan import make_plan
from .plan_models import Action, Orphan, Plan
from .steps import StepFailed, run_action

if TYPE_CHECKING:  # a no-op apply never imports the client (apply_start.py)
    from ..incus.client import IncusClient
    from .apply_start import ApplyStart

Phase = Literal["started", "done", "failed", "skipped", "note"]
Status = Literal["done", "failed", "skipped"]
STRUCTURE = ("project", "network", "profile", "image")


@dataclass(frozen=True)
class ApplyEvent:
    """Progress of one action (or a note about the whole apply, `action` None), for the TUI and stderr."""

    phase: Phase
    action: Action | None = None
    message: str = ""

    def line(self) -> str:
        if self.action is None:
            return self.message
        text = f"{self.phase:7} {self.action.op} {self.action.target}"
        return f"{text}: {self.message}" if self.message else text


@dataclass
class Outcome:
    action: Action
    status: Status
    error: str = ""


@dataclass
class ApplyResult:
    plan: Plan
    outcomes: list[Outcome] = field(default_factory=list)
    snapshot: str | None = None  # the pre-apply snapshot name, when one was taken
    snapshotted: list[str] = field(default_factory=list)  # project/instance
    retention_deleted: list[str] = field(default_factory=list)
    isolation: IsolationResult | None = None  # step 7: the host ruleset, loaded again at the end
    isolation_before_instances: IsolationResult | None = None  # loaded before any instance starts (SPEC §9.1)
    network_backup: Path | None = None  # §8.2: the bridges' configuration as it was before this apply
    instances: list[Instance] | None = None  # every instance as Incus held them once apply ended
    menu_entries: EntriesResult | None = None  # the exported applications' desktop entries (issue 21)

    @property
    def ok(self) -> bool:
        isolated = self.isolation is None or self.isolation.error is None
        return isolated and all(o.status == "done" for o in self.outcomes)

    @property
    def refused(self) -> list[Orphan]:
        return self.plan.refused

    def of(self, status: Status) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == status]


class ApplyInterrupted(IncusUnreachable):
    """Incus became unreachable mid-apply; the message names the action and object it was on."""

    def __init__(self, action: Action | None, cause: IncusUnreachable) -> None:
        where = f"while {action.op} {action.target}" if action else "while taking pre-apply snapshots"
        super().__init__(f"{where}: {cause.message}", status=cause.status, method=cause.method, path=cause.path)
        self.action = action


EventSink = Callable[[ApplyEvent], None]


def _of(actions: list[Action], kind: str) -> list[Action]:
    return [a for a in actions if a.kind == kind]


class _Run:
    def __init__(self, client: IncusClient, journal: Journal, on_event: EventSink | None, parallel: int) -> None:
        self.client = client
        self.journal = journal
        self.on_event = on_event
        self.gate = asyncio.Semaphore(max(1, parallel))
        self.outcomes: list[Outcome] = []
        self.failed_domains: set[str] = set()
        self.failed_images: set[tuple[str, str]] = set()
        self.blocked: set[tuple[str, str]] = set()  # (project, instance) whose snapshot failed
        self.renumber = False  # `apply --renumber`: carry out the W9 moves (SPEC §5.1)
        self.change = ""  # what pre_apply_pending knows this change by
        self.before_instances: Callable[[], Awaitable[None]] | None = None  # the isolation load (SPEC §9.1)
        self.contexts: dict[tuple[str, str], str] = {}  # (project, instance) -> stamp of the files written

    def emit(self, phase: Phase, action: Action | None, message: str = "") -> None:
        if action is not None:
            self.journal.write(phase, **action.public(), error=message if phase == "failed" else "")
        if self.on_event is not None:
            self.on_event(ApplyEvent(phase, action, message))

    def _skip_reason(self, action: Action) -> str | None:
        if action.op == "delete":
            return None
        if action.domain in self.failed_domains and action.kind in STRUCTURE + ("volume", "instance"):
            return f"an earlier step of domain {action.domain} failed"
        image = action.changes.get("image") if action.kind == "instance" else None
        if image and (action.project, image) in self.failed_images:
            return f"image {image!r} is not available in project {action.project}"
        if action.kind in ("instance", "volume") and (action.project, action.instance) in self.blocked:
            return "its pre-apply snapshot failed"
        if action.op == "renumber" and not self.renumber:
            return "it moves an applied subnet or address (W9): apply --renumber moves it"
        return None

    async def one(self, action: Action) -> bool:
        reason = self._skip_reason(action)
        if reason:
            self.outcomes.append(Outcome(action, "skipped", reason))
            self.emit("skipped", action, reason)
            return False
        async with self.gate:
            self.emit("started", action)
            try:
                await run_action(self.client, action)
            except IncusUnreachable as exc:
                self.emit("failed", action, str(exc))
                raise ApplyInterrupted(action, exc) from None
            except StepFailed as exc:
                self.outcomes.append(Outcome(action, "failed", str(exc)))
                self.emit("failed", action, str(exc))
                if action.kind in ("project", "network", "profile") and action.domain:
                    self.failed_domains.add(action.domain)
                if action.kind == "image":
                    self.failed_images.add((action.project, action.name))
                return False
        self.outcomes.append(Outcome(action, "done"))
        if action.kind == "instance" and (context := action.changes.get("context")):
            self.contexts[(action.project, action.name)] = context["stamp"]
        self.emit("done", action)
        return True

    async def chain(self, actions: list[Action]) -> None:
        for index, action in enumerate(actions):
            if not await self.one(action):
                for rest in actions[index + 1 :]:
                    reason = f"an earlier step of {rest.instance or rest.name} did not succeed"
                    self.outcomes.append(Outcome(rest, "skipped", reason))
                    self.emit("skipped", rest, reason)
                return

    async def all(self, actions: list[Action]) -> None:
        await asyncio.gather(*(self.one(a) for a in actions))

    async def domain(
        self,
        structure: list[Action],
        chains: list[list[Action]],
        bridge: asyncio.Task[None],
        bridges: set[asyncio.Task],
        isolated: asyncio.Task[None],
    ) -> None:
        await self.all(_of(structure, "project"))
        await self.all(_of(structure, "image"))
        await bridge
        profiles = _of(structure, "profile")
        if any(a.changes.get("every_bridge") for a in profiles):
            await asyncio.wait(bridges)  # the firewall VM's profile has a nic on each of them
        await self.all(profiles)
        await isolated
        moving = [a for c in chains for a in c if self._skip_reason(a) is None]
        await readdress(self.client, moving)
        await asyncio.gather(*(self.chain(c) for c in chains))
        try:
            for stray in await settle(self.client, address_targets(moving)):
                self.emit("note", None, f"{stray} did not get its new address from DHCP")
        except IncusError as exc:
            self.emit("note", None, f"the new addresses could not be checked: {exc}")

    async def isolate(self) -> None:
        """Before any instance chain starts; loaded as the bridges are being made, for them too (SPEC §9.1)."""
        if self.before_instances is not None:
            await self.before_instances()

    async def release(self, actions: list[Action]) -> None:
        """The instances of each bridge that moves let go of their addresses first; where that fails, the
        domain fails as a whole (its bridge does not move), never half in each subnet."""
        for bridge in [a for a in actions if a.kind == "network" and a.op == "renumber"]:
            if self._skip_reason(bridge) is not None:
                continue
            try:
                await release(self.client, [bridge], actions)
            except IncusUnreachable as exc:
                raise ApplyInterrupted(bridge, exc) from None
            except IncusError as exc:
                self.emit("note", None, f"the machines of {bridge.target} could not let go of their addresses: {exc}")
                self.failed_domains.add(bridge.domain or "")

    async def reconcile(self, plan: Plan) -> None:
        structure: dict[str | None, list[Action]] = {}
        chains: dict[str | None, dict[tuple[str, str], list[Action]]] = {}
        for a in plan.actions:
            if a.kind in STRUCTURE:
                structure.setdefault(a.domain, []).append(a)
            elif a.op != "delete":
                chains.setdefault(a.domain, {}).setdefault((a.project, a.instance or a.name), []).append(a)
        domains = sorted(set(structure) | set(chains), key=lambda d: d or "")
        await self.release(plan.actions)
        try:
            async with asyncio.TaskGroup() as group:
                # A bridge needs no project: every domain's starts at once, alongside its project and images.
                bridge = {d: group.create_task(self.all(_of(structure.get(d, []), "network"))) for d in domains}
                isolated = group.create_task(self.isolate())
                for d in domains:
                    chain_list = list(chains.get(d, {}).values())
                    every = set(bridge.values())
                    group.create_task(self.domain(structure.get(d, []), chain_list, bridge[d], every, isolated))
        except* ApplyInterrupted as stopped:
            raise stopped.exceptions[0] from None
        await self.all([a for a in plan.actions if a.op == "delete"])


async def apply(
    client: IncusClient,
    infra: Infra,
    *,
    limit: str | None = None,
    prune: bool = False,
    host: HostContext | None = None,
    on_event: EventSink | None = None,
    parallel: int = 4,
    state_dir: Path | None = None,
    snapshots: bool = True,
    renumber: bool = False,
    steps: frozenset[str] | None = None,
    infra_file: Path | None = None,
    start: ApplyStart | None = None,
) -> ApplyResult:
    """Carry out the plan, loading the host isolation ruleset as the bridges are made (before any instance
    starts) and again at the end (§8.3 step 7) — also when the plan is empty, so a flushed ruleset comes
    back, and when apply fails or is interrupted. Raises ApplyLocked (another apply runs),
    UnknownDomain (bad `limit`), ApplyInterrupted (Incus went away mid-apply); other failures are outcomes
    in the result (a ruleset nft refused: `result.isolation.error`). `steps` (partial.STEPS; None: all) cuts
    the run down to those steps' actions; the ruleset is loaded only with `isolation`, or before instances
    start with `instances` (SPEC §9.1), and `result.isolation` is None when it was not. With `instances`, the
    menu entries of the exported applications are written (their launcher names `infra_file`) and this infra's
    stale ones removed. `start` (apply_start.py): the lock the caller took for this state folder, and what it
    read of Incus under it; an apply that changes nothing then sends no request."""
    state_dir = Path(state_dir) if state_dir is not None else state.state_dir()
    locked = start is not None and start.locked
    listings = start.listings() if start is not None and locked else None
    with start.held_by_apply() if start is not None and locked else ApplyLock(state_dir):
        apply_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
        run = _Run(client, Journal(state_dir, apply_id), on_event, parallel)
        run.renumber, run.change = renumber, pre_apply_pending.change_key(infra, limit)
        planned = await make_plan(client, infra, limit=limit, prune=prune, host=host, listings=listings)
        plan = only_steps(planned, steps)
        result = ApplyResult(plan)
        run.emit("note", None, f"plan: {len(plan.actions)} action(s)")
        held: tuple[list[Network], list[Instance]] | None = None

        async def isolate_before_instances() -> None:
            coming = [a.name for a in plan.actions if a.kind == "network" and a.op != "conflict"]
            when = " (before instances start)"
            result.isolation_before_instances = await _isolate(run, client, infra, when, coming)

        if runs(steps, "isolation") or runs(steps, "instances"):
            run.before_instances = isolate_before_instances
        try:
            if not plan.empty:
                try:
                    result.network_backup = await asyncio.to_thread(save_networks, plan.bridges, state_dir, apply_id)
                except OSError as exc:
                    run.emit("note", None, f"network configuration backup failed ({exc}); going on")
                if result.network_backup is not None:
                    run.emit("note", None, f"network configuration saved to {result.network_backup}")
                await _reconcile(run, result, client, state_dir, limit, snapshots)
            if plan.empty and listings is not None:  # nothing was changed since they were read, under the lock
                held = listings.networks, listings.instances
            else:
                held = await _held(run, client)
            if run.contexts:
                await _record_contexts(run, client, held)
            await _record(run, client, infra, state_dir, held)
            if runs(steps, "instances"):
                result.menu_entries = _menu_entries(run, infra, infra_file, client.url, limit)
        finally:  # failed, interrupted (Incus gone, cancelled) or done: the ruleset is loaded for what exists
            if runs(steps, "isolation"):
                result.isolation = await _isolate(run, client, infra, networks=held[0] if held else None)
            else:
                result.isolation = result.isolation_before_instances
        result.instances = held[1] if held else None
        before = result.isolation_before_instances
        if result.isolation is not None and before is not None and before.changed:
            result.isolation.changed = True  # this apply changed the live table
        return result


async def _isolate(
    run: _Run,
    client: IncusClient,
    infra: Infra,
    when: str = "",
    coming: list[str] | None = None,
    networks: list[Network] | None = None,
) -> IsolationResult:
    """Load the isolation ruleset for the bridges Incus holds (and the `coming` ones apply is making), or for
    the declared ones when Incus cannot say (its wildcard drops cut off any other bridge of ours). Failures
    are in the result, never raised."""
    try:
        try:
            isolation = await apply_isolation(client, infra, coming=coming or (), networks=networks)
        except IncusError as exc:
            isolation = await asyncio.to_thread(enforce_isolation, infra, declared_bridges(infra))
            isolation.warnings.append(f"Incus did not list the bridges ({exc}): ruleset built for the declared ones")
    except OSError as exc:
        isolation = IsolationResult("", [], None, error=f"the ruleset could not be written: {exc}")
    run.emit("note", None, summary(isolation) + when)
    if isolation.boot and not when:
        run.emit("note", None, isolation.boot)
    return isolation


async def _reconcile(
    run: _Run, result: ApplyResult, client: IncusClient, state_dir: Path, limit: str | None, snapshots: bool
) -> None:
    """Pre-apply snapshots, the actions, snapshot retention."""
    plan = result.plan
    taken = pre_apply_pending.already_taken(state_dir, run.change)
    targets = [t for t in pre_apply.changed_instances(plan) if t not in taken] if snapshots else []
    if targets:
        result.snapshot = pre_apply.snapshot_name()
        try:
            failures = await pre_apply.take(client, targets, result.snapshot)
        except IncusUnreachable as exc:
            raise ApplyInterrupted(None, exc) from None
        for (project, instance), error in failures.items():
            run.blocked.add((project, instance))
            run.emit("note", None, f"pre-apply snapshot of {project}/{instance} failed: {error}")
        result.snapshotted = [f"{p}/{i}" for p, i in targets if (p, i) not in failures]
        pre_apply.record(state_dir, result.snapshot, limit or "all")
        pre_apply_pending.remember(state_dir, run.change, [t for t in targets if t not in failures])
        run.emit("note", None, f"pre-apply snapshot {result.snapshot} of {len(result.snapshotted)} instance(s)")
    try:
        await run.reconcile(plan)
    finally:
        result.outcomes = run.outcomes
    if all(o.status == "done" for o in result.outcomes):
        pre_apply_pending.forget(state_dir)
    if snapshots and result.snapshot:
        result.retention_deleted = await pre_apply.apply_retention(client, state_dir)


def _menu_entries(
    run: _Run, infra: Infra, infra_file: Path | None, url: str, limit: str | None
) -> EntriesResult | None:
    """The exported applications' desktop entries on the host; a failure is a note, as the record's is."""
    try:
        entries = sync_entries(infra, launcher_argv(infra_file, url), limit)
    except (OSError, EntryRefused) as exc:  # EntryRefused: a control character in the infra file's own path
        run.emit("note", None, f"the exported applications' menu entries could not be written ({exc}); going on")
        return None
    if entries.written or entries.removed or entries.skipped:
        run.emit("note", None, entries.summary())
    return entries


async def _held(run: _Run, client: IncusClient) -> tuple[list[Network], list[Instance]] | None:
    """The default project's networks and every instance once apply ended, in one round: the record, the
    ruleset's bridges and the running check read them (None, with a note, when Incus did not answer)."""
    try:
        networks, instances = await asyncio.gather(client.list_networks(), client.list_instances())
    except IncusError as exc:
        run.emit("note", None, f"Incus did not list its networks and instances once apply ended ({exc})")
        return None
    return networks, instances


async def _record_contexts(run: _Run, client: IncusClient, held: tuple[list[Network], list[Instance]] | None) -> None:
    """The context files written, recorded on their projects (context_record.py); when that fails, a note:
    the next apply writes them again."""
    if held is None:
        why = "its instances were not listed"
    else:
        try:
            await record_contexts(client, run.contexts, held[1])
            return
        except IncusError as exc:
            why = str(exc)
    run.emit("note", None, f"the context files written could not be recorded ({why}); the next apply writes them again")


async def _record(
    run: _Run,
    client: IncusClient,
    infra: Infra,
    state_dir: Path,
    held: tuple[list[Network], list[Instance]] | None = None,
) -> None:
    """What this infra now holds in Incus, for the next runs' stable allocation (SPEC §5.1)."""
    try:
        await record_applied(client, infra, state_dir, held)
    except (IncusError, OSError) as exc:
        run.emit("note", None, f"the applied subnets and addresses could not be recorded ({exc}); going on")
