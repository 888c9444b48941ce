"""Typed views of the Incus objects the engine reads; validated at the edge, lenient about extra keys."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


def _zero_time_is_none(value: object) -> object:
    """Incus writes "never" as Go's zero time, 0001-01-01T00:00:00Z."""
    return None if isinstance(value, str) and value.startswith("0001-01-01") else value


Timestamp = Annotated[datetime | None, BeforeValidator(_zero_time_is_none)]


def _null_is_empty(value: object) -> object:
    """An instance on a cluster member that does not answer is listed with null config, devices and profiles."""
    return {} if value is None else value


Config = Annotated[dict[str, str], BeforeValidator(_null_is_empty)]
Devices = Annotated[dict[str, dict[str, str]], BeforeValidator(_null_is_empty)]
Names = Annotated[list[str], BeforeValidator(lambda value: [] if value is None else value)]


PROTECTION_KEY = "security.protection.delete"
# Incus's own truth values (shared.IsTrue): what it reads as true in a config value, whatever the case.
TRUE_VALUES = frozenset({"true", "1", "yes", "on"})


def is_true(value: str | None) -> bool:
    """Whether Incus reads this config value as true."""
    return (value or "").strip().lower() in TRUE_VALUES


class IncusObject(BaseModel):
    # each model builds its validator when first used: a verb imports them all and uses a few (issue 17)
    model_config = ConfigDict(extra="allow", populate_by_name=True, defer_build=True)


class ServerInfo(IncusObject):
    api_version: str = ""
    api_status: str = ""
    api_extensions: list[str] = Field(default_factory=list)
    auth: str = ""
    config: dict[str, str] = Field(default_factory=dict)
    environment: dict[str, object] = Field(default_factory=dict)

    @property
    def server_version(self) -> str:
        return str(self.environment.get("server_version", ""))


class Project(IncusObject):
    name: str
    description: str = ""
    config: dict[str, str] = Field(default_factory=dict)
    used_by: list[str] = Field(default_factory=list)


class Network(IncusObject):
    name: str
    description: str = ""
    type: str = ""
    managed: bool = False
    status: str = ""
    project: str = "default"
    config: dict[str, str] = Field(default_factory=dict)
    used_by: list[str] = Field(default_factory=list)


class Profile(IncusObject):
    name: str
    description: str = ""
    project: str = "default"
    config: dict[str, str] = Field(default_factory=dict)
    devices: dict[str, dict[str, str]] = Field(default_factory=dict)
    used_by: list[str] = Field(default_factory=list)


class Instance(IncusObject):
    name: str
    project: str = "default"
    type: str = "container"
    status: str = ""
    status_code: int = 0
    description: str = ""
    config: Config = Field(default_factory=dict)
    devices: Devices = Field(default_factory=dict)
    expanded_config: Config = Field(default_factory=dict)
    expanded_devices: Devices = Field(default_factory=dict)
    profiles: Names = Field(default_factory=list)
    ephemeral: bool = False
    location: str = ""
    created_at: Timestamp = None

    @property
    def running(self) -> bool:
        return self.status == "Running"

    @property
    def unreachable(self) -> bool:
        """Listed by a cluster whose member holding it does not answer: Error, and nothing of its config known."""
        return self.status == "Error" and not self.config and not self.profiles

    @property
    def protected(self) -> bool:
        """Incus refuses to delete it: security.protection.delete true by Incus's truth values, set on the
        instance or through one of its profiles (the expanded config)."""
        return is_true(self.expanded_config.get(PROTECTION_KEY, self.config.get(PROTECTION_KEY)))

    @property
    def protection(self) -> str:
        """Where its protection comes from and how to lift it, for refusals ("" when not protected)."""
        if not self.protected:
            return ""
        unset = f"`incus config set {self.name} {PROTECTION_KEY}=false --project={self.project}`"
        if PROTECTION_KEY in self.config:
            where = f"{PROTECTION_KEY}={self.config[PROTECTION_KEY]} on the instance"
            how = f"{unset} (for a declared machine: `ephemeral: true`, then apply)"
        else:
            profiles = ", ".join(self.profiles) or "none"
            where = f"{PROTECTION_KEY}={self.expanded_config[PROTECTION_KEY]} through its profiles ({profiles})"
            how = f"unset it in that profile, or override it with {unset}"
        return f"protected ({where}): never stopped nor deleted; {how}, then run this again"


class NetworkAddress(IncusObject):
    family: str
    address: str
    netmask: str = ""
    scope: str = ""


class NetworkInterfaceState(IncusObject):
    addresses: list[NetworkAddress] = Field(default_factory=list)
    hwaddr: str = ""
    host_name: str = ""
    state: str = ""
    type: str = ""


class CpuUsage(IncusObject):
    usage: int = 0  # nanoseconds of CPU time


class MemoryUsage(IncusObject):
    usage: int = 0  # bytes
    usage_peak: int = 0
    total: int = 0


class InstanceState(IncusObject):
    status: str
    status_code: int = 0
    pid: int = 0
    processes: int = 0
    cpu: CpuUsage = Field(default_factory=CpuUsage)
    memory: MemoryUsage = Field(default_factory=MemoryUsage)
    network: dict[str, NetworkInterfaceState] | None = None

    def addresses(self, family: str = "inet", scope: str = "global") -> list[str]:
        """Addresses of one family (inet, inet6) and scope on every interface but the loopback."""
        return [
            a.address
            for name, iface in (self.network or {}).items()
            if name != "lo"
            for a in iface.addresses
            if a.family == family and (not scope or a.scope == scope)
        ]


class Snapshot(IncusObject):
    name: str
    created_at: Timestamp = None
    expires_at: Timestamp = None
    stateful: bool = False
    config: dict[str, str] = Field(default_factory=dict)
    devices: dict[str, dict[str, str]] = Field(default_factory=dict)


class InstanceWithState(Instance):
    """An instance as listed with recursion=2: its live state and its snapshots come with it (None when Incus
    gave none)."""

    state: InstanceState | None = None
    snapshots: list[Snapshot] | None = None


class ImageAliasRef(IncusObject):
    name: str
    description: str = ""


class Image(IncusObject):
    fingerprint: str
    aliases: list[ImageAliasRef] = Field(default_factory=list)
    architecture: str = ""
    type: str = ""
    size: int = 0
    public: bool = False
    auto_update: bool = False
    cached: bool = False
    properties: dict[str, str] = Field(default_factory=dict)
    project: str = "default"


class ImageAlias(IncusObject):
    name: str
    target: str  # the image fingerprint
    type: str = ""
    description: str = ""


class StorageVolume(IncusObject):
    name: str
    type: str = "custom"
    content_type: str = "filesystem"
    description: str = ""
    project: str = "default"
    location: str = ""
    config: dict[str, str] = Field(default_factory=dict)
    used_by: list[str] = Field(default_factory=list)


class ExecResult(IncusObject):
    exit_code: int
    stdout: str = ""
    stderr: str = ""

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


class InstanceFile(IncusObject):
    """A file (content) or directory (entries) read from an instance."""

    path: str
    type: str = "file"
    uid: int = 0
    gid: int = 0
    mode: int = 0o644
    content: bytes = b""
    entries: list[str] = Field(default_factory=list)
