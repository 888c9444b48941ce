"""What the host tells the PSOT: context files, host networks, resources.

Gathered by the engine (which does the IO) and handed to the pure PSOT pipeline.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from .stability import PriorAllocation


@dataclass(frozen=True)
class HostNetwork:
    interface: str
    network: ipaddress.IPv4Network


@dataclass(frozen=True)
class HostContext:
    absolute_level: int | None = None
    relative_level: int | None = None
    vm_nested: bool | None = None
    yolo: bool = False
    # None means "not gathered": H1 is then not checked.
    host_networks: tuple[HostNetwork, ...] | None = None
    skip_subnet_check: bool = False
    host_cpus: float | None = None
    host_memory_bytes: int | None = None
    # What was applied (SPEC §5.1 Stability); None: not gathered, allocation is v1's.
    allocation: PriorAllocation | None = None
    # Names of the roles the role folders hold (SPEC §8.5), for W10; None: not gathered, W10 is not checked.
    known_roles: frozenset[str] | None = None
    # The cluster's members and groups (issue 20, PT2/W14): () when Incus is not a cluster; None: not gathered,
    # `target:` is then not checked against them.
    cluster_members: tuple[str, ...] | None = None
    cluster_groups: tuple[str, ...] = ()
    # Names of the incus CLI's remotes that are Incus servers (global.incus.remote, IN2); None: not read.
    incus_remotes: frozenset[str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
