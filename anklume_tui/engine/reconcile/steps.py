"""How apply carries out one action (SPEC §8.3): create or correct, tolerant of objects that already
exist (a race, or a previous run killed half-way), tagging what it creates."""

from __future__ import annotations

import asyncio
import contextlib
import os
from typing import Any

from ...errors import Failed
from ...printable import printable
from ...psot.constants import MANAGED_KEY
from ...psot.enrich_services import SERVICE_DEVICE_PREFIX
from ...psot.file_portal import PORTAL_DEVICE
from ..incus.client import IncusClient
from ..incus.cluster import MoveFailed, MoveRefused
from ..incus.errors import IncusError, IncusNotFound, IncusUnreachable
from .desired import split_image
from .placement import on_member
from .plan_models import Action

WAIT_TRIES = {"container": 30, "virtual-machine": 60}
WAIT_STEP = 2.0
AGENT_TRIES = 30
# Writes each file given as a (name, content) pair of arguments into /etc/anklume/, through a temporary
# file renamed over the old one: a reader never sees half a file.
CONTEXT_SCRIPT = """set -e
umask 022
mkdir -p /etc/anklume
while [ "$#" -gt 1 ]; do
  printf '%s' "$2" > "/etc/anklume/.$1.new"
  mv -f "/etc/anklume/.$1.new" "/etc/anklume/$1"
  shift 2
done"""
BUSY_TRIES = 120
BUSY_STEP = 0.5


class StepFailed(Failed):
    """An action could not be carried out; the message says what and why, naming the object."""


def already_exists(exc: IncusError) -> bool:
    return exc.status == 409 or "already exists" in exc.message.lower()


def image_unavailable_message(image: str) -> str:
    return f"image {image!r} is not in the local cache and no image server is reachable; import it or use a local alias"


async def run_action(client: IncusClient, action: Action) -> None:
    """Carry out one action; IncusUnreachable propagates, other failures become StepFailed."""
    if action.op == "conflict":  # another infra's object, or an instance of another type: never touched
        raise StepFailed(f"{action.target}: {action.detail}")
    handler = _HANDLERS[action.kind]
    for attempt in range(BUSY_TRIES):
        try:
            await handler(client, action)
            return
        except (StepFailed, IncusUnreachable):
            raise
        except IncusError as exc:
            # An operation started by a run that was killed may still hold the object: wait for it.
            if "is busy" in exc.message and attempt + 1 < BUSY_TRIES:
                await asyncio.sleep(BUSY_STEP)
                continue
            raise StepFailed(f"{action.op} {action.target}{on_member(action)}: {exc}") from None


async def _project(client: IncusClient, a: Action) -> None:
    config, description = a.changes.get("config", {}), a.changes.get("description")
    if a.op == "create":
        try:
            await client.create_project(a.name, config=config, description=description or "")
            return
        except IncusError as exc:
            if not already_exists(exc):
                raise
    await client.patch_project(a.name, config=config, description=description)


async def _network(client: IncusClient, a: Action) -> None:
    config = a.changes.get("config", {})
    if a.changes.get("recreate"):
        # A bridge whose create was cut short stays Pending (a record, no bridge) until deleted.
        have = await client.get_network(a.name)
        if have.config.get(MANAGED_KEY) != "true":
            raise StepFailed(f"{a.target} is Pending and not tagged {MANAGED_KEY}=true: delete or fix it by hand")
        await client.delete_network(a.name)
    if a.op == "create":
        try:
            await client.create_network(a.name, config=config, members=a.changes.get("members") or ())
            return
        except IncusError as exc:
            if not already_exists(exc):
                raise
    await client.patch_network(a.name, config=config)


async def _profile(client: IncusClient, a: Action) -> None:
    config, devices = a.changes.get("config", {}), a.changes.get("devices", {})
    if a.op == "create":
        try:
            await client.create_profile(a.name, config=config, devices=devices, project=a.project)
            return
        except IncusError as exc:
            if not already_exists(exc):
                raise
    await client.patch_profile(a.name, config=config or None, devices=devices or None, project=a.project)


async def _image(client: IncusClient, a: Action) -> None:
    if a.op == "missing":
        raise StepFailed(f"image {a.name!r} for project {a.project}: {a.detail}")
    if a.op == "copy":
        try:
            await client.copy_image_from_project(
                a.changes["fingerprint"], a.changes["source_project"], aliases=[a.changes["alias"]], project=a.project
            )
        except IncusError as exc:
            if not already_exists(exc):
                raise
        return
    try:
        await client.download_image(
            a.changes["server"], a.changes["alias"], protocol=a.changes["protocol"], project=a.project
        )
    except IncusUnreachable:
        raise
    except IncusError as exc:
        raise StepFailed(f"{image_unavailable_message(a.name)} ({exc.message})") from None


async def _volume(client: IncusClient, a: Action) -> None:
    pool, config = a.changes["pool"], a.changes.get("config", {})
    if a.op == "create":
        try:
            await client.create_storage_volume(pool, a.name, config=config, project=a.project)
            return
        except IncusError as exc:
            if not already_exists(exc):
                raise
    await client.patch_storage_volume(pool, a.name, config=config, project=a.project)


def _image_source(image: str, server: str | None) -> dict[str, Any]:
    remote, alias = split_image(image)
    if remote is None:
        return {"type": "image", "alias": alias}
    if server is None:
        raise StepFailed(f"image {image!r}: unknown image server {remote!r} (declare it under global.image_servers)")
    return {
        "type": "image",
        "mode": "pull",
        "server": server,
        "protocol": "simplestreams",
        "alias": alias,
    }


def make_host_dirs(devices: dict[str, dict[str, str]]) -> None:
    """Shared-volume and persistent-data sources must exist on the host before they are attached, and the
    folder of a service's relay socket (`svc-*` proxy listening on the host), private to root. A file portal's
    missing folder is made 0700 (one that exists is the user's: left as it is)."""
    for name, dev in devices.items():
        source = dev.get("source", "")
        if name == PORTAL_DEVICE and dev.get("type") == "disk" and source.startswith("/"):
            with contextlib.suppress(OSError):
                os.makedirs(source, mode=0o700, exist_ok=True)
        if dev.get("type") == "disk" and name.startswith(("sv-", "pd-")) and source.startswith("/"):
            with contextlib.suppress(OSError):
                os.makedirs(source, exist_ok=True)
        listen = dev.get("listen", "")
        if dev.get("type") == "proxy" and name.startswith(SERVICE_DEVICE_PREFIX) and dev.get("bind") == "host":
            folder = os.path.dirname(listen.removeprefix("unix:"))
            if listen.startswith("unix:/") and folder != "/":
                with contextlib.suppress(OSError):
                    os.makedirs(folder, mode=0o700, exist_ok=True)
                    os.chmod(folder, 0o700)


async def remove_devices(client: IncusClient, a: Action, names: list[str]) -> None:
    """Incus has no per-device delete: write the instance back without them (as `incus config device remove`)."""
    inst = await client.get_instance(a.name, project=a.project)
    await client.update_instance(
        a.name,
        config=inst.config,
        devices={k: v for k, v in inst.devices.items() if k not in names},
        profiles=inst.profiles,
        ephemeral=inst.ephemeral,
        description=inst.description,
        project=a.project,
    )


async def _instance(client: IncusClient, a: Action) -> None:
    c = a.changes
    if a.op == "delete":
        await _prune(client, a)
        return
    if a.op == "move":
        await _move(client, a)
        return
    make_host_dirs(c.get("devices") or {})
    kind = c.get("type", "container")
    started = False
    if c.get("create"):
        started = await _create(client, a)
    elif any(k in c for k in ("profiles", "config", "devices")):
        await client.patch_instance(
            a.name, profiles=c.get("profiles"), config=c.get("config"), devices=c.get("devices"), project=a.project
        )
    if c.get("remove_devices"):
        await remove_devices(client, a, c["remove_devices"])
    if c.get("restart"):
        await client.change_state(a.name, "restart", timeout=30, project=a.project)
    elif c.get("start") and not started:
        await _start(client, a)
    # A container's start operation ends once it runs; a VM also needs its agent, so it is waited for.
    if c.get("restart") or (c.get("start") and kind != "container"):
        await wait_running(client, a, kind)
        if kind != "container":
            await wait_agent(client, a)
    if c.get("context"):
        await write_context(client, a, c["context"])


async def _move(client: IncusClient, a: Action) -> None:
    """Back onto its declared member: engine.incus's move (stop, move, start again; started again where it was
    when the move fails)."""
    try:
        await client.move_instance(a.project, a.name, target_member=a.changes["target"])
    except (MoveRefused, MoveFailed) as exc:
        raise StepFailed(str(exc)) from None


async def _prune(client: IncusClient, a: Action) -> None:
    """Delete an orphan, read again first: one protected since the plan (by Incus's truth values, through a
    profile too) is neither stopped nor deleted."""
    instance = await client.get_instance(a.name, project=a.project)
    if instance.protected:
        raise StepFailed(f"{a.target} is {instance.protection}")
    try:
        if instance.running or instance.status == "Frozen":
            await client.change_state(a.name, "stop", force=True, project=a.project)
        await client.delete_instance(a.name, project=a.project)
    except IncusNotFound:
        pass  # an Incus-ephemeral instance is gone once stopped


async def _create(client: IncusClient, a: Action) -> bool:
    """Create the instance, started in the same operation when the action starts it; True when it was."""
    c = a.changes
    machine_kind = "virtual machine" if c["type"] == "virtual-machine" else "container"
    try:
        await client.create_instance(
            a.name,
            source=_image_source(c["image"], c.get("image_server")),
            type=c["type"],
            profiles=c["profiles"],
            config=c["config"],
            devices=c["devices"],
            start=bool(c.get("start")),
            timeout=600,
            project=a.project,
            target=c.get("target"),
        )
        return bool(c.get("start"))
    except IncusUnreachable:
        raise
    except IncusError as exc:
        if not already_exists(exc):
            raise StepFailed(
                f"create {machine_kind} {a.project}/{a.name} (machine {c['machine']!r}, image {c['image']})"
                f"{on_member(a)}: {exc}"
            ) from None
        # Created by a previous (killed) run or a concurrent one: bring it to what is declared.
        await client.patch_instance(
            a.name, profiles=c["profiles"], config=c["config"], devices=c["devices"], project=a.project
        )
        return False


async def _start(client: IncusClient, a: Action) -> None:
    try:
        await client.change_state(a.name, "start", timeout=30, project=a.project)
    except IncusUnreachable:
        raise
    except IncusError as exc:
        if "already running" not in exc.message.lower():
            raise


async def wait_running(client: IncusClient, a: Action, kind: str) -> None:
    tries = WAIT_TRIES.get(kind, 30)
    for attempt in range(tries):
        inst = await client.get_instance(a.name, project=a.project)
        if inst.running:
            return
        await asyncio.sleep(0.2 if attempt < 5 else WAIT_STEP)
    raise StepFailed(f"{a.target} is not Running after {tries} tries (status {inst.status})")


async def wait_agent(client: IncusClient, a: Action) -> None:
    """Until the VM's agent runs a command (`true`), AGENT_TRIES tries WAIT_STEP apart."""
    for _ in range(AGENT_TRIES):
        try:
            if (await client.exec(a.name, ["true"], output=False, timeout=30, project=a.project)).ok:
                return
        except IncusUnreachable:
            raise
        except IncusError:
            pass  # "VM agent isn't currently running"
        await asyncio.sleep(WAIT_STEP)
    raise StepFailed(f"{a.target}: its VM agent did not run a command after {AGENT_TRIES} tries")


async def write_context(client: IncusClient, a: Action, context: dict[str, Any]) -> None:
    """/etc/anklume/{absolute_level,relative_level,vm_nested,yolo} (SPEC §5.6), written by one command in
    the running instance (a shell script, not the files API: no file-helper process per instance, and
    no Incus file-helper race). Apply records them on the project once it has written them all
    (context_record.py)."""
    args = [arg for name, text in context["files"].items() for arg in (name, text)]
    command = ["sh", "-c", CONTEXT_SCRIPT, "sh", *args]
    if not (await client.exec(a.name, command, output=False, timeout=60, project=a.project)).ok:
        failed = await client.exec(a.name, command, timeout=60, project=a.project)  # again, for its message
        if not failed.ok:
            why = printable(failed.stderr).strip() or f"exit code {failed.exit_code}"
            if failed.exit_code == 127:
                why += " (the context files are written by /bin/sh inside the instance)"
            raise StepFailed(f"{a.target}: writing its context files in /etc/anklume failed: {why}")


_HANDLERS = {
    "project": _project,
    "network": _network,
    "profile": _profile,
    "image": _image,
    "volume": _volume,
    "instance": _instance,
}
