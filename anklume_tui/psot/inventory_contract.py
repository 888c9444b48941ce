"""The versioned contract of the generated Ansible tree: the variables of its managed sections (SPEC §7.2).

Consumers (playbooks, roles, outside tools) read `anklume_inventory_version` from `group_vars/all.yml` and rely
on the keys below for that version; the JSON Schema of `InventoryVars` ships as `schemas/inventory.json`
(scripts/write-schemas.py). A key renamed, removed or given another meaning bumps the version; a key added
with a default does not.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

INVENTORY_VERSION = 1


class _Section(BaseModel):
    # The managed section holds exactly these keys; the user's own variables live below it, outside the contract.
    model_config = ConfigDict(extra="forbid")


class NetworkPolicyVars(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    description: str | None = None
    from_: str = Field(alias="from")
    to: str
    ports: list[int] | Literal["all"] | None = None
    protocol: Literal["tcp", "udp"] | None = None
    bidirectional: bool | None = None


class AllVars(_Section):
    """`group_vars/all.yml`: written always, even with no domains."""

    anklume_inventory_version: Literal[1] = Field(description="The version of this contract (an integer).")
    project_name: str
    addressing: dict[str, Any] | None = None
    base_subnet: str | None = None
    default_os_image: str | None = None
    psot_default_connection: str | None = None
    psot_default_user: str | None = None
    incus_all_images: list[str] | None = Field(default=None, min_length=1)
    network_policies: list[NetworkPolicyVars] | None = Field(default=None, min_length=1)


class NetworkVars(_Section):
    name: str
    subnet: str
    gateway: str


class GroupVars(_Section):
    """`group_vars/<domain>.yml`, one per enabled domain."""

    domain_name: str
    domain_description: str
    domain_ephemeral: bool
    domain_trust_level: str | None = None
    domain_ai_provider: Literal["local", "cloud", "local-first"]
    domain_ai_sanitize: bool | Literal["always"]
    incus_project: str
    incus_network: NetworkVars
    subnet_id: int
    incus_profiles: dict[str, Any] | None = None


class HostVars(_Section):
    """`host_vars/<machine>.yml`, one per machine of an enabled domain."""

    instance_name: str
    instance_type: Literal["lxc", "vm"]
    instance_description: str
    instance_domain: str
    instance_ephemeral: bool
    instance_os_image: str | None = None
    instance_ip: str | None = None
    instance_gpu: bool | None = None
    instance_profiles: list[str] | None = None
    instance_config: dict[str, Any] | None = None
    instance_devices: dict[str, Any] | None = None
    instance_storage_volumes: dict[str, Any] | None = None
    instance_roles: list[Any] | None = None
    instance_boot_autostart: bool | None = None
    instance_boot_priority: int | None = None
    instance_snapshots_schedule: str | None = None
    instance_snapshots_expiry: str | None = None


class InventoryHost(_Section):
    ansible_host: str


class InventoryGroup(_Section):
    hosts: dict[str, InventoryHost | None] | None


class InventoryFile(_Section):
    """`inventory/<domain>.yml`: the domain's group and its hosts."""

    all: dict[Literal["children"], dict[str, InventoryGroup]]


class InventoryVars(_Section):
    """The variables of a whole generated tree, keyed as its files are: `all` (group_vars/all.yml), `groups`
    (group_vars/<domain>.yml), `hosts` (host_vars/<machine>.yml), `inventories` (inventory/<domain>.yml)."""

    all: AllVars
    groups: dict[str, GroupVars] = Field(default_factory=dict)
    hosts: dict[str, HostVars] = Field(default_factory=dict)
    inventories: dict[str, InventoryFile] = Field(default_factory=dict)
