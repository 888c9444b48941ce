"""`import-infra` (SPEC §10.9): a best-effort infra file written from what Incus holds, for review.

Each project of this host's nesting prefix (but `default`) that holds instances or carries the managed tag
becomes a domain; its bridge's address gives the subnet. When the subnets span several zones of the default
trust-zone plan (10.100/110/120/140/150), the file uses trust-zone addressing and gets each trust level back
from the zone; otherwise legacy `base_subnet` + `subnet_id`. Machines get type, static IP (the eth0
override), profiles, declared-looking config keys, devices, protection (ephemeral = not protected) and the
image alias they were created from. Trust levels in legacy mode, roles, shared volumes and persistent data
are not stored in Incus: they are not recovered (the header says so).
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from dataclasses import dataclass, field

from ...psot.constants import INFRA_KEY, MANAGED_KEY, NAME_RE, ZONE_MULTIPLIER
from ...psot.yaml_emit import emit
from ..incus.client import IncusClient
from ..incus.models import PROTECTION_KEY, Instance, Network, is_true
from .desired import FIREWALL_PROFILE
from .real_state import RealState, read_state

CONFIG_PREFIXES = ("limits.", "security.", "boot.", "snapshots.")
OWN_FIELDS = {  # instance config keys that have a machine field of their own
    "boot.autostart": "boot_autostart",
    "boot.autostart.priority": "boot_priority",
    "snapshots.schedule": "snapshots_schedule",
    "snapshots.expiry": "snapshots_expiry",
}
NOT_IMPORTED = {PROTECTION_KEY, MANAGED_KEY, INFRA_KEY}
GENERATED_PROFILES = {"default", FIREWALL_PROFILE}
ZONE_TRUST = {100 + 10 * step: trust for trust, step in ZONE_MULTIPLIER.items()}  # default zone_base and step
NIC_KEYS = {
    "type",
    "network",
    "name",
    "ipv4.address",
    "security.mac_filtering",
    "security.ipv4_filtering",
    "security.ipv6_filtering",
}


@dataclass
class ImportedInfra:
    data: dict
    notes: list[str] = field(default_factory=list)

    @property
    def domains(self) -> list[str]:
        return list(self.data["domains"])

    @property
    def machines(self) -> list[str]:
        return [m for d in self.data["domains"].values() for m in d.get("machines") or {}]

    def text(self, source: str) -> str:
        header = [
            f"# Imported from Incus ({source}) by `anklume-tui --batch import-infra`.",
            "# Best effort: REVIEW every value before sync or apply. Incus does not hold trust levels",
            "# (legacy addressing), roles, shared volumes or persistent data: they are not recovered.",
        ]
        if self.notes:
            header.append("# Review notes:")
            header += [f"#   - {note}" for note in self.notes]
        return "\n".join(header) + "\n---\n" + emit(self.data)


async def import_infra(client: IncusClient, prefix: str = "") -> ImportedInfra:
    """Read projects, bridges, instances, profiles and images (a few requests) and build the infra."""
    real = await read_state(client, projects=None)
    return build_infra(real, prefix)


@dataclass
class _Found:
    domain: str
    project: str
    network: ipaddress.IPv4Network
    gateway: ipaddress.IPv4Address


def build_infra(real: RealState, prefix: str = "") -> ImportedInfra:
    """The infra mapping for what `real` holds (pure)."""
    notes: list[str] = []
    found = [f for p in sorted(real.projects) if (f := _domain_source(real, p, prefix, notes)) is not None]
    zone_mode, base = _addressing(found)
    settings: dict = {"addressing": {}} if zone_mode else {"base_subnet": base}
    domains: dict = {}
    seen_machines: set[str] = set()
    for source in found:
        net = source.network.network_address.packed
        if not zone_mode and f"{net[0]}.{net[1]}" != base:
            notes.append(f"project {source.project}: subnet {source.network} is outside base_subnet {base}: left out")
            continue
        if int(source.gateway) - int(source.network.network_address) != 254:
            notes.append(f"domain {source.domain}: gateway {source.gateway} is not .254: apply would change it")
        domain: dict = {}
        description = real.projects[source.project].description
        if description:
            domain["description"] = description
        if zone_mode:
            domain["trust_level"] = ZONE_TRUST[net[1]]
        domain["subnet_id"] = net[2]
        profiles = _profiles(real, source.project)
        if profiles:
            domain["profiles"] = profiles
        machines = {}
        for instance in sorted((i for (p, _), i in real.instances.items() if p == source.project), key=_by_name):
            machine = _machine(instance, real, source, prefix, seen_machines, notes)
            if machine is not None:
                machines[instance.name.removeprefix(prefix)] = machine
        domain["machines"] = machines or None
        domains[source.domain] = domain
    data = {"project_name": _infra_name(real, found, domains, notes), "global": settings, "domains": domains}
    return ImportedInfra(data=data, notes=notes)


def _infra_name(real: RealState, found: list[_Found], domains: dict, notes: list[str]) -> str:
    """The infra the imported projects are tagged with (`user.anklume.infra`), so that apply of the imported
    file recognises them as its own; "imported" when none or several."""
    owners = sorted(
        {owner for f in found if f.domain in domains and (owner := real.projects[f.project].config.get(INFRA_KEY))}
    )
    if len(owners) == 1:
        return owners[0]
    if owners:
        notes.append(
            f"projects of several infras ({', '.join(owners)}): project_name 'imported' is none of them, so apply "
            "of this file reports their objects as another infra's (conflicts)"
        )
    return "imported"


def _by_name(instance: Instance) -> str:
    return instance.name


def _domain_source(real: RealState, project: str, prefix: str, notes: list[str]) -> _Found | None:
    if project == "default" or not project.startswith(prefix):
        return None
    has_instances = any(p == project for p, _ in real.instances)
    if not has_instances and real.projects[project].config.get(MANAGED_KEY) != "true":
        return None
    name = project.removeprefix(prefix)
    if not NAME_RE.match(name):
        notes.append(f"project {project}: {name!r} is not a valid domain name: left out")
        return None
    network = _bridge(real, project, prefix, name)
    address = (network.config.get("ipv4.address") or "") if network is not None else ""
    try:
        interface = ipaddress.IPv4Interface(address)
    except ValueError:
        notes.append(f"project {project}: no bridge with an IPv4 address found: left out")
        return None
    if interface.network.prefixlen != 24:
        notes.append(f"project {project}: bridge subnet {interface.network} is not a /24: left out")
        return None
    return _Found(name, project, interface.network, interface.ip)


def _bridge(real: RealState, project: str, prefix: str, domain: str) -> Network | None:
    """The network of the project's default-profile eth0, else `<prefix>net-<domain>`."""
    profile = real.profile(project, "default")
    name = ((profile.devices.get("eth0") or {}).get("network") if profile else None) or f"{prefix}net-{domain}"
    return real.networks.get(name)


def _addressing(found: list[_Found]) -> tuple[bool, str]:
    """(trust-zone mode, legacy base_subnet). Zone mode only when it says more than legacy could: the
    subnets fit the default zone plan and span more than one zone."""
    octets = [f.network.network_address.packed for f in found]
    zones = {o[1] for o in octets}
    if octets and all(o[0] == 10 and o[1] in ZONE_TRUST for o in octets) and len(zones) > 1:
        return True, ""
    bases = Counter(f"{o[0]}.{o[1]}" for o in octets)
    return False, bases.most_common(1)[0][0] if bases else "10.100"


def _profiles(real: RealState, project: str) -> dict:
    if real.projects[project].config.get("features.profiles") != "true":
        return {}
    profiles = {}
    for (p, name), profile in sorted(real.profiles.items()):
        if p != project or name in GENERATED_PROFILES:
            continue
        entry: dict = {}
        config = {k: v for k, v in profile.config.items() if k not in (MANAGED_KEY, INFRA_KEY)}
        if profile.devices:
            entry["devices"] = profile.devices
        if config:
            entry["config"] = config
        profiles[name] = entry
    return profiles


def _machine(
    instance: Instance, real: RealState, source: _Found, prefix: str, seen: set[str], notes: list[str]
) -> dict | None:
    where = f"instance {source.project}/{instance.name}"
    if instance.ephemeral:
        notes.append(f"{where}: Incus-ephemeral (a disposable?): left out")
        return None
    name = instance.name.removeprefix(prefix)
    if not instance.name.startswith(prefix) or not NAME_RE.match(name) or name in seen:
        notes.append(f"{where}: name without the prefix {prefix!r}, invalid or already used: left out")
        return None
    seen.add(name)
    machine: dict = {}
    if instance.description:
        machine["description"] = instance.description
    machine["type"] = "vm" if instance.type == "virtual-machine" else "lxc"
    devices = dict(instance.devices)
    eth0 = devices.get("eth0") or {}
    if eth0.get("ipv4.address"):
        ip = eth0["ipv4.address"]
        if _inside(ip, source.network):
            machine["ip"] = ip
            if set(eth0) - NIC_KEYS:
                notes.append(f"{where}: eth0 keys {sorted(set(eth0) - NIC_KEYS)} are not carried over")
            del devices["eth0"]
        else:
            notes.append(f"{where}: eth0 address {ip} is outside {source.network}: not imported")
    if not is_true(instance.config.get(PROTECTION_KEY)):
        machine["ephemeral"] = True
    if devices.get("gpu") == {"type": "gpu"}:
        machine["gpu"] = True
        del devices["gpu"]
    if instance.profiles != ["default"]:
        machine["profiles"] = list(instance.profiles)
    image = _image_alias(instance, real, source.project)
    if image:
        machine["os_image"] = image
    else:
        described = " ".join(v for k in ("image.os", "image.release") if (v := instance.config.get(k)))
        notes.append(f"{where}: its image{f' ({described})' if described else ''} has no local alias: set os_image")
    config, own = _config(instance)
    if config:
        machine["config"] = config
    volumes = {n: d for n, d in devices.items() if d.get("type") == "disk" and d.get("pool") and d.get("source") == n}
    user_devices = {n: d for n, d in devices.items() if n not in volumes}
    if user_devices:
        machine["devices"] = user_devices
    if volumes:
        machine["storage_volumes"] = {
            n: {k: v for k, v in (("pool", d["pool"]), ("path", d.get("path"))) if v} for n, d in volumes.items()
        }
    machine.update(own)
    return machine


def _inside(address: str, network: ipaddress.IPv4Network) -> bool:
    try:
        return ipaddress.IPv4Address(address) in network
    except ValueError:
        return False


def _config(instance: Instance) -> tuple[dict, dict]:
    """(declared-looking config keys, the machine fields some keys map to)."""
    config: dict = {}
    own: dict = {}
    for key, value in sorted(instance.config.items()):
        if key in NOT_IMPORTED or not key.startswith(CONFIG_PREFIXES):
            continue
        field_name = OWN_FIELDS.get(key)
        if field_name == "boot_autostart" and value in ("true", "false"):
            own[field_name] = value == "true"
        elif field_name == "boot_priority" and value.isdigit():
            own[field_name] = int(value)
        elif field_name in ("snapshots_schedule", "snapshots_expiry"):
            own[field_name] = value
        else:
            config[key] = value
    return config, {k: own[k] for k in OWN_FIELDS.values() if k in own}


def _image_alias(instance: Instance, real: RealState, project: str) -> str | None:
    fingerprint = instance.config.get("volatile.base_image")
    if not fingerprint:
        return None
    for where in (project, "default"):
        for image in real.images.get(where, []):
            if image.fingerprint == fingerprint and image.aliases:
                return image.aliases[0].name
    return None
