"""Disposables (SPEC §10.2): an Incus-ephemeral instance inside a domain's project, on its bridge and
under its isolation, that Incus itself deletes when it stops (so it goes away even when the tool was
killed). Never in project `default`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from ...errors import Invalid
from ...psot.model import Infra
from ...psot.names import disposable_name
from ..incus.client import IncusClient
from ..incus.errors import IncusError, IncusNotFound
from ..reconcile.desired import image_server, split_image
from ..reconcile.real_state import INFRA_KEY, MANAGED_KEY

FALLBACK_IMAGE = "images:debian/13"
DISPOSABLE_TRUST = "disposable"
DISPOSABLE_KEY = "user.anklume.disposable"


class DisposableError(Invalid):
    """No domain to put it in, or an image that cannot be found: the message says what to do."""


@dataclass(frozen=True)
class Disposable:
    project: str
    name: str
    image: str
    type: Literal["container", "virtual-machine"]


def choose_domain(infra, requested: str | None):
    """The requested domain, else the first enabled one (alphabetical) whose effective trust is
    `disposable`; never project `default`."""
    domains = {d.name: d for d in infra.domains}
    if requested is not None:
        domain = domains.get(requested)
        if domain is None:
            raise DisposableError(f"unknown domain {requested!r} (declared: {', '.join(sorted(domains)) or 'none'})")
        if not domain.enabled:
            raise DisposableError(f"domain {requested!r} is disabled")
    else:
        found = sorted(
            (d for d in infra.enabled_domains if d.effective_trust == DISPOSABLE_TRUST), key=lambda d: d.name
        )
        if not found:
            raise DisposableError("no enabled domain has trust level 'disposable': choose one with --domain D")
        domain = found[0]
    if domain.project == "default":
        raise DisposableError("a disposable never goes into project 'default'")
    return domain


async def _free_name(client: IncusClient, project: str, base: str) -> str:
    taken = {i.name for i in await client.list_instances(project=project)}
    name = base
    while name in taken:
        name = f"{base}-{secrets.token_hex(2)}"
    return name


async def _image_source(client: IncusClient, infra: Infra, image: str, project: str) -> dict:
    """A local alias is copied from `default` into the project when only there; a remote one is pulled."""
    remote, alias = split_image(image)
    if remote is not None:
        server = image_server(infra, image)
        if server is None:
            raise DisposableError(f"image {image!r}: unknown image server {remote!r}")
        return {"type": "image", "mode": "pull", "server": server, "protocol": "simplestreams", "alias": alias}
    try:
        await client.get_image_alias(alias, project=project)
    except IncusNotFound:
        try:
            found = await client.get_image_alias(alias, project="default")
        except IncusNotFound:
            raise DisposableError(f"local image {alias!r} is in neither project {project!r} nor 'default'") from None
        try:
            await client.copy_image_from_project(found.target, "default", aliases=[alias], project=project)
        except IncusError as exc:
            if "already exists" not in exc.message.lower():
                raise
    return {"type": "image", "alias": alias}


async def create_disposable(
    client: IncusClient,
    infra,
    *,
    domain: str | None = None,
    image: str | None = None,
    vm: bool = False,
    now: datetime | None = None,
) -> Disposable:
    """Create and start the disposable in the domain's project with that project's `default` profile."""
    dom = choose_domain(infra, domain)
    try:
        await client.get_project(dom.project)
    except IncusNotFound:
        raise DisposableError(f"project {dom.project!r} of domain {dom.name!r} does not exist: apply first") from None
    chosen = image or infra.default_os_image or FALLBACK_IMAGE
    source = await _image_source(client, infra, chosen, dom.project)
    name = await _free_name(client, dom.project, disposable_name(infra.prefix, now))
    kind: Literal["container", "virtual-machine"] = "virtual-machine" if vm else "container"
    await client.create_instance(
        name,
        source=source,
        type=kind,
        profiles=["default"],
        config={MANAGED_KEY: "true", INFRA_KEY: infra.project_name, DISPOSABLE_KEY: "true"},
        ephemeral=True,
        description=f"anklume-tui disposable in domain {dom.name}",
        start=True,
        timeout=600,
        project=dom.project,
    )
    return Disposable(project=dom.project, name=name, image=chosen, type=kind)


def shell_command(disposable: Disposable, incus: str = "incus") -> list[str]:
    """The `incus exec` argv that attaches an interactive shell (the incus CLI handles the terminal)."""
    return [incus, "exec", f"--project={disposable.project}", disposable.name, "--", "/bin/sh", "-l"]
