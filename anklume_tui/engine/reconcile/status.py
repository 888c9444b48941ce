"""`status`: every declared domain and machine next to what Incus really holds (SPEC §2).

Three requests whatever the number of instances: projects, bridges, and every instance with its live state
(for the eth0 address) and its snapshots in one listing across projects, as `incus list` reads them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...psot.model import Domain, Infra, Machine
from ...psot.services import ServiceMap, service_map
from ...reports import DisposableStatus, DomainStatus, MachineStatus, MachineType, OfferOut, StatusReport, UseOut
from ..incus.models import Instance, InstanceState
from .compare import describe
from .desired import CONTEXT_KEY, ExpectedInstance, desired_state
from .plan_instances import is_disposable, plan_instance
from .real_state import RealState
from .status_read import StatusListings, read_status

if TYPE_CHECKING:
    from ..incus.client import IncusClient

__all__ = [
    "DomainStatus",
    "MachineStatus",
    "StatusListings",
    "StatusReport",
    "gather_status",
    "machine_differences",
    "read_status",
    "status_of",
]

OUR_TYPES: dict[str, MachineType] = {"container": "lxc", "virtual-machine": "vm"}
NOT_DRIFT = {f"config.{CONTEXT_KEY}"}


async def gather_status(client: IncusClient, infra: Infra) -> StatusReport:
    """The status of every declared domain and machine (disabled domains included), and of the disposables
    living in each domain."""
    return status_of(await read_status(client), infra)


def status_of(held: StatusListings, infra: Infra) -> StatusReport:
    """`gather_status` from listings already read."""
    instances = held.instances
    real = RealState(
        projects={p.name: p for p in held.projects},
        networks={n.name: n for n in held.networks},
        instances={(i.project, i.name): i for i in instances},
    )
    desired = desired_state(infra)
    expected = {(e.project, e.name): e for e in desired.instances}  # enabled domains only
    live = {(i.project, i.name): i.state for i in instances if i.running and i.state is not None}
    counts = {(i.project, i.name): len(i.snapshots or []) for i in instances}
    disposables: dict[str, list[DisposableStatus]] = {}
    for (project, _), i in sorted(real.instances.items()):
        if is_disposable(i, desired.prefix):
            kind = OUR_TYPES.get(i.type, "lxc")
            disposables.setdefault(project, []).append(
                DisposableStatus(name=i.name, state=i.status or "unknown", type=kind)
            )
    services = service_map(infra)  # declared: read from the model, no request to Incus
    return StatusReport(
        domains=[_domain_status(d, real, expected, live, counts, disposables, services) for d in infra.domains]
    )


def _domain_status(
    domain: Domain,
    real: RealState,
    expected: dict[tuple[str, str], ExpectedInstance],
    live: dict[tuple[str, str], InstanceState],
    counts: dict[tuple[str, str], int],
    disposables: dict[str, list[DisposableStatus]],
    services: ServiceMap,
) -> DomainStatus:
    machines = []
    for machine in domain.machines:
        key = (domain.project, machine.instance_name)
        instance = real.instances.get(key)
        offers, uses = _services_of(services, machine.name)
        machines.append(
            _machine_status(machine, instance, expected.get(key), live.get(key), counts.get(key), offers, uses)
        )
    return DomainStatus(
        name=domain.name,
        project=domain.project,
        network=domain.network,
        trust_level=domain.effective_trust,
        enabled=domain.enabled,
        exists=domain.project in real.projects,
        network_exists=domain.network in real.networks,
        machines=machines,
        disposables=disposables.get(domain.project, []),
    )


def _machine_status(
    machine: Machine,
    instance: Instance | None,
    expected: ExpectedInstance | None,
    state: InstanceState | None,
    snapshots: int | None,
    offers: list[OfferOut],
    uses: list[UseOut],
) -> MachineStatus:
    """`expected` is None for a machine of a disabled domain: not reconciled, so nothing is compared."""
    if instance is None:
        return MachineStatus(
            name=machine.name,
            instance=machine.instance_name,
            state="missing",
            type=machine.type,
            ip=None,
            declared_ip=machine.ip,
            protected=None,
            snapshots=None,
            drift="missing" if expected is not None else "disabled",
            differences=[],
            offers=offers,
            uses=uses,
        )
    differences = machine_differences(expected, instance) if expected is not None else []
    return MachineStatus(
        name=machine.name,
        instance=machine.instance_name,
        state=instance.status or "unknown",
        type=OUR_TYPES.get(instance.type, machine.type),
        ip=_live_ip(state),
        declared_ip=machine.ip or (instance.devices.get("eth0") or {}).get("ipv4.address") or None,
        protected=instance.protected,
        snapshots=snapshots,
        drift="disabled" if expected is None else "drift" if differences else "ok",
        differences=differences,
        offers=offers,
        uses=uses,
        location=instance.location if instance.location not in ("", "none") else None,
    )


def _services_of(services: ServiceMap, machine: str) -> tuple[list[OfferOut], list[UseOut]]:
    """The report models read their fields off psot's Offer and Use (same names), not copied one by one."""
    offers = [OfferOut.model_validate(o, from_attributes=True) for o in services.offers(machine)]
    uses = [UseOut.model_validate(u, from_attributes=True) for u in services.uses(machine)]
    return offers, uses


def _live_ip(state: InstanceState | None) -> str | None:
    """The live IPv4 address of eth0 (running instances only): never the declared one, shown beside it."""
    if state is not None and state.network:
        eth0 = state.network.get("eth0")
        for address in eth0.addresses if eth0 else []:
            if address.family == "inet" and address.scope == "global":
                return address.address
    return None


def machine_differences(expected: ExpectedInstance, instance: Instance) -> list[str]:
    """What apply would change on this existing instance, as plan computes it (`field: real → declared`),
    a stopped instance included (apply starts it); the context-files stamp is not drift."""
    _, drift = plan_instance(expected, instance)
    return [describe([d]) for d in drift if d.field not in NOT_DRIFT]
