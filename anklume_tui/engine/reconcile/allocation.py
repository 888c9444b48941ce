"""What was applied, for the PSOT's stable allocation (SPEC §5.1 Stability): every bridge Incus holds and each
instance's eth0 address, read back from Incus; and, per infra (its project_name), a record in the state folder
of the subnets and addresses its last apply left, written once apply ends."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...psot.stability import PriorAllocation
from ..host import paths
from ..host.private_files import FILE_MODE, write_private
from ..incus.errors import IncusError, IncusUnreachable, IncusUrlError

if TYPE_CHECKING:  # status (prior_allocation) does without the client: it read Incus before importing it
    from ...psot.model import Infra
    from ..incus.client import IncusClient
    from ..incus.cluster import ClusterMember
    from ..incus.models import Instance, Network

READ_TIMEOUT = 5.0


async def read_back(client: IncusClient) -> tuple[dict[str, str], dict[tuple[str, str], str]]:
    """(bridge → its IPv4 network, (project, instance) → its eth0 ipv4.address): two requests."""
    import asyncio

    networks, instances = await asyncio.gather(client.list_networks(), client.list_instances())
    return applied_addresses(networks, instances)


def applied_addresses(
    networks: Sequence[Network], instances: Sequence[Instance]
) -> tuple[dict[str, str], dict[tuple[str, str], str]]:
    """What `read_back` answers, from listings already read."""
    return _addresses(
        ((n.name, n.managed, n.type, n.config) for n in networks),
        ((i.project, i.name, i.devices) for i in instances),
    )


def _addresses(
    networks: Iterable[tuple[str, bool, str, Mapping[str, str]]],
    instances: Iterable[tuple[str, str, Mapping[str, Mapping[str, str]]]],
) -> tuple[dict[str, str], dict[tuple[str, str], str]]:
    """Managed bridges (name, managed, type, config) → their IPv4 network; (project, name, devices) → eth0's
    ipv4.address."""
    bridges = {
        name: config["ipv4.address"]
        for name, managed, kind, config in networks
        if managed and kind == "bridge" and "/" in config.get("ipv4.address", "")
    }
    nics = {
        (project, name): address
        for project, name, devices in instances
        if (address := (devices.get("eth0") or {}).get("ipv4.address"))
    }
    return bridges, nics


def load_records() -> dict[str, dict]:
    """Every infra's record (project_name → subnets and addresses); unreadable ones are left out."""
    records: dict[str, dict] = {}
    with contextlib.suppress(OSError):
        for path in sorted(paths.allocations_dir().glob("*.json")):
            with contextlib.suppress(OSError, ValueError):
                record = json.loads(path.read_text(encoding="utf-8"))
                if isinstance(record, dict) and isinstance(record.get("project_name"), str):
                    records[record["project_name"]] = record
    return records


def gather_allocation(url: str | None = None) -> PriorAllocation:
    """The records, and what Incus holds when it answers (else only the records): for the PSOT, from code
    that may or may not run inside an event loop."""
    return gather_applied(url)[0]


Cluster = tuple[tuple[str, ...], tuple[str, ...]]  # member names (none: not a cluster), group names


def gather_applied(url: str | None = None) -> tuple[PriorAllocation, Cluster | None]:
    """`gather_allocation`, and the cluster's members and groups read in the same connection (None when Incus
    did not answer): what placement (`target:`, PT2) is checked against. A local Incus that is no cluster is
    read without the client (`_read_quickly`)."""
    quick = _read_quickly(url)
    return quick if quick is not None else _read_through_client(url)


def _read_through_client(url: str | None) -> tuple[PriorAllocation, Cluster | None]:
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from ..incus.client import IncusClient

    async def read() -> tuple[tuple[dict, dict], Cluster | None] | None:
        try:
            async with IncusClient(url, timeout=READ_TIMEOUT) as client:
                applied, members = await asyncio.gather(read_back(client), _members(client))
        except (IncusUnreachable, IncusUrlError, IncusError, OSError):
            return None
        if members is None:
            return applied, None
        groups = sorted({g for m in members for g in m.groups})
        return applied, (tuple(sorted(m.server_name for m in members)), tuple(groups))

    with ThreadPoolExecutor(1) as pool:
        found = pool.submit(asyncio.run, read()).result()
    records = load_records()
    if found is None:
        return PriorAllocation(records=records), None
    (bridges, nics), cluster = found
    return PriorAllocation(records=records, bridges=bridges, nics=nics), cluster


def _read_quickly(url: str | None) -> tuple[PriorAllocation, Cluster | None] | None:
    """`gather_applied` for a local Incus, with the standard library alone (incus/quick_read.py): validate,
    plan and sync then import neither the client, its models nor asyncio for it, nor anything when no Incus
    runs. None: read through the client (an HTTPS Incus; a cluster, whose members it reads)."""
    from ..incus.endpoint import resolve_endpoint
    from ..incus.quick_read import ALLOCATION_PATHS, QuickReads

    try:
        endpoint = resolve_endpoint(url)
    except IncusUrlError:  # as the client's read: Incus did not answer, the records alone count
        return PriorAllocation(records=load_records()), None
    if not endpoint.is_unix:
        return None
    reads = QuickReads.start(url, ALLOCATION_PATHS, timeout=READ_TIMEOUT)
    found = reads.answers() if reads is not None else None
    if found is None:  # no socket, refused, an error or a strange answer: as the client's read, records alone
        return PriorAllocation(records=load_records()), None
    networks, instances, cluster = found
    if not isinstance(cluster, dict) or cluster.get("enabled") is not False:
        return None
    try:
        bridges, nics = _addresses(
            (
                (n["name"], n.get("managed") is True, n.get("type") or "", n.get("config") or {})
                for n in _dicts(networks)
            ),
            ((i.get("project") or "default", i["name"], i.get("devices") or {}) for i in _dicts(instances)),
        )
    except (KeyError, TypeError, AttributeError):
        return PriorAllocation(records=load_records()), None
    return PriorAllocation(records=load_records(), bridges=bridges, nics=nics), ((), ())


def _dicts(listing: Any) -> list[dict]:
    if not isinstance(listing, list) or not all(isinstance(item, dict) for item in listing):
        raise TypeError("not a listing")
    return listing


async def _members(client: IncusClient) -> list[ClusterMember] | None:
    """The cluster's members ([] off a cluster); None when they cannot be read (placement is then not checked,
    what was applied still is)."""
    try:
        return await client.cluster_members()
    except IncusError:
        return None


def prior_allocation(held: tuple[Sequence[Network], Sequence[Instance]] | None) -> PriorAllocation:
    """What `gather_allocation` answers, from the bridges (default project) and instances (all projects) a
    caller already read (`status` reads them anyway: no second connection, loop or round of requests);
    None: Incus could not be read, only the records count."""
    records = load_records()
    if held is None:
        return PriorAllocation(records=records)
    bridges, nics = applied_addresses(*held)
    return PriorAllocation(records=records, bridges=bridges, nics=nics)


def applied_record(infra: Infra, bridges: dict[str, str], nics: dict[tuple[str, str], str]) -> dict:
    """This infra's subnets and addresses as Incus holds them."""
    subnets = {}
    addresses: dict[str, dict[str, str]] = {}
    for domain in infra.domains:
        if domain.network in bridges:
            subnets[domain.name] = bridges[domain.network]
        found = {
            m.name: nics[(domain.project, m.instance_name)]
            for m in domain.machines
            if (domain.project, m.instance_name) in nics
        }
        if found:
            addresses[domain.name] = found
    return {"project_name": infra.project_name, "subnets": subnets, "addresses": addresses}


async def record_applied(
    client: IncusClient,
    infra: Infra,
    state_dir: Path,
    held: tuple[list[Network], list[Instance]] | None = None,
) -> Path:
    """Write this infra's record from what Incus holds once apply ended (so a half-done apply records what is
    really there): `held`, the bridges and instances apply read then, or read here. An unchanged record is
    left as it is."""
    import asyncio

    bridges, nics = applied_addresses(*held) if held is not None else await read_back(client)
    text = json.dumps(applied_record(infra, bridges, nics), indent=1)
    path = record_file(state_dir, infra.project_name)
    with contextlib.suppress(OSError, UnicodeDecodeError):
        if path.read_text(encoding="utf-8") == text and path.stat().st_mode & 0o777 == FILE_MODE:
            return path
    await asyncio.to_thread(write_private, path, text)
    return path


def record_file(state_dir: Path, project_name: str) -> Path:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in project_name)
    return paths.allocations_dir(state_dir) / f"{safe}.json"
