"""plan: the desired state (enabled domains, or one with `limit`) against what Incus holds → the ordered
actions apply would take (SPEC §8.3 order), field-level drift and instance orphans (§8.4).

`compute_plan` is pure; `make_plan` reads Incus in a fixed number of requests (one instance listing
whatever the instance count, then profiles, images and volumes per project) and computes.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from ...psot.context import HostContext
from ...psot.model import Infra
from ...psot.scope import check_limit
from ..incus.errors import IncusNotFound
from ..incus.models import Image, Instance, Network, Profile, Project, StorageVolume
from .addresses import mark_renumbers
from .compare import config_diff, describe, devices_diff, drift_entries, merged_device, owned_elsewhere
from .context_record import context_stamps
from .desired import DesiredState, ExpectedImage, desired_state
from .plan_gpu import enforce_gpu_policy
from .plan_instances import VolumeKey, find_orphans, instance_actions, prune_actions
from .plan_models import Action, Drift, Plan
from .real_state import RealState

if TYPE_CHECKING:  # a no-op apply never imports the client (apply_start.py)
    from ..incus.client import IncusClient
    from ..incus.quick_read import ApplyListings


def _structure_actions(desired: DesiredState, real: RealState) -> tuple[list[Action], list[Drift]]:
    actions: list[Action] = []
    drift: list[Drift] = []
    for p in desired.projects:
        have = real.projects.get(p.name)
        if have is None:
            actions.append(
                Action(
                    op="create",
                    kind="project",
                    project=p.name,
                    name=p.name,
                    domain=p.domain,
                    detail="features, description, managed tag",
                    changes={"config": p.config, "description": p.description},
                )
            )
            continue
        if conflict := owned_elsewhere("project", p.name, p.name, p.domain, have.config, desired.infra):
            actions.append(conflict)
            continue
        diff = config_diff(p.config, have.config)
        if have.description != p.description:
            diff["description"] = (p.description, have.description)
        if diff:
            d = drift_entries("project", p.name, p.name, "", {k: v for k, v in diff.items() if k == "description"})
            d += drift_entries(
                "project", p.name, p.name, "config.", {k: v for k, v in diff.items() if k != "description"}
            )
            drift += d
            changes: dict[str, Any] = {"config": {k: v for k, (v, _) in diff.items() if k != "description"}}
            if "description" in diff:
                changes["description"] = p.description
            actions.append(
                Action(
                    op="update",
                    kind="project",
                    project=p.name,
                    name=p.name,
                    domain=p.domain,
                    detail=describe(d),
                    changes=changes,
                )
            )
    for n in desired.networks:
        bridge = real.networks.get(n.name)
        half_made = bridge is not None and bridge.status == "Pending"
        if bridge is None or half_made:
            detail = f"bridge {n.config['ipv4.address']}"
            if half_made:
                detail += " (left Pending by an interrupted create: deleted and made again)"
            actions.append(
                Action(
                    op="create",
                    kind="network",
                    project="default",
                    name=n.name,
                    domain=n.domain,
                    detail=detail,
                    changes={
                        "config": n.config,
                        "recreate": half_made,
                        "members": [m.server_name for m in real.members],
                    },
                )
            )
            continue
        if conflict := owned_elsewhere("network", "default", n.name, n.domain, bridge.config, desired.infra):
            actions.append(conflict)
            continue
        diff = config_diff(n.config, bridge.config)
        if diff:
            d = drift_entries("network", "default", n.name, "config.", diff)
            drift += d
            actions.append(
                Action(
                    op="update",
                    kind="network",
                    project="default",
                    name=n.name,
                    domain=n.domain,
                    detail=describe(d),
                    changes={"config": {k: v for k, (v, _) in diff.items()}},
                )
            )
    for pr in desired.profiles:
        profile = real.profile(pr.project, pr.name)
        if profile is None and pr.tagged:
            actions.append(
                Action(
                    op="create",
                    kind="profile",
                    project=pr.project,
                    name=pr.name,
                    domain=pr.domain,
                    detail=f"{len(pr.devices)} device(s), {len(pr.config)} config key(s)",
                    changes={"config": pr.config, "devices": pr.devices, "every_bridge": pr.every_bridge},
                )
            )
            continue
        config, devices = (profile.config, profile.devices) if profile is not None else ({}, {})
        if conflict := owned_elsewhere("profile", pr.project, pr.name, pr.domain, config, desired.infra):
            actions.append(conflict)
            continue
        cdiff, ddiff = config_diff(pr.config, config), devices_diff(pr.devices, devices)
        if cdiff or ddiff:
            d = drift_entries("profile", pr.project, pr.name, "config.", cdiff)
            d += drift_entries("profile", pr.project, pr.name, "devices.", ddiff)
            if profile is not None:
                drift += d
            changes = {
                "config": {k: v for k, (v, _) in cdiff.items()},
                "devices": {name: merged_device(e, a) for name, (e, a) in ddiff.items()},
                "every_bridge": pr.every_bridge,
            }
            actions.append(
                Action(
                    op="update",
                    kind="profile",
                    project=pr.project,
                    name=pr.name,
                    domain=pr.domain,
                    detail=describe(d),
                    changes=changes,
                )
            )
    return actions, drift


def _cached_remote(images: list[Image], server: str, alias: str, full: str) -> bool:
    for image in images:
        source = (image.model_extra or {}).get("update_source") or {}
        if source.get("alias") == alias and source.get("server", "").rstrip("/") == server.rstrip("/"):
            return True
        if any(a.name == full for a in image.aliases):
            return True
    return False


def _image_action(img: ExpectedImage, real: RealState) -> Action | None:
    base: dict[str, Any] = {"kind": "image", "project": img.project, "name": img.image, "domain": img.domain}
    if img.remote is None:
        if img.alias in real.image_aliases(img.project):
            return None
        source = next((i for i in real.images.get("default", []) if any(a.name == img.alias for a in i.aliases)), None)
        if source is not None:
            return Action(
                op="copy",
                detail=f"local image {img.alias!r} from project default",
                changes={"fingerprint": source.fingerprint, "source_project": "default", "alias": img.alias},
                **base,
            )
        return Action(
            op="missing",
            detail=f"local image {img.alias!r} is in neither project {img.project!r} nor "
            "'default': import it (incus image import ... --alias) or fix os_image",
            **base,
        )
    server = img.server
    if server is None:
        return Action(op="missing", detail=f"image {img.image!r}: unknown image server {img.remote!r}", **base)
    if _cached_remote(real.images.get(img.project, []), server, img.alias, img.image):
        return None
    return Action(
        op="download",
        detail=f"{img.alias} from {server}",
        changes={"server": server, "protocol": "simplestreams", "alias": img.alias},
        **base,
    )


def compute_plan(
    desired: DesiredState,
    real: RealState,
    volumes: dict[VolumeKey, StorageVolume] | None = None,
    *,
    prune: bool = False,
    limit: str | None = None,
) -> Plan:
    actions, drift = _structure_actions(desired, real)
    seen: set[tuple[str, str]] = set()
    for img in desired.images:
        action = _image_action(img, real)
        if action is not None and (img.project, img.image) not in seen:
            seen.add((img.project, img.image))
            actions.append(action)
    stamps = context_stamps(real.projects, real.instances)
    inst_actions, inst_drift = instance_actions(desired, real.instances, volumes or {}, real.members, stamps)
    actions += inst_actions
    drift += inst_drift
    orphans = find_orphans(desired, real.projects, real.instances, limit=limit)
    if prune:
        domains = {p.name: p.domain for p in desired.projects}
        actions += prune_actions(orphans, domains)
    return Plan(actions=actions, drift=drift, orphans=orphans, prune=prune, limit=limit)


async def _bridge(client: IncusClient, name: str) -> Network | None:
    try:
        return await client.get_network(name)
    except IncusNotFound:
        return None


async def read_real(client: IncusClient, projects: list[str], bridges: list[str]) -> RealState:
    """Like `real_state.read_state`, in 4 + one-per-bridge concurrent requests whatever the number of
    instances: profiles and images come from all-projects listings (kept for `projects` only), and each
    bridge is read by name (the network listing also lists every host interface, a veth per container)."""
    listed, instances, profiles, images, networks = await asyncio.gather(
        client.list_projects(),
        client.list_instances(),
        client.list_profiles_all_projects(),
        client.list_images_all_projects(),
        asyncio.gather(*(_bridge(client, b) for b in bridges)),
    )
    return _real(projects, listed, instances, profiles, images, [n for n in networks if n is not None])


def real_from(listings: ApplyListings, projects: list[str], bridges: list[str]) -> RealState:
    """What `read_real` reads, from the listings apply read as it started (apply_start.py): the bridges are
    the declared ones among the default project's networks."""
    wanted = set(bridges)
    networks = [n for n in listings.networks if n.name in wanted]
    return _real(projects, listings.projects, listings.instances, listings.profiles, listings.images, networks)


def _real(
    projects: list[str],
    listed: list[Project],
    instances: list[Instance],
    profiles: list[Profile],
    images: list[Image],
    networks: list[Network],
) -> RealState:
    wanted = set(projects)
    real = RealState(
        projects={p.name: p for p in listed},
        networks={n.name: n for n in networks},
        instances={(i.project, i.name): i for i in instances},
        profiles={(p.project, p.name): p for p in profiles if p.project in wanted},
    )
    for image in images:
        if image.project in wanted:
            real.images.setdefault(image.project, []).append(image)
    return real


async def read_volumes(client: IncusClient, desired: DesiredState, real: RealState) -> dict[VolumeKey, StorageVolume]:
    """Custom volumes of the (project, pool) pairs the infra declares volumes in, one request each."""
    pairs = sorted({(v.project, v.pool) for i in desired.instances for v in i.volumes if v.project in real.projects})
    lists = await asyncio.gather(*(client.list_storage_volumes(pool, project=project) for project, pool in pairs))
    return {(project, pool, v.name): v for (project, pool), found in zip(pairs, lists, strict=True) for v in found}


def needs_members(desired: DesiredState, real: RealState) -> bool:
    """The cluster's members are read (one or two requests) only when they matter: a machine declares where it
    runs, or a bridge is to be made (on a cluster, once per member first)."""
    missing = any(n.name not in real.networks or real.networks[n.name].status == "Pending" for n in desired.networks)
    return missing or any(i.target for i in desired.instances)


async def make_plan(
    client: IncusClient,
    infra: Infra,
    *,
    limit: str | None = None,
    prune: bool = False,
    host: HostContext | None = None,
    listings: ApplyListings | None = None,
) -> Plan:
    """`listings`: what apply read as it started (off a cluster), instead of reading it again."""
    check_limit(infra, limit)
    before = client.requests
    desired = desired_state(infra, limit=limit, host=host)
    projects, bridges = [*desired.projects_in_scope, "default"], [n.name for n in desired.networks]
    if listings is not None:
        real = real_from(listings, projects, bridges)
    else:
        real = await read_real(client, projects, bridges)
    volumes = await read_volumes(client, desired, real)
    if needs_members(desired, real) and listings is None:  # the listings are only kept off a cluster
        real.members = await client.cluster_members()
    plan = compute_plan(desired, real, volumes, prune=prune, limit=limit)
    plan.actions = mark_renumbers(infra, enforce_gpu_policy(infra, desired, real, plan.actions))
    plan.requests = client.requests - before
    plan.bridges = {n.name: real.networks[n.name] for n in desired.networks if n.name in real.networks}
    return plan
