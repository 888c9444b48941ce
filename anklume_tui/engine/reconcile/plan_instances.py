"""Plan step 5 (SPEC §8.3): storage volumes and instances, and the instance orphans of §8.4."""

from __future__ import annotations

from typing import Any

from ...psot.names import named_as_disposable
from ..incus.models import Instance, Project, StorageVolume
from .compare import (
    config_diff,
    describe,
    devices_diff,
    drift_entries,
    hot_pluggable,
    merged_device,
    owned_elsewhere,
    stale_service_devices,
)
from .desired import CONTEXT_KEY, DesiredState, ExpectedInstance, ExpectedVolume
from .placement import Members, move_action, placed_on
from .plan_models import Action, Drift, Orphan
from .real_state import belongs_to, is_managed

VolumeKey = tuple[str, str, str]  # (project, pool, name)


def plan_volume(vol: ExpectedVolume, real: StorageVolume | None, infra: str) -> tuple[list[Action], list[Drift]]:
    if real is None:
        size = vol.config.get("size")
        detail = f"pool {vol.pool}" + (f", size {size}" if size else "") + f", for {vol.instance}"
        changes = {"pool": vol.pool, "config": vol.config}
        return [
            Action(
                op="create",
                kind="volume",
                project=vol.project,
                name=vol.name,
                detail=detail,
                domain=vol.domain,
                instance=vol.instance,
                changes=changes,
            )
        ], []
    if conflict := owned_elsewhere("volume", vol.project, vol.name, vol.domain, real.config, infra):
        return [conflict], []
    diff = config_diff(vol.config, real.config)
    if not diff:
        return [], []
    drift = drift_entries("volume", vol.project, vol.name, "config.", diff)
    changes = {"pool": vol.pool, "config": {k: v for k, (v, _) in diff.items()}}
    action = Action(
        op="update",
        kind="volume",
        project=vol.project,
        name=vol.name,
        detail=describe(drift),
        domain=vol.domain,
        instance=vol.instance,
        changes=changes,
    )
    return [action], drift


def context_spec(exp: ExpectedInstance) -> dict | None:
    if exp.context is None:
        return None
    return {"files": exp.context.files(), "stamp": exp.context.stamp}


def create_spec(exp: ExpectedInstance, members: Members = ()) -> dict:
    """Everything apply sends to create the instance (the context key is set once the files are written)."""
    return {
        "target": placed_on(exp.target, members),
        "create": True,
        "machine": exp.machine.name,
        "type": exp.type,
        "image": exp.image,
        "image_server": exp.image_server,
        "profiles": exp.profiles,
        "config": {k: v for k, v in exp.config.items() if k != CONTEXT_KEY},
        "devices": exp.devices,
        "context": context_spec(exp),
        "start": True,
    }


def plan_instance(
    exp: ExpectedInstance, real: Instance | None, infra: str = "", members: Members = (), stamp: str | None = None
) -> tuple[list[Action], list[Drift]]:
    """`infra` (the infra's project_name): an instance tagged with another infra's name is a conflict.
    `members`: the cluster's, where it is placed (and moved back to when found elsewhere). `stamp`: that of
    the context files it holds (context_record.py), None when none are recorded."""
    base: dict[str, Any] = {
        "kind": "instance",
        "project": exp.project,
        "name": exp.name,
        "domain": exp.domain,
        "instance": exp.name,
    }
    if real is None:
        kind = "virtual machine" if exp.type == "virtual-machine" else "container"
        detail = f"{kind} from {exp.image}, profiles {', '.join(exp.profiles)}"
        if exp.machine.ip:
            detail += f", ip {exp.machine.ip}"
        if target := placed_on(exp.target, members):
            detail += f", on {target}"
        return [Action(op="create", detail=detail, changes=create_spec(exp, members), **base)], []
    if real.unreachable:
        member = real.location or "(unknown)"
        detail = f"its cluster member {member} does not answer: nothing is changed on it until it does"
        return [Action(op="conflict", detail=detail, changes={"location": real.location}, **base)], []
    if infra and (conflict := owned_elsewhere("instance", exp.project, exp.name, exp.domain, real.config, infra)):
        return [conflict.model_copy(update={"instance": exp.name})], []
    moved, moved_drift = move_action(exp, real, members)
    actions, drift = _correct(exp, real, base, stamp)
    return moved + actions, moved_drift + drift


def _correct(
    exp: ExpectedInstance, real: Instance, base: dict[str, Any], stamp: str | None
) -> tuple[list[Action], list[Drift]]:
    """What differs between a found instance and its machine, as one update (or start) action."""
    if real.type != exp.type:
        drift = [
            Drift(
                kind="instance", project=exp.project, name=exp.name, field="type", expected=exp.type, actual=real.type
            )
        ]
        detail = f"is a {real.type} but the infra declares a {exp.type}; apply never re-creates an instance"
        return [Action(op="conflict", detail=detail, **base)], drift
    drift = []
    changes: dict[str, Any] = {}
    if set(real.profiles) != set(exp.profiles):
        drift.append(
            Drift(
                kind="instance",
                project=exp.project,
                name=exp.name,
                field="profiles",
                expected=exp.profiles,
                actual=real.profiles,
            )
        )
        changes["profiles"] = exp.profiles
    wanted_config = {k: v for k, v in exp.config.items() if k != CONTEXT_KEY}
    diff = config_diff(wanted_config, real.config)
    if diff:
        drift += drift_entries("instance", exp.project, exp.name, "config.", diff)
        changes["config"] = {k: v for k, (v, _) in diff.items()}
    unborn = not real.running and "volatile.last_state.power" not in real.config
    if exp.context is not None and (unborn or stamp != exp.context.stamp):
        drift += drift_entries("instance", exp.project, exp.name, "config.", {CONTEXT_KEY: (exp.context.stamp, stamp)})
        changes["context"] = context_spec(exp)
    dev_diff = devices_diff(exp.devices, real.devices)
    if dev_diff:
        drift += drift_entries("instance", exp.project, exp.name, "devices.", dev_diff)
        changes["devices"] = {name: merged_device(e, a) for name, (e, a) in dev_diff.items()}
        live = exp.type == "container" and hot_pluggable(changes["devices"])
        changes["restart"] = real.running and not live
    stale = stale_service_devices(exp.devices, real.devices)
    if stale:
        drift += drift_entries(
            "instance", exp.project, exp.name, "devices.", {name: (None, real.devices[name]) for name in stale}
        )
        changes["remove_devices"] = stale
    if not real.running:
        # Never started: created by an apply that did not finish (its context files are written again).
        changes["unborn"] = unborn
        drift.append(
            Drift(
                kind="instance",
                project=exp.project,
                name=exp.name,
                field="status",
                expected="Running",
                actual=real.status,
            )
        )
        changes["start"] = True
    if not changes:
        return [], []
    only_start = set(changes) - {"unborn"} == {"start"}
    changes["type"] = exp.type  # how apply waits once it (re)starts: a VM for its agent too
    if real.location and real.location != "none":
        changes["location"] = real.location  # named when Incus fails it there (a member down)
    action = Action(op="start" if only_start else "update", detail=describe(drift), changes=changes, **base)
    return [action], drift


def instance_actions(
    desired: DesiredState,
    instances: dict[tuple[str, str], Instance],
    volumes: dict[VolumeKey, StorageVolume],
    members: Members = (),
    stamps: dict[tuple[str, str], str] | None = None,
) -> tuple[list[Action], list[Drift]]:
    """Per machine in declaration order: its volumes, then the instance. `stamps`: those of the context files
    the instances hold (context_record.context_stamps)."""
    actions: list[Action] = []
    drift: list[Drift] = []
    for exp in desired.instances:
        for vol in exp.volumes:
            a, d = plan_volume(vol, volumes.get((vol.project, vol.pool, vol.name)), desired.infra)
            actions += a
            drift += d
        key = (exp.project, exp.name)
        a, d = plan_instance(exp, instances.get(key), desired.infra, members, (stamps or {}).get(key))
        actions += a
        drift += d
    return actions, drift


def is_disposable(instance: Instance, prefix: str) -> bool:
    return instance.ephemeral and named_as_disposable(instance.name, prefix)


def find_orphans(
    desired: DesiredState,
    projects: dict[str, Project],
    instances: dict[tuple[str, str], Instance],
    *,
    limit: str | None,
) -> list[Orphan]:
    """This infra's instances (both tags, its name: SPEC §10.8) in managed projects that no machine of any
    domain declares, disposables aside; another infra's, and those made before infra tags, are not orphans."""
    tagged = {name for name, p in projects.items() if is_managed(p.config)}
    if limit is not None:
        tagged &= set(desired.projects_in_scope)
    found = []
    for (project, name), inst in sorted(instances.items()):
        if project not in tagged or not belongs_to(inst.config, desired.infra):
            continue
        if name in desired.declared_instances or is_disposable(inst, desired.prefix):
            continue
        found.append(
            Orphan(project=project, name=name, protected=inst.protected, status=inst.status, reason=inst.protection)
        )
    return found


def prune_actions(orphans: list[Orphan], domains: dict[str, str]) -> list[Action]:
    return [
        Action(
            op="delete",
            kind="instance",
            project=o.project,
            name=o.name,
            domain=domains.get(o.project),
            detail="undeclared managed instance (--prune)",
            changes={"running": o.status == "Running"},
        )
        for o in orphans
        if not o.protected
    ]
