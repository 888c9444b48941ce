"""Address changes in an order Incus accepts (SPEC §5.1 Stability).

Incus refuses a nic address another nic of the bridge holds ("already defined on another NIC"), so the nic
updates of one domain run before its instances' other changes, one at a time, each to an address nobody holds;
a swap or a rotation goes through a free temporary address. An implicit move (W9) is planned as `renumber`.
"""

from __future__ import annotations

import asyncio
import ipaddress

from ...psot.constants import AUTO_IP_MAX
from ...psot.model import Infra
from ..incus.client import IncusClient
from ..incus.errors import IncusError
from .plan_models import Action

Step = tuple[str, str]  # (instance, the address it takes)
LEASE_TRIES = 60
LEASE_STEP = 0.25


def mark_renumbers(infra: Infra, actions: list[Action]) -> list[Action]:
    """The actions carrying a W9 move become `renumber`: a moved domain's bridge and instances, a moved
    machine's instance."""
    domains = {r.domain for r in infra.renumbers if r.machine is None}
    machines = {r.machine for r in infra.renumbers if r.machine is not None}
    instances = {m.instance_name for d in infra.domains for m in d.machines if d.name in domains or m.name in machines}
    marked = []
    for action in actions:
        moved = (action.kind == "network" and action.domain in domains) or (
            action.kind == "instance" and action.name in instances
        )
        if moved and action.op == "update":
            action = action.model_copy(update={"op": "renumber", "detail": f"{action.detail} (W9)"})
        marked.append(action)
    return marked


def address_steps(current: dict[str, str | None], targets: dict[str, str]) -> list[Step]:
    """Patches that take each instance of `targets` to its address, never onto one another instance holds:
    what can move moves; a cycle (a swap, a rotation) parks one instance on a free address first. An address
    held by an instance that is not moving is left for Incus to refuse."""
    current = dict(current)
    held = {ip: name for name, ip in current.items() if ip}
    pending = {name: ip for name, ip in targets.items() if current.get(name) != ip}
    steps: list[Step] = []
    while pending:
        moved = False
        for name, ip in list(pending.items()):
            holder = held.get(ip)
            if holder is None or holder == name:
                _take(current, held, name, ip)
                steps.append((name, ip))
                del pending[name]
                moved = True
        if moved:
            continue
        parked = next((n for n, ip in pending.items() if held.get(ip) in pending and current.get(n)), None)
        temp = _free(held, targets, next(iter(pending.values())))
        if parked is None or temp is None:
            break
        _take(current, held, parked, temp)
        steps.append((parked, temp))
    return steps


def _take(current: dict, held: dict, name: str, ip: str) -> None:
    if current.get(name):
        held.pop(current[name], None)
    held[ip] = name
    current[name] = ip


def _free(held: dict, targets: dict, near: str) -> str | None:
    try:
        network = ipaddress.IPv4Network(f"{near}/24", strict=False)
    except ValueError:
        return None
    wanted = set(targets.values())
    for host in range(AUTO_IP_MAX, 0, -1):
        ip = str(network.network_address + host)
        if ip not in held and ip not in wanted:
            return ip
    return None


def address_targets(actions: list[Action]) -> dict[str, dict[str, str]]:
    """Per project, instance → the eth0 address its update gives it."""
    found: dict[str, dict[str, str]] = {}
    for action in actions:
        eth0 = (action.changes.get("devices") or {}).get("eth0") or {}
        if action.kind == "instance" and not action.changes.get("create") and eth0.get("ipv4.address"):
            found.setdefault(action.project, {})[action.name] = eth0["ipv4.address"]
    return found


async def readdress(client: IncusClient, actions: list[Action]) -> None:
    """Give the instances of these actions their new eth0 address ahead of their other changes. A refusal
    is left to the instance's own update, which fails naming it."""
    for project, targets in address_targets(actions).items():
        try:
            instances = {i.name: i for i in await client.list_instances(project=project)}
            eth0s = {n: i.devices.get("eth0") or i.expanded_devices.get("eth0") or {} for n, i in instances.items()}
            networks = {eth0s[n].get("network") for n in targets if n in eth0s}
            current = {n: e.get("ipv4.address") for n, e in eth0s.items() if e.get("network") in networks}
            for name, ip in address_steps(current, {n: ip for n, ip in targets.items() if n in eth0s}):
                eth0 = {**eth0s[name], "ipv4.address": ip}
                await client.patch_instance(name, devices={"eth0": eth0}, project=project)
        except IncusError:
            continue


async def release(client: IncusClient, bridges: list[Action], actions: list[Action]) -> None:
    """Before these bridges move to another subnet (`renumber`), the instances of their domains on them let go
    of their static address: Incus checks a nic's address against its bridge's subnet on every update of the
    nic, the old one too, so once the bridge moved neither the old address nor the new one could be set.
    Their updates then give them their new address and restart them. Raises IncusError: the bridge must then
    not move (its domain stays whole in the old subnet, and a re-run does the same again)."""
    for bridge in bridges:
        projects = {a.project for a in actions if a.kind == "instance" and a.domain == bridge.domain}
        for project in sorted(projects):
            for instance in await client.list_instances(project=project):
                eth0 = instance.devices.get("eth0") or instance.expanded_devices.get("eth0") or {}
                if eth0.get("network") == bridge.name and eth0.get("ipv4.address"):
                    loose = {k: v for k, v in eth0.items() if k != "ipv4.address"}
                    await client.patch_instance(instance.name, devices={"eth0": loose}, project=project)


async def _leased(client: IncusClient, name: str, project: str, tries: int = LEASE_TRIES) -> str | None:
    """The instance's IPv4 address once it has one (None: stopped, or no lease after `tries`)."""
    for _ in range(tries):
        state = await client.instance_state(name, project=project)
        if state.status != "Running":
            return None
        found = [a for a in state.addresses("inet") if not a.startswith("127.")]
        if found:
            return found[0]
        await asyncio.sleep(LEASE_STEP)
    return None


async def settle(client: IncusClient, targets: dict[str, dict[str, str]], rounds: int = 3) -> list[str]:
    """Running instances whose address changed hold it live. The DHCP server keeps an instance's old lease
    until it asks again, so one restarted while another still leases its new address gets a dynamic one;
    once the others moved, a restart gives it its own. Returns `project/instance` still on another address."""
    wrong: list[tuple[str, str]] = []
    for _ in range(rounds):
        wrong = []
        for project, names in targets.items():
            for name, ip in names.items():
                got = await _leased(client, name, project)
                if got is not None and got != ip:
                    wrong.append((project, name))
        if not wrong:
            return []
        for project, name in wrong:
            await client.change_state(name, "restart", timeout=30, project=project)
            await _leased(client, name, project)
    return [f"{p}/{n}" for p, n in wrong]
