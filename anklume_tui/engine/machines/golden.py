"""Golden images (SPEC §10.3): a template instance frozen as snapshot `pristine`, derived by copy
(copy-on-write on ZFS/Btrfs) or published as a local image alias usable as `os_image`."""

from __future__ import annotations

from dataclasses import dataclass

from ...errors import Failed
from ..incus.client import IncusClient
from ..incus.models import Instance
from ..reconcile.real_state import MANAGED_KEY

PRISTINE = "pristine"
GOLDEN_FROM_KEY = "user.anklume.golden-from"


class GoldenError(Failed):
    """A template without `pristine`, a name already taken: the message says what to do."""


@dataclass(frozen=True)
class Golden:
    project: str
    instance: str
    derived: str | None = None
    alias: str | None = None
    fingerprint: str | None = None


def _short(name: str) -> str:
    return name.rsplit("/", 1)[-1]


async def _has_pristine(client: IncusClient, inst: Instance) -> bool:
    return any(_short(s.name) == PRISTINE for s in await client.list_snapshots(inst.name, project=inst.project))


async def create_golden(client: IncusClient, template: Instance) -> Golden:
    """Stop the template (cleanly, then forced) and (re)create its `pristine` snapshot."""
    current = await client.get_instance(template.name, project=template.project)
    if current.status != "Stopped":
        await client.change_state(
            template.name, "stop", timeout=30, force=current.status == "Frozen", project=template.project
        )
    if await _has_pristine(client, template):
        await client.delete_snapshot(template.name, PRISTINE, project=template.project)
    await client.create_snapshot(template.name, PRISTINE, project=template.project)
    return Golden(template.project, template.name)


async def _require_pristine(client: IncusClient, template: Instance) -> None:
    if not await _has_pristine(client, template):
        raise GoldenError(
            f"{template.project}/{template.name} has no {PRISTINE!r} snapshot: run `golden create` on it first"
        )


STATIC_ADDRESS_KEYS = ("ipv4.address", "ipv6.address")


def without_static_addresses(inst: Instance) -> dict[str, dict[str, str]]:
    """The instance's own NICs that have a static address, minus it: a copy keeping them could never start
    beside its original (Incus refuses an address defined on another NIC); the copy uses DHCP. Laid over
    the copy's devices (golden derive, restore-backup under a new name)."""
    return {
        name: {k: v for k, v in dev.items() if k not in STATIC_ADDRESS_KEYS}
        for name, dev in inst.devices.items()
        if dev.get("type") == "nic" and any(k in dev for k in STATIC_ADDRESS_KEYS)
    }


async def derive_golden(client: IncusClient, template: Instance, name: str) -> Golden:
    """Copy `<template>/pristine` into a new (stopped) instance of the same project, tagged managed,
    on DHCP where the template has a static address."""
    await _require_pristine(client, template)
    if any(i.name == name for i in await client.list_instances(project=template.project)):
        raise GoldenError(f"{template.project}/{name} already exists")
    await client.create_instance(
        name,
        source={"type": "copy", "source": f"{template.name}/{PRISTINE}"},
        config={MANAGED_KEY: "true", GOLDEN_FROM_KEY: template.name},
        devices=without_static_addresses(template),
        description=f"derived from {template.name}/{PRISTINE}",
        timeout=600,
        project=template.project,
    )
    return Golden(template.project, template.name, derived=name)


async def publish_golden(client: IncusClient, template: Instance, alias: str) -> Golden:
    """Publish `<template>/pristine` as image alias `alias` in the template's project."""
    await _require_pristine(client, template)
    if any(a.name == alias for img in await client.list_images(project=template.project) for a in img.aliases):
        raise GoldenError(f"image alias {alias!r} already exists in project {template.project!r}: delete it first")
    fingerprint = await client.publish_snapshot(
        template.name,
        PRISTINE,
        aliases=[alias],
        properties={"description": f"golden {alias}"},
        project=template.project,
    )
    return Golden(template.project, template.name, alias=alias, fingerprint=fingerprint or None)


async def list_golden(client: IncusClient) -> list[Golden]:
    """Every instance, in any project, that owns a `pristine` snapshot."""
    found = []
    for inst in sorted(await client.list_instances(), key=lambda i: (i.project, i.name)):
        if await _has_pristine(client, inst):
            found.append(Golden(inst.project, inst.name))
    return found
