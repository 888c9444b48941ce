"""The typed desired state: what the generator writes and the engine reconciles.

Built from the enriched infra once validation passed. Values the user gave for
Incus (`config`, `devices`, `profiles`, volumes) are kept verbatim; fields the
generated files omit when undeclared stay None.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .addressing import Subnet, is_zone_mode
from .constants import (
    DEFAULT_BASE_SUBNET,
    DEFAULT_IMAGE_SERVERS,
    DEFAULT_OS_IMAGE,
    DEFAULT_PERSISTENT_DATA_BASE,
    DEFAULT_SERVICES_BASE,
    DEFAULT_SHARED_VOLUMES_BASE,
    DEFAULT_TRUST,
)

if TYPE_CHECKING:
    from .enrich import Enriched

_STRICT = ConfigDict(strict=True, frozen=True, extra="forbid")


class NetworkPolicy(BaseModel):
    """One allow rule (SPEC §3.7); holds only the keys the user (or enrichment) gave."""

    model_config = ConfigDict(strict=True, frozen=True, extra="allow", populate_by_name=True)

    description: str | None = None
    from_: str = Field(alias="from")
    to: str
    ports: list[int] | Literal["all"] = "all"
    protocol: Literal["tcp", "udp"] = "tcp"
    bidirectional: bool = False

    def as_declared(self) -> dict[str, Any]:
        """The policy as written in the infra file, for `network_policies` in group_vars/all.yml."""
        return self.model_dump(by_alias=True, exclude_unset=True)


class Machine(BaseModel):
    model_config = _STRICT

    name: str
    instance_name: str
    domain: str
    type: Literal["lxc", "vm"] = "lxc"
    description: str = ""
    ip: str | None = None
    ephemeral: bool = False
    gpu: bool | None = None
    # The machine's `os_image`, else `global.default_os_image`, else None (see `image`).
    os_image: str | None = None
    profiles: list[str] | None = None
    config: dict[str, Any] | None = None
    devices: dict[str, Any] | None = None
    storage_volumes: dict[str, Any] | None = None
    roles: list[Any] | None = None
    weight: int = 1
    boot_autostart: bool | None = None
    boot_priority: int | None = None
    snapshots_schedule: str | None = None
    snapshots_expiry: str | None = None
    persistent_data: dict[str, Any] | None = None
    checks: list[Any] | None = None  # declared smoke checks, as written (psot/checks.py parses them)
    services: dict[str, Any] | None = None  # offered services, as written (psot/services.py reads them)
    consumes: list[Any] | None = None  # consumed services, as written
    target: str | None = None  # the cluster member or @group it runs on, as declared (else its domain's)
    export_apps: list[Any] | None = None  # applications in the host's menu, as written (psot/export_apps.py)

    @property
    def image(self) -> str:
        """The image the instance is created from."""
        return self.os_image or DEFAULT_OS_IMAGE


class Domain(BaseModel):
    model_config = _STRICT

    name: str
    enabled: bool = True
    description: str = ""
    ephemeral: bool = False
    # As declared (trust-zone mode: always set by enrichment); None when undeclared.
    trust_level: str | None = None
    ai_provider: Literal["local", "cloud", "local-first"] = "local"
    ai_sanitize: bool | Literal["always"] = False
    project: str
    network: str
    subnet: str
    gateway: str
    subnet_id: int
    profiles: dict[str, Any] = Field(default_factory=dict)
    consumes: list[Any] | None = None  # services every machine of the domain consumes, as written
    tor_gateway: str | None = None  # the machine every other machine of the domain reaches the outside through
    desktop: dict[str, Any] | None = None  # display and clipboard settings, as written (psot/desktop.py)
    target: str | None = None  # the cluster member or @group of its machines that name none (issue 20)
    export_apps: list[Any] | None = None  # applications each machine of the domain exports, as written
    machines: list[Machine] = Field(default_factory=list)

    @property
    def effective_trust(self) -> str:
        return self.trust_level or DEFAULT_TRUST


class Renumber(BaseModel):
    """An applied subnet (machine None) or address this infra moves without naming it (W9, SPEC §5.1)."""

    model_config = _STRICT

    domain: str
    machine: str | None = None
    before: str
    reason: str


class Infra(BaseModel):
    model_config = _STRICT

    project_name: str
    prefix: str
    zone_mode: bool
    # Trust-zone mode: `global.addressing` verbatim; legacy mode: None.
    addressing: dict[str, Any] | None = None
    base_subnet: str = DEFAULT_BASE_SUBNET
    # As declared; machines fall back to it, then to DEFAULT_OS_IMAGE.
    default_os_image: str | None = None
    default_connection: str | None = None
    default_user: str | None = None
    gpu_policy: Literal["exclusive", "shared"] = "exclusive"
    firewall_mode: Literal["host", "vm"] = "host"
    ai_access_policy: Literal["exclusive", "open"] = "open"
    ai_access_default: str | None = None
    ai_vram_flush: bool = True
    nesting_prefix: bool = True
    shared_volumes_base: str = DEFAULT_SHARED_VOLUMES_BASE
    persistent_data_base: str = DEFAULT_PERSISTENT_DATA_BASE
    services_base: str = DEFAULT_SERVICES_BASE
    # Remote prefix -> simplestreams server: the defaults, then `global.image_servers` (IS1, IS2).
    image_servers: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_IMAGE_SERVERS))
    domains: list[Domain] = Field(default_factory=list)
    network_policies: list[NetworkPolicy] = Field(default_factory=list)
    renumbers: list[Renumber] = Field(default_factory=list)

    @property
    def machines(self) -> list[Machine]:
        """Every machine of every domain, disabled ones included, in declaration order."""
        return [m for d in self.domains for m in d.machines]

    @property
    def enabled_domains(self) -> list[Domain]:
        return [d for d in self.domains if d.enabled]

    @property
    def images(self) -> list[str]:
        """Sorted unique images every machine is created from (disabled domains included)."""
        return sorted({m.image for m in self.machines})


def build_model(enriched: Enriched, prefix: str) -> Infra:
    """The desired state of a validated, enriched infra."""
    data = enriched.data
    settings = data.get("global") or {}
    default_image = settings.get("default_os_image")
    domains = [
        _domain(name, dom or {}, enriched.subnets[name], prefix, default_image)
        for name, dom in (data.get("domains") or {}).items()
    ]
    zone_mode = is_zone_mode(data)
    return Infra(
        project_name=data["project_name"],
        prefix=prefix,
        zone_mode=zone_mode,
        addressing=settings.get("addressing") if zone_mode else None,
        domains=domains,
        network_policies=[
            NetworkPolicy.model_validate({k: v for k, v in p.items() if v is not None})
            for p in data.get("network_policies") or []
        ],
        image_servers={**DEFAULT_IMAGE_SERVERS, **(settings.get("image_servers") or {})},
        **_given(settings, _GLOBAL_KEYS),
    )


_GLOBAL_KEYS = (
    "base_subnet",
    "default_os_image",
    "default_connection",
    "default_user",
    "gpu_policy",
    "firewall_mode",
    "ai_access_policy",
    "ai_access_default",
    "ai_vram_flush",
    "nesting_prefix",
    "shared_volumes_base",
    "persistent_data_base",
    "services_base",
)
_DOMAIN_KEYS = (
    "description",
    "enabled",
    "ephemeral",
    "trust_level",
    "ai_provider",
    "profiles",
    "consumes",
    "tor_gateway",
    "desktop",
    "target",
    "export_apps",
)
_MACHINE_KEYS = (
    "type",
    "description",
    "ip",
    "gpu",
    "profiles",
    "config",
    "devices",
    "storage_volumes",
    "roles",
    "weight",
    "boot_autostart",
    "boot_priority",
    "snapshots_schedule",
    "snapshots_expiry",
    "persistent_data",
    "checks",
    "services",
    "consumes",
    "export_apps",
    "target",
)


def _given(source: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """The keys present with a value; absent or null ones take the model's default."""
    return {k: source[k] for k in keys if source.get(k) is not None}


def _domain(name: str, dom: dict[str, Any], subnet: Subnet, prefix: str, default_image: str | None) -> Domain:
    fields = _given(dom, _DOMAIN_KEYS)
    ai_sanitize = dom.get("ai_sanitize")
    if ai_sanitize is None:
        ai_sanitize = fields.get("ai_provider", "local") != "local"
    ephemeral = fields.get("ephemeral", False)
    machines = [
        _machine(m_name, machine or {}, name, ephemeral, prefix, default_image)
        for m_name, machine in (dom.get("machines") or {}).items()
    ]
    return Domain(
        name=name,
        ai_sanitize=ai_sanitize,
        project=f"{prefix}{name}",
        network=f"{prefix}net-{name}",
        subnet=subnet.cidr,
        gateway=subnet.gateway,
        subnet_id=subnet.seq,
        machines=machines,
        **fields,
    )


def _machine(
    name: str, machine: dict[str, Any], domain: str, domain_ephemeral: bool, prefix: str, default_image: str | None
) -> Machine:
    ephemeral = machine.get("ephemeral")
    return Machine(
        name=name,
        instance_name=f"{prefix}{name}",
        domain=domain,
        ephemeral=domain_ephemeral if ephemeral is None else ephemeral,
        os_image=machine.get("os_image", default_image),
        **_given(machine, _MACHINE_KEYS),
    )
