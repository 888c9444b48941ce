"""`gpu_policy: exclusive` at apply (SPEC §10.6). Validation (G1) counts the consumers the infra declares;
the plan also looks at what Incus holds: an instance holding a GPU that the infra does not declare as a
consumer (a gpu device added by hand, another tool's project) keeps every declared consumer from gaining
one, and the plan says which instance holds it instead of creating a second holder."""

from __future__ import annotations

from ...psot.model import Infra
from ..incus.models import Instance
from .desired import DesiredState, profile_has_gpu
from .plan_models import Action
from .real_state import RealState


def holds_gpu(instance: Instance) -> bool:
    """A gpu device on the instance, its own or from a profile."""
    return any(device.get("type") == "gpu" for device in instance.expanded_devices.values())


def declared_consumers(infra: Infra) -> set[tuple[str, str]]:
    """(project, instance) of every machine the infra gives a GPU, disabled domains included (as G1 counts)."""
    return {
        (domain.project, machine.instance_name)
        for domain in infra.domains
        for machine in domain.machines
        if machine.gpu or profile_has_gpu(domain, machine.profiles or [])
    }


def enforce_gpu_policy(infra: Infra, desired: DesiredState, real: RealState, actions: list[Action]) -> list[Action]:
    """`actions`, with each declared consumer about to gain a GPU turned into a conflict when the policy is
    exclusive and an undeclared instance already holds one."""
    if infra.gpu_policy != "exclusive":
        return actions
    declared = declared_consumers(infra)
    others = sorted(f"{p}/{n}" for (p, n), inst in real.instances.items() if (p, n) not in declared and holds_gpu(inst))
    if not others:
        return actions
    gaining = {
        (exp.project, exp.name)
        for exp in desired.instances
        if (exp.project, exp.name) in declared
        and not ((held := real.instance(exp.project, exp.name)) is not None and holds_gpu(held))
    }
    detail = (
        f"GPU policy is 'exclusive' but {', '.join(others)} already holds a GPU and is not a consumer this infra "
        "declares: remove that gpu device, or set gpu_policy: shared"
    )
    kept, refused = [], set()
    for action in actions:
        key = (action.project, action.name)
        if action.kind != "instance" or key not in gaining:
            kept.append(action)
        elif key not in refused:
            refused.add(key)
            kept.append(action.model_copy(update={"op": "conflict", "detail": detail, "changes": {}}))
    return kept
