"""Bootstrap as a plan and its carrying out: every step seen first (the preseed among them), then done in
order, each said as it ends. `doctor --fix` carries out the steps that answer doctor's failing checks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ...errors import AnklumeError
from ..incus import IncusClient
from .host_facts import BootstrapHost
from .preseed import preseed_text
from .step import Step
from .steps_host import (
    br_netfilter_step,
    context_step,
    idmap_step,
    inotify_step,
    keys_step,
    nft_boot_step,
    packages_step,
)
from .steps_incus import IncusState, pool_step, profile_step, read_incus, start_step, supported_choice

# What a step ended as: done (nothing was needed), applied, left, manual, refused, failed, todo (a dry run, or
# not run after an earlier failure it depends on).
DEPENDED_ON = ("packages", "incus")
INCUS_STEPS = ("storage-pool", "default-profile")


@dataclass(frozen=True)
class BootstrapOptions:
    storage: str = "auto"  # auto|zfs|btrfs|lvm|dir
    mode: str = "dev"  # prod|dev


@dataclass
class Outcome:
    step: Step
    status: str
    message: str


@dataclass
class BootstrapPlan:
    steps: list[Step]
    storage: str | None  # the driver the default pool gets, when one is created
    preseed: str | None  # the Incus part, as a preseed, when something is missing there
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def todo(self) -> list[Step]:
        return [s for s in self.steps if s.state == "todo"]


def _incus_steps(client: IncusClient, options: BootstrapOptions, state: IncusState) -> tuple[list[Step], str | None]:
    choice = supported_choice(options.storage, options.mode, state)
    pool = pool_step(client, state, choice, options.storage)
    profile = profile_step(client, state, pool_coming=pool.state == "todo")
    return [pool, profile], choice.driver if pool.state == "todo" else None


def _deferred(client: IncusClient, options: BootstrapOptions, step_id: str) -> Step:
    """A step on Incus while Incus does not answer yet: planned again, and done, once it runs."""

    async def later() -> str:
        steps, _ = _incus_steps(client, options, await read_incus(client))
        step = next(s for s in steps if s.id == step_id)
        if step.state == "todo" and step.action:
            return await step.action()
        if step.state in ("done", "left"):
            return step.message
        raise AnklumeError(step.message)

    what = {
        "storage-pool": f"once Incus runs: a storage pool 'default' if it has none ({options.storage} driver)",
        "default-profile": "once Incus runs: a root disk in the default profile if it has none",
    }[step_id]
    return Step(step_id, "todo", what, f"(decided when Incus answers) {step_id}", later)


async def plan_bootstrap(client: IncusClient, options: BootstrapOptions, host: BootstrapHost) -> BootstrapPlan:
    """Read the host and Incus, change nothing."""
    state = await read_incus(client)
    before_incus = [
        packages_step(host),
        idmap_step(host, host.subuid),
        idmap_step(host, host.subgid),
        br_netfilter_step(host),
        inotify_step(host),
        keys_step(host),
        context_step(host),
    ]
    start = start_step(host, client, state)
    if state.reachable:
        incus_steps, driver = _incus_steps(client, options, state)
        pool, profile = incus_steps
        preseed = preseed_text(driver, profile.state == "todo")
    else:
        incus_steps = [_deferred(client, options, "storage-pool"), _deferred(client, options, "default-profile")]
        driver, preseed = None, None
    return BootstrapPlan([*before_incus, start, *incus_steps, nft_boot_step(host)], driver, preseed)


async def carry_out(
    plan: BootstrapPlan, only: set[str] | None = None, on_step: Callable[[Outcome], None] | None = None
) -> list[Outcome]:
    """Do the plan's `todo` steps in order (those in `only` when given). A failed step is said and the others
    go on, except the steps that need what failed (Incus installed and running)."""
    blocked: str | None = None
    outcomes = []
    for step in plan.steps:
        if only is not None and step.id not in only:
            continue
        if step.state != "todo" or step.action is None:
            outcome = Outcome(step, step.state, step.message)
        elif blocked and step.id in (*INCUS_STEPS, "incus"):
            outcome = Outcome(step, "todo", f"not done: the {blocked} step did not succeed")
        else:
            try:
                outcome = Outcome(step, "applied", await step.action())
            except AnklumeError as exc:
                outcome = Outcome(step, "failed", exc.user_message())
            except OSError as exc:
                outcome = Outcome(step, "failed", f"{type(exc).__name__}: {exc}")
        if (outcome.status == "failed" and step.id in DEPENDED_ON) or (
            outcome.status == "manual" and step.id == "incus"
        ):
            blocked = step.id
        outcomes.append(outcome)
        if on_step:
            on_step(outcome)
    plan.outcomes = outcomes
    return outcomes


# doctor's checks -> the bootstrap steps that fix them (`doctor --fix`); a check not here has no automatic fix
# (ansible-playbook: reinstall anklume-tui; gpu: the driver; subnets: the infra; a malformed context file: the
# user's own value, never overwritten).
FIXED_BY: dict[str, tuple[str, ...]] = {
    "incus": ("packages", "incus", *INCUS_STEPS),
    "storage-pool": ("storage-pool", "default-profile"),
    "default-profile": ("default-profile",),
    "subuid": ("subuid",),
    "subgid": ("subgid",),
    "nft": ("packages", "nft-boot"),
    "tmux": ("packages",),
    "br_netfilter": ("br_netfilter",),
    "inotify": ("inotify",),
    "keys": ("keys",),
    "nft-boot": ("nft-boot",),
    "context": ("context",),
}


def fixing_steps(plan: BootstrapPlan, failing_checks: set[str]) -> set[str]:
    """The ids of the plan's steps that fix these doctor checks and have something to do."""
    wanted = {step_id for check in failing_checks for step_id in FIXED_BY.get(check, ())}
    return {s.id for s in plan.steps if s.id in wanted and s.state != "done"}
