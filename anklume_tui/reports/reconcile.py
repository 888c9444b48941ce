"""Documents about Incus against the infra: status, flush, plan, apply (engine/reconcile/status.py, flush.py, plan.py,
reconcile.py build them; the TUI shows the same models)."""

from __future__ import annotations

from typing import Any, Literal

from .base import Model, Report
from .isolation import IsolationOut
from .provision import ProvisionOut

MachineType = Literal["lxc", "vm"]
FlushKind = Literal["instance", "profile", "image", "project", "network"]


class OfferOut(Model):
    """A service the machine offers (`machines.<m>.services`), and the machines granted it by `consumes`."""

    name: str
    protocol: str  # a label for the user (mcp, http...); tcp or unix when the infra names none
    port: int | None  # the TCP port the machine listens on; null for a socket service
    socket: str | None  # the unix socket path inside the machine; null for a TCP service
    description: str
    consumers: list[str]  # machine names, sorted (a domain-level `consumes` names each machine of the domain)


class UseOut(Model):
    """A service the machine consumes (`consumes`), and how it reaches it."""

    provider: str  # the machine offering it
    name: str
    protocol: str
    port: int | None  # the provider's TCP port; null for a socket service
    socket: str | None  # where the socket appears inside this machine; null for a TCP service
    via: Literal["policy", "proxy"]  # policy: the auto-created network rule; proxy: Incus proxy devices


class MachineStatus(Model):
    name: str
    instance: str  # the Incus name (with the nesting prefix)
    state: str  # Incus status (Running, Stopped, Frozen, Error...) or "missing"
    type: MachineType  # the real type when the instance exists, else the declared one
    ip: str | None  # the live eth0 address (running instances only), else null
    declared_ip: str | None = None  # the infra's address (else the static one set on eth0); null: DHCP
    protected: bool | None  # security.protection.delete; null when missing
    snapshots: int | None  # null when missing
    # disabled: the domain is not reconciled, so nothing is compared
    drift: Literal["ok", "missing", "drift", "disabled"]
    differences: list[str]  # what differs, one line per key, when drift is "drift"
    offers: list[OfferOut] = []  # read from the infra, whatever Incus holds
    uses: list[UseOut] = []
    location: str | None = None  # the cluster member it runs on; null off a cluster or when missing

    def ip_text(self) -> str:
        """The address as status and the domains view show it: the live one, the declared one marked when it
        differs or the machine is not running, `not created` for a missing one."""
        if self.state == "missing":
            return "not created"
        if self.ip is None:
            return f"{self.declared_ip} (declared)" if self.declared_ip else "-"
        if self.declared_ip and self.declared_ip != self.ip:
            return f"{self.ip} (declared {self.declared_ip})"
        return self.ip


class DisposableStatus(Model):
    """A disposable (Incus-ephemeral, `<prefix>disp-…`) living in the domain: not declared, shown all the same."""

    name: str  # the Incus name
    state: str
    type: MachineType


class DomainStatus(Model):
    name: str
    project: str
    network: str
    trust_level: str  # effective trust level
    enabled: bool
    exists: bool  # the project exists
    network_exists: bool
    machines: list[MachineStatus]
    disposables: list[DisposableStatus] = []


class StatusReport(Report):
    domains: list[DomainStatus]


# flush (engine/reconcile/flush.py)


class FlushObject(Model):
    kind: FlushKind
    project: str | None  # null for projects and networks
    name: str
    outcome: Literal["deleted", "refused", "failed"]
    reason: str = ""


class FlushFile(Model):
    path: str  # relative to output_dir
    outcome: Literal["deleted", "kept"]
    reason: str = ""


class FlushReport(Report):
    output_dir: str | None
    objects: list[FlushObject]
    files: list[FlushFile]
    # the isolation ruleset loaded again for the bridges left; null: no valid infra to render it from
    isolation: IsolationOut | None = None

    def of(self, outcome: str) -> list[FlushObject]:
        return [o for o in self.objects if o.outcome == outcome]

    @property
    def refused(self) -> bool:
        return bool(self.of("refused"))

    @property
    def failed(self) -> bool:
        return bool(self.of("failed"))


class PlanActionOut(Model):
    op: str
    kind: str
    project: str
    name: str
    detail: str


class DriftOut(Model):
    kind: str
    project: str
    name: str
    field: str
    expected: Any
    actual: Any  # null: absent in Incus


class InstanceOrphanOut(Model):
    project: str
    name: str
    protected: bool


class PlanReport(Report):
    actions: list[PlanActionOut]
    drift: list[DriftOut]
    orphans: list[InstanceOrphanOut]


class AppliedActionOut(PlanActionOut):
    status: Literal["done", "failed", "skipped"]
    error: str


class ApplyReport(Report):
    ok: bool
    actions: list[AppliedActionOut]
    drift: list[DriftOut]  # what the plan found before apply
    orphans: list[InstanceOrphanOut]
    refused: list[InstanceOrphanOut]  # protected orphans --prune did not delete
    pre_apply_snapshot: str | None
    snapshotted: list[str]  # project/instance
    nftables: IsolationOut | None = None  # step 7; None when apply did not get that far
    provision: ProvisionOut | None = None  # None with --no-provision, or when reconciling failed
    network_backup: str | None = None  # the bridges' configuration before this apply (none on a no-op apply)
    not_running: list[str] | None = None  # "project/instance (status)"; None when apply did not get that far
