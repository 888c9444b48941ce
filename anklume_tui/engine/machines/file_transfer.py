"""Copying one file from a machine to another through the Incus files API (`copy-file`, and the TUI's
"Copy a file to…").

The rule: a copy carries data across the isolation, so it is allowed only between machines the infra
already lets exchange data — the same domain; a network policy whose ends (the very policies the loaded
isolation ruleset is built from, AI holder included, SPEC §9.2: host policies and machines without a static
IP give none) join the two machines, in either direction; or a shared volume both consume (their enriched
`sv-<volume>` devices, SPEC §3.8).
"""

from __future__ import annotations

import contextlib
import posixpath
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass

from ...errors import Failed, Invalid, Refused
from ...psot.constants import AI_TOOLS_DOMAIN
from ...psot.model import Infra, Machine
from ...transfer_progress import Progress
from ..incus.client import IncusClient
from ..incus.errors import IncusNotFound
from ..incus.files import FileStream
from ..isolation import Endpoint, ResolvedPolicy, access_holder, live_policies

SHARED_DEVICE_PREFIX = "sv-"


class TransferUsageError(Invalid, ValueError):
    """A location that is not `MACHINE:/absolute/path`, or a machine the infra does not declare."""


class TransferRefused(Refused):
    """The two machines are not connected: the message says how to connect them."""

    prefix = "refused"


class TransferFailed(Failed):
    """The copy could not be made (missing source, a directory, Incus said no): the message names the file."""


@dataclass(frozen=True)
class Location:
    machine: str
    path: str

    def __str__(self) -> str:
        return f"{self.machine}:{self.path}"


@dataclass(frozen=True)
class Link:
    """Why two machines may exchange a file, in the user's words."""

    kind: str  # same-domain | network-policy | shared-volume
    detail: str


@dataclass(frozen=True)
class Connection:
    """The two machines of a copy and what lets them exchange the file."""

    source: Machine
    destination: Machine
    link: Link


@dataclass(frozen=True)
class Copied:
    source: Location
    destination: Location  # the file written (inside the destination directory when one was given)
    size: int
    mode: int
    uid: int
    gid: int
    link: Link


ProgressFn = Callable[[Progress], None]


def parse_location(text: str) -> Location:
    machine, sep, path = text.partition(":")
    if not sep or not machine:
        raise TransferUsageError(f"{text!r} is not MACHINE:/absolute/path")
    if not path.startswith("/"):
        raise TransferUsageError(f"{text!r}: the path must be absolute (MACHINE:/absolute/path)")
    return Location(machine, path)


def find_machine(infra: Infra, name: str) -> Machine:
    for machine in infra.machines:
        if machine.name == name:
            return machine
    raise TransferUsageError(f"unknown machine {name!r}: copy-file takes machines declared in the infra")


def _covers(end: Endpoint, machine: Machine) -> bool:
    return end.domain == machine.domain and (end.ip is None or end.ip == machine.ip)


def _shared_volumes(machine: Machine) -> set[str]:
    return {
        name.removeprefix(SHARED_DEVICE_PREFIX)
        for name, device in (machine.devices or {}).items()
        if name.startswith(SHARED_DEVICE_PREFIX) and isinstance(device, dict) and device.get("type") == "disk"
    }


def link_between(a: Machine, b: Machine, policies: Sequence[ResolvedPolicy]) -> Link | None:
    """What connects the two machines (either way round), None when nothing does; `policies` are those the
    isolation ruleset is built from (`live_policies`)."""
    if a.domain == b.domain:
        return Link("same-domain", f"both in domain {a.domain}")
    for policy in policies:
        for rule in policy.forward:
            ends = (rule.source, rule.destination)
            if (_covers(ends[0], a) and _covers(ends[1], b)) or (_covers(ends[0], b) and _covers(ends[1], a)):
                return Link("network-policy", f"network policy '{policy.description}'")
    common = sorted(_shared_volumes(a) & _shared_volumes(b))
    if common:
        return Link("shared-volume", f"shared volume {common[0]}")
    return None


def refusal(infra: Infra, a: Machine, b: Machine) -> str:
    if infra.ai_access_policy == "exclusive" and AI_TOOLS_DOMAIN in (a.domain, b.domain):
        client = b if a.domain == AI_TOOLS_DOMAIN else a
        holder, why = access_holder(infra)
        return (
            f"AI access is exclusive and domain {holder} holds it ({why}): only it reaches {AI_TOOLS_DOMAIN}; "
            f"give it to domain {client.domain} (ai-switch {client.domain}) to copy files between {a.name} and {b.name}"
        )
    return (
        f"no network policy or shared volume connects domain {a.domain} and domain {b.domain}; add one to "
        f"infra.yml (a network_policies entry from {a.domain} or {a.name} to {b.domain} or {b.name}, or a "
        f"shared_volumes entry both consume) to copy files between {a.name} and {b.name}"
    )


def check_link(infra: Infra, source: str, destination: str) -> Connection:
    """The two machines and the link that allows the copy; TransferRefused (why, and what to add) when
    there is none."""
    a, b = find_machine(infra, source), find_machine(infra, destination)
    link = link_between(a, b, live_policies(infra))
    if link is None:
        raise TransferRefused(refusal(infra, a, b))
    return Connection(a, b, link)


def destinations(infra: Infra, source: str) -> list[tuple[Machine, Link | None, str]]:
    """Every other declared machine with what connects it to `source` (None and the refusal when nothing)."""
    a = find_machine(infra, source)
    policies = live_policies(infra)
    found = []
    for b in infra.machines:
        if b.name != source:
            link = link_between(a, b, policies)
            found.append((b, link, "" if link else refusal(infra, a, b)))
    return found


async def _require_instance(client: IncusClient, machine: Machine, project: str) -> None:
    """Asked only after a 404, to tell a machine missing from Incus from a file missing in it."""
    try:
        await client.get_instance(machine.instance_name, project=project)
    except IncusNotFound:
        where = f"{project}/{machine.instance_name}"
        raise TransferFailed(f"machine {machine.name} ({where}) does not exist in Incus: apply first") from None


async def _open_source(
    stack: contextlib.AsyncExitStack, client: IncusClient, machine: Machine, project: str, where: Location
) -> FileStream:
    try:
        found = await stack.enter_async_context(client.read_file(machine.instance_name, where.path, project=project))
    except IncusNotFound:
        await _require_instance(client, machine, project)
        raise TransferFailed(f"source file {where} does not exist") from None
    if found.head.type == "directory":
        raise TransferFailed(f"{where} is a directory: copy-file copies one file (archive the directory first)")
    if found.head.type != "file":
        raise TransferFailed(f"{where} is a {found.head.type}, not a regular file")
    return found


async def _target_path(client: IncusClient, machine: Machine, project: str, where: Location, name: str) -> str:
    """The destination path, inside it when it names an existing directory (as `cp` does)."""
    head = await client.file_head(machine.instance_name, where.path, project=project)
    if where.path.endswith("/") or (head is not None and head.type == "directory"):
        return posixpath.join(where.path, name)
    return where.path


async def copy_file(
    client: IncusClient, infra: Infra, source: Location, destination: Location, on_progress: ProgressFn | None = None
) -> Copied:
    """Check the link, then stream the file out of the source and into the destination with its mode and
    owner. Raises TransferUsageError, TransferRefused, TransferFailed, or IncusError from Incus itself."""
    connection = check_link(infra, source.machine, destination.machine)
    src, dst, link = connection.source, connection.destination, connection.link
    projects = {d.name: d.project for d in infra.domains}
    target = await _target_path(client, dst, projects[dst.domain], destination, posixpath.basename(source.path))
    written = Location(destination.machine, target)
    report = on_progress or (lambda _p: None)
    async with contextlib.AsyncExitStack() as stack:
        found = await _open_source(stack, client, src, projects[src.domain], source)
        head, label, moved = found.head, f"copying {source} to {written}", 0
        mode = head.mode & 0o777  # setuid, setgid and sticky bits do not travel between machines

        async def counted() -> AsyncIterator[bytes]:
            nonlocal moved
            report(Progress(label, 0, head.size))
            async for chunk in found.chunks:
                moved += len(chunk)
                report(Progress(label, moved, head.size))
                yield chunk

        try:
            await client.write_file(
                dst.instance_name,
                target,
                counted(),
                mode=mode,
                uid=head.uid,
                gid=head.gid,
                project=projects[dst.domain],
            )
        except IncusNotFound:
            await _require_instance(client, dst, projects[dst.domain])
            raise TransferFailed(f"cannot write {written}: its folder does not exist") from None
    return Copied(source, written, moved, mode, head.uid, head.gid, link)
