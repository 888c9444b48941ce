"""Partial runs (`apply --only STEP[,STEP…]`): the steps of SPEC §8.3 a run may be cut down to, and the plan of
those steps only.

Each plan action belongs to one step by its kind (a machine's storage volumes go with its instance). `isolation`
is the host ruleset, `provision` the Ansible run. Whatever the steps, an instance never starts before the
ruleset was loaded for its bridge (SPEC §9.1): a run with `instances` loads it first, as a whole apply does.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from ...errors import Invalid

if TYPE_CHECKING:  # the verb's parser names the steps, before apply imports the models (issue 17)
    from .plan_models import Plan

STEPS = ("projects", "networks", "profiles", "images", "instances", "isolation", "provision")
ACTION_STEP = {
    "project": "projects",
    "network": "networks",
    "profile": "profiles",
    "image": "images",
    "volume": "instances",
    "instance": "instances",
}


class UnknownStep(Invalid):
    """`--only` names a step that is not one of STEPS."""


def parse_steps(given: str | Iterable[str] | None) -> frozenset[str] | None:
    """`"networks,instances"` (or several such texts) as a set of steps; None (every step) when nothing is
    given. An unknown or empty step raises UnknownStep naming the valid ones."""
    if given is None:
        return None
    texts = [given] if isinstance(given, str) else list(given)
    names = [part.strip() for text in texts for part in text.split(",")]
    unknown = [name for name in names if name not in STEPS]
    if unknown or not names:
        shown = ", ".join(repr(name) for name in unknown) or "nothing"
        raise UnknownStep(f"--only: unknown step {shown}; the steps are {', '.join(STEPS)}")
    return frozenset(names)


def runs(steps: frozenset[str] | None, step: str) -> bool:
    return steps is None or step in steps


def only_steps(plan: Plan, steps: frozenset[str] | None) -> Plan:
    """The plan with the actions of those steps only (drift and orphans stay, as what the plan saw)."""
    if steps is None:
        return plan
    kept = [a for a in plan.actions if ACTION_STEP.get(a.kind) in steps]
    return plan.model_copy(update={"actions": kept})
