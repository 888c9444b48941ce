"""Enrichment step 4 (issue 19, after AI access): what each `consumes` grant opens, and nothing wider.

- A TCP service gets the narrowest network policy: from the consumer machine (or its domain, for a domain-level
  entry) to the provider machine, that port, tcp. One policy per (from, to, port), appended in grant order.
- A unix socket service is relayed through one host socket by two Incus proxy devices: `svc-<name>` on the
  provider (host side listens, connects to the provider's socket) and `svc-<provider>-<name>` on each consumer
  (listens inside the consumer, connects to the host socket). No network is involved.
"""

from __future__ import annotations

from typing import Any

from .constants import DEFAULT_SERVICES_BASE
from .enrich_volumes import machines_by_name, merge_generated
from .services import Grant, data_views, resolve_grants

Devices = dict[str, dict[str, str]]
SERVICE_DEVICE_PREFIX = "svc-"  # every relay device the tool generates: apply and plan know them by it


def host_socket_folder(services_base: str, project: str, instance: str) -> str:
    """The host folder of a provider's relay sockets: the project carries the nesting prefix, so two infras
    never share it (apply makes it 0700 root; flush removes it)."""
    return f"{services_base}/{project}/{instance}"


def provider_device(name: str) -> str:
    return f"{SERVICE_DEVICE_PREFIX}{name}"


def consumer_device(provider: str, name: str) -> str:
    return f"{SERVICE_DEVICE_PREFIX}{provider}-{name}"


def add_service_grants(data: dict[str, Any], prefix: str) -> None:
    """Mutates `data` (the enrichment's own copy): policies appended, proxy devices merged (the user's own
    devices win on an equal name, as with the volume devices)."""
    domains = data.get("domains") or {}
    # A disabled domain is never reconciled: its grants would open a rule and a host socket for nothing.
    grants = [g for g in resolve_grants(data_views(data)) if (domains[g.domain] or {}).get("enabled") is not False]
    if not grants:
        return
    settings = data.get("global") or {}
    base = settings.get("services_base") or DEFAULT_SERVICES_BASE
    machines = machines_by_name(data)
    policies = data.get("network_policies") or []
    seen: set[tuple[str, str, int]] = set()
    generated: dict[str, Devices] = {}
    for grant in grants:
        offer = grant.offer
        if offer.port is not None:
            policy = _policy(grant, offer.port)
            key = (policy["from"], policy["to"], offer.port)
            if key not in seen:
                seen.add(key)
                policies.append(policy)
            continue
        folder = host_socket_folder(base, prefix + machines[offer.machine][0], prefix + offer.machine)
        host_path = f"{folder}/{offer.name}.sock"
        generated.setdefault(offer.machine, {})[provider_device(offer.name)] = {
            "type": "proxy",
            "bind": "host",
            "listen": f"unix:{host_path}",
            "connect": f"unix:{offer.socket}",
        }
        generated.setdefault(grant.consumer, {})[consumer_device(offer.machine, offer.name)] = {
            "type": "proxy",
            "bind": "instance",
            "listen": f"unix:{grant.socket}",
            "connect": f"unix:{host_path}",
            "uid": str(grant.uid),
            "gid": str(grant.gid),
            "mode": grant.mode,
        }
    if seen:
        data["network_policies"] = policies
    merge_generated(data, machines, generated)


def _policy(grant: Grant, port: int) -> dict[str, Any]:
    offer = grant.offer
    source = grant.domain if grant.domain_level else grant.consumer
    return {
        "description": f"service {offer.machine}/{offer.name} for {source} (auto-created)",
        "from": source,
        "to": offer.machine,
        "ports": [port],
        "protocol": "tcp",
    }
