"""The Incus objects the desired state stands for (SPEC §8.3): what plan compares and apply creates.

Pure: built from the typed `Infra` (and, for the context files, the host context); no IO.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from ...psot.constants import DHCP_RANGE, FIREWALL_MACHINES, INFRA_KEY, MANAGED_KEY
from ...psot.context import HostContext
from ...psot.model import Domain, Infra, Machine
from ..isolation.tor import dhcp_options, gateway_hwaddr, tor_gateway

Devices = dict[str, dict[str, str]]

MANAGED = {MANAGED_KEY: "true"}
PROTECTION_KEY = "security.protection.delete"
Tags = dict[str, str]
# Set on an instance once its /etc/anklume/ context files are written: a missing or different value makes
# the plan write them again (so a run killed between create and write converges on the next apply).
CONTEXT_KEY = "user.anklume.context"
PROJECT_FEATURES = {
    "features.images": "true",
    "features.profiles": "true",
    "features.storage.volumes": "true",
    "features.networks": "false",
}
NIC_FILTERING = {
    "security.mac_filtering": "true",
    "security.ipv4_filtering": "true",
    "security.ipv6_filtering": "true",
}
ROOT_DISK = {"type": "disk", "pool": "default", "path": "/"}


def tags_of(infra: Infra) -> Tags:
    """What every object apply makes or adopts carries (SPEC §8.1, §10.8): the managed tag and the infra's name."""
    return {**MANAGED, INFRA_KEY: infra.project_name}


def incus_value(value: Any) -> str:
    """Incus config values are strings; booleans are written the way Incus spells them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def incus_config(values: dict[str, Any] | None) -> dict[str, str]:
    return {str(k): incus_value(v) for k, v in (values or {}).items()}


def incus_devices(devices: dict[str, Any] | None) -> Devices:
    return {str(name): incus_config(dev) for name, dev in (devices or {}).items()}


def split_image(image: str) -> tuple[str | None, str]:
    """`images:debian/13` → ("images", "debian/13"); a local alias → (None, alias)."""
    remote, sep, alias = image.partition(":")
    return (remote, alias) if sep else (None, image)


@dataclass(frozen=True)
class ExpectedProject:
    domain: str
    name: str
    description: str
    config: dict[str, str]


@dataclass(frozen=True)
class ExpectedNetwork:
    domain: str
    name: str
    config: dict[str, str]


FIREWALL_PROFILE = "firewall-multi-nic"


@dataclass(frozen=True)
class ExpectedProfile:
    domain: str
    project: str
    name: str
    config: dict[str, str]
    devices: Devices
    tagged: bool  # the project's `default` profile exists already and is not ours to tag
    every_bridge: bool = False  # its nics name every domain's bridge: made once all bridges are


@dataclass(frozen=True)
class ExpectedImage:
    domain: str
    project: str
    image: str  # as declared: a local alias or `remote:alias`
    server: str | None = None  # the simplestreams server of its remote (None: local, or an unknown remote)

    @property
    def remote(self) -> str | None:
        return split_image(self.image)[0]

    @property
    def alias(self) -> str:
        return split_image(self.image)[1]


@dataclass(frozen=True)
class ExpectedVolume:
    domain: str
    project: str
    pool: str
    name: str
    config: dict[str, str]
    instance: str


@dataclass(frozen=True)
class ContextFiles:
    """The child's /etc/anklume/ files (SPEC §5.6)."""

    absolute_level: int
    relative_level: int
    vm_nested: bool
    yolo: bool

    def files(self) -> dict[str, str]:
        return {
            "absolute_level": f"{self.absolute_level}\n",
            "relative_level": f"{self.relative_level}\n",
            "vm_nested": f"{incus_value(self.vm_nested)}\n",
            "yolo": f"{incus_value(self.yolo)}\n",
        }

    @property
    def stamp(self) -> str:
        return " ".join(f"{k}={v.strip()}" for k, v in self.files().items())


@dataclass(frozen=True)
class ExpectedInstance:
    domain: str
    project: str
    name: str
    machine: Machine
    type: str  # "container" or "virtual-machine"
    image: str
    profiles: list[str]
    config: dict[str, str]
    devices: Devices
    image_server: str | None = None  # the simplestreams server of the image's remote prefix
    volumes: list[ExpectedVolume] = field(default_factory=list)
    context: ContextFiles | None = None
    target: str | None = None  # the cluster member or @group declared (the machine's, else its domain's)


@dataclass
class DesiredState:
    projects: list[ExpectedProject] = field(default_factory=list)
    networks: list[ExpectedNetwork] = field(default_factory=list)
    profiles: list[ExpectedProfile] = field(default_factory=list)
    images: list[ExpectedImage] = field(default_factory=list)
    instances: list[ExpectedInstance] = field(default_factory=list)
    # Every `<prefix><machine>` of every domain (disabled included): never an orphan.
    declared_instances: set[str] = field(default_factory=set)
    projects_in_scope: list[str] = field(default_factory=list)
    prefix: str = ""
    infra: str = ""  # the infra's project_name: orphans are only this infra's instances


def bridge_config(domain: Domain, tags: Tags) -> dict[str, str]:
    net = domain.subnet.rsplit(".", 1)[0]
    low, high = DHCP_RANGE
    return {
        "ipv4.address": f"{domain.gateway}/24",
        "ipv4.nat": "true",
        "ipv4.firewall": "true",
        "ipv6.address": "none",
        "ipv4.dhcp.ranges": f"{net}.{low}-{net}.{high}",
        **dhcp_options(domain),
        **tags,
    }


def eth0(domain: Domain) -> dict[str, str]:
    return {"type": "nic", "network": domain.network, "name": "eth0", **NIC_FILTERING}


def machine_config(machine: Machine, context: ContextFiles | None, tags: Tags) -> dict[str, str]:
    config = incus_config(machine.config)
    config.update(tags)
    if machine.boot_autostart is not None:
        config["boot.autostart"] = incus_value(machine.boot_autostart)
    if machine.boot_priority is not None:
        config["boot.autostart.priority"] = incus_value(machine.boot_priority)
    if machine.snapshots_schedule is not None:
        config["snapshots.schedule"] = machine.snapshots_schedule
    if machine.snapshots_expiry is not None:
        config["snapshots.expiry"] = machine.snapshots_expiry
    config[PROTECTION_KEY] = "false" if machine.ephemeral else "true"
    if context is not None:
        config[CONTEXT_KEY] = context.stamp
    return config


def profile_has_gpu(domain: Domain, names: list[str]) -> bool:
    """One of these profiles of the domain carries a `type: gpu` device."""
    for name in names:
        devices = (domain.profiles.get(name) or {}).get("devices") or {}
        if any((dev or {}).get("type") == "gpu" for dev in devices.values()):
            return True
    return False


def machine_devices(
    domain: Domain, machine: Machine, profiles: list[str], tags: Tags
) -> tuple[Devices, list[ExpectedVolume]]:
    """User devices (with the generated sv-/pd-), gpu, storage-volume disks and the static-IP eth0 override."""
    devices = incus_devices(machine.devices)
    user_gpu = "gpu" in devices or any(d.get("type") == "gpu" for d in devices.values())
    if machine.gpu and not user_gpu and not profile_has_gpu(domain, profiles):
        devices["gpu"] = {"type": "gpu"}
    volumes = []
    for name, spec in (machine.storage_volumes or {}).items():
        spec = spec or {}
        pool = incus_value(spec.get("pool") or "default")
        config = dict(tags)
        if spec.get("size") is not None:
            config["size"] = incus_value(spec["size"])
        volumes.append(ExpectedVolume(domain.name, domain.project, pool, name, config, machine.instance_name))
        disk = {"type": "disk", "pool": pool, "source": name}
        if spec.get("path"):
            disk["path"] = incus_value(spec["path"])
        devices[name] = disk
    if machine.ip:
        devices["eth0"] = {**eth0(domain), "ipv4.address": machine.ip}
        if tor_gateway(domain) is machine:
            # the bridge's DHCP tells the gateway apart by its MAC; its transparent proxy answers the clients
            # from the addresses they sent to, which Incus's IPv4 filtering would drop as spoofed
            devices["eth0"].update(hwaddr=gateway_hwaddr(domain, machine), **{"security.ipv4_filtering": "false"})
    return devices, volumes


def child_context(host: HostContext | None, is_vm: bool) -> ContextFiles:
    host = host or HostContext()
    own = host.absolute_level or 0
    own_relative = host.relative_level or 0
    return ContextFiles(
        absolute_level=own + 1,
        relative_level=0 if is_vm else own_relative + 1,
        vm_nested=bool(host.vm_nested) or is_vm,
        yolo=bool(host.yolo),
    )


def image_server(infra: Infra, image: str) -> str | None:
    """The simplestreams server of `remote:alias` (infra.yml's `global.image_servers` over the defaults)."""
    remote = split_image(image)[0]
    return None if remote is None else infra.image_servers.get(remote)


def expected_instance(
    domain: Domain, machine: Machine, host: HostContext | None, tags: Tags, server: str | None = None
) -> ExpectedInstance:
    profiles = list(machine.profiles or ["default"])
    devices, volumes = machine_devices(domain, machine, profiles, tags)
    is_vm = machine.type == "vm"
    context = child_context(host, is_vm)
    return ExpectedInstance(
        domain=domain.name,
        project=domain.project,
        name=machine.instance_name,
        machine=machine,
        type="virtual-machine" if is_vm else "container",
        image=machine.image,
        profiles=profiles,
        config=machine_config(machine, context, tags),
        devices=devices,
        image_server=server,
        volumes=volumes,
        context=context,
        target=machine.target or domain.target,
    )


def desired_state(infra: Infra, *, limit: str | None = None, host: HostContext | None = None) -> DesiredState:
    """Every object of the enabled domains (or of the one named by `limit`), in SPEC §8.3 order."""
    state = DesiredState(prefix=infra.prefix, infra=infra.project_name)
    tags = tags_of(infra)
    state.declared_instances = {m.instance_name for m in infra.machines}
    for domain in infra.enabled_domains:
        if limit is not None and domain.name != limit:
            continue
        state.projects_in_scope.append(domain.project)
        description = domain.description
        state.projects.append(ExpectedProject(domain.name, domain.project, description, {**PROJECT_FEATURES, **tags}))
        state.networks.append(ExpectedNetwork(domain.name, domain.network, bridge_config(domain, tags)))
        state.profiles.append(
            ExpectedProfile(
                domain.name, domain.project, "default", {}, {"eth0": eth0(domain), "root": ROOT_DISK}, False
            )
        )
        for name, spec in domain.profiles.items():
            spec = spec or {}
            state.profiles.append(
                ExpectedProfile(
                    domain.name,
                    domain.project,
                    name,
                    {**incus_config(spec.get("config")), **tags},
                    incus_devices(spec.get("devices")),
                    True,
                )
            )
        for image in sorted({m.image for m in domain.machines}):
            state.images.append(ExpectedImage(domain.name, domain.project, image, image_server(infra, image)))
        for machine in domain.machines:
            state.instances.append(expected_instance(domain, machine, host, tags, image_server(infra, machine.image)))
    add_firewall_profile(infra, state, limit)
    return state


def add_firewall_profile(infra: Infra, state: DesiredState, limit: str | None) -> None:
    """SPEC §8.3 step 6 (`firewall_mode: vm`): profile `firewall-multi-nic` in the firewall VM's project, a
    nic per bridge, attached to the VM after its own profiles."""
    if infra.firewall_mode != "vm":
        return
    found = [(d, m) for d in infra.enabled_domains for m in d.machines if m.name in FIREWALL_MACHINES]
    if not found or (limit is not None and found[0][0].name != limit):
        return
    from ..isolation.firewall_vm import firewall_interfaces, firewall_profile_devices  # an infra with that VM only

    domain, machine = found[0]
    devices = firewall_profile_devices(firewall_interfaces(infra))
    state.profiles.append(
        ExpectedProfile(domain.name, domain.project, FIREWALL_PROFILE, tags_of(infra), devices, True, True)
    )
    for i, inst in enumerate(state.instances):
        if inst.name == machine.instance_name and FIREWALL_PROFILE not in inst.profiles:
            state.instances[i] = replace(inst, profiles=[*inst.profiles, FIREWALL_PROFILE])
