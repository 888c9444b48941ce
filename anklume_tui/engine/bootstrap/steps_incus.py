"""Bootstrap's Incus steps: the daemon running, a `default` storage pool, the default profile's root disk.
Only what is missing is added; an existing pool, profile or device is never changed, and said."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from ...errors import Failed, Unreachable
from ..incus import IncusClient
from ..incus.errors import IncusError, IncusNotFound, IncusUnreachable
from ..incus.models import Profile
from .host_facts import BootstrapHost, incusd_installed
from .preseed import ROOT_DISK
from .step import Step, done, todo
from .steps_host import _run
from .storage_choice import StorageChoice, choose_driver, local_drivers

START_TIMEOUT = 60.0


@dataclass
class IncusState:
    """What Incus holds that bootstrap looks at; `reachable` False leaves the rest empty."""

    reachable: bool
    why: str = ""
    version: str = ""
    drivers: list[str] = field(default_factory=list)
    pools: dict[str, str] = field(default_factory=dict)  # name -> driver
    profile: Profile | None = None


async def read_incus(client: IncusClient) -> IncusState:
    try:
        info = await client.server_info()
    except (IncusUnreachable, IncusError) as exc:
        return IncusState(False, str(exc))
    pools = {}
    for name in await client.storage_pool_names():
        pools[name] = str((await client.storage_pool(name)).get("driver", "?"))
    try:
        profile: Profile | None = await client.get_profile("default")
    except IncusNotFound:
        profile = None
    return IncusState(True, "", info.server_version, local_drivers(info.environment), pools, profile)


def start_step(host: BootstrapHost, client: IncusClient, state: IncusState) -> Step:
    if state.reachable:
        return done("incus", f"Incus {state.version or '?'} answers at {client.url}")
    incusd = incusd_installed(host)
    if not host.systemd_running or not host.live_root:
        how = f"{incusd or '/usr/libexec/incus/incusd'} --group root &   then: incus admin waitready --timeout=60"
        return Step(
            "incus",
            "manual",
            f"Incus does not answer at {client.url} ({state.why}) and systemd does not run here: start it yourself "
            f"({how}), then run bootstrap again",
        )
    command = ["systemctl", "enable", "--now", "incus.socket", "incus.service"]

    async def start() -> str:
        await _run(host, command)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            try:
                await client.server_info()
                return f"Incus started (systemd: incus.socket, incus.service) and answers at {client.url}"
            except (IncusUnreachable, IncusError):
                await asyncio.sleep(0.5)
        raise Unreachable(f"started with systemctl, but no answer at {client.url} after {START_TIMEOUT:.0f} s")

    return todo("incus", "start Incus now and at boot", " ".join(command), start)


def pool_step(client: IncusClient, state: IncusState, choice: StorageChoice, asked: str = "auto") -> Step:
    if "default" in state.pools:
        kept = f"storage pool 'default' exists ({state.pools['default']})"
        if asked != "auto" and state.pools["default"] != asked:
            return Step("storage-pool", "left", f"{kept}: left as it is, --storage {asked} not applied")
        return done("storage-pool", kept)
    if choice.driver is None:
        return Step("storage-pool", "refused", f"no storage pool 'default': {choice.why}")
    driver = choice.driver
    others = f" (the other pools are kept: {', '.join(sorted(state.pools))})" if state.pools else ""

    async def create() -> str:
        try:
            await client.create_storage_pool("default", driver)
        except IncusError as exc:
            raise Failed(f"creating storage pool 'default' ({driver}) failed: {exc}") from exc
        return f"storage pool 'default' created ({driver})"

    return todo(
        "storage-pool",
        f"create storage pool 'default': {choice.why}{others}",
        f"incus storage create default {driver}",
        create,
    )


def _root_disks(profile: Profile) -> list[dict[str, str]]:
    return [dict(d) for d in profile.devices.values() if d.get("type") == "disk" and d.get("path") == "/"]


def profile_step(client: IncusClient, state: IncusState, pool_coming: bool) -> Step:
    profile = state.profile
    if profile is None:
        return Step("default-profile", "manual", "Incus has no default profile: it is made by Incus itself; restart it")
    roots = _root_disks(profile)
    if roots:
        return done("default-profile", f"the default profile has a root disk on pool '{roots[0].get('pool', '?')}'")
    if "root" in profile.devices:
        return Step(
            "default-profile",
            "left",
            "the default profile has a device named 'root' that is not a root disk: left as it is; "
            "add a disk with path / yourself",
        )
    if "default" not in state.pools and not pool_coming:
        return Step("default-profile", "manual", "no root disk: it needs the 'default' pool first (see storage-pool)")

    async def add() -> str:
        current = await client.get_profile("default")
        if _root_disks(current):
            return "the default profile got a root disk meanwhile: left as it is"
        devices = {name: dict(d) for name, d in current.devices.items()}
        devices["root"] = dict(ROOT_DISK)
        await client.update_profile("default", config=current.config, devices=devices, description=current.description)
        return "the default profile has a root disk on pool 'default' (its other devices kept)"

    return todo(
        "default-profile",
        "give the default profile a root disk on pool 'default'",
        "incus profile device add default root disk path=/ pool=default",
        add,
    )


def supported_choice(asked: str, mode: str, state: IncusState) -> StorageChoice:
    return choose_driver(asked, mode, state.drivers)
