"""Enrichment (SPEC §6): what infra.yml implies, written out on a copy of it.

Runs only on structurally valid data. The result keeps the infra.yml shape so the same validator can
re-check it (X4) and the generator can read it. Steps: addressing, firewall VM, AI access policy,
services (enrich_services), resources (enrich_resources), the file portal (file_portal), shared volumes and
persistent data (enrich_volumes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .addressing import Subnet, auto_ips, is_zone_mode, plan_subnets
from .constants import (
    ADMIN_DOMAIN,
    AI_TOOLS_DOMAIN,
    DEFAULT_BASE_SUBNET,
    DEFAULT_TRUST,
    FIREWALL_HOST,
    FIREWALL_MACHINE,
    FIREWALL_MACHINES,
    nesting_prefix,
)
from .context import HostContext
from .desktop import add_display_devices
from .enrich_resources import allocate_resources
from .enrich_services import add_service_grants
from .enrich_volumes import add_volume_devices
from .file_portal import add_portal_devices
from .findings import Finding, Severity
from .yaml_nodes import SourceMap

# Info notes of enrichment (SPEC §1: enrichment notes are `info`).
FIREWALL_ADDED = "I1"
AI_POLICY_ADDED = "I2"


@dataclass
class Enriched:
    data: dict[str, Any]
    subnets: dict[str, Subnet]
    findings: list[Finding] = field(default_factory=list)


def enrich(data: dict[str, Any], source: SourceMap, ctx: HostContext) -> Enriched:
    """Every enrichment applied to a copy of `data`; `data` itself is never changed."""
    result: dict[str, Any] = _copy(data)
    subnets, exhausted = plan_subnets(result)
    findings = _address(result, subnets, exhausted, source)
    findings += _add_firewall(result, subnets, source)
    findings += _add_ai_policy(result, source)
    add_service_grants(result, _prefix(result, ctx))
    findings += allocate_resources(result, ctx, source.key_at(("global", "resource_policy")))
    add_portal_devices(result)
    add_display_devices(result)
    add_volume_devices(result)
    return Enriched(result, subnets, findings)


def _prefix(data: dict[str, Any], ctx: HostContext) -> str:
    settings = data.get("global") or {}
    return nesting_prefix(settings.get("nesting_prefix", True), ctx.absolute_level)


def _copy(value: Any) -> Any:
    """A plain tree copy: unlike deepcopy it is fast and never keeps two places sharing one object."""
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value


def _domains(data: dict[str, Any]) -> dict[str, Any]:
    return data.get("domains") or {}


def _address(
    data: dict[str, Any], subnets: dict[str, Subnet], exhausted: list[Any], source: SourceMap
) -> list[Finding]:
    """Step 1, trust-zone mode only: default trust, computed subnet_id, automatic IPs (X2, X5)."""
    if not is_zone_mode(data):
        return []
    findings = [
        Finding(
            "X5",
            Severity.ERROR,
            f"zone {trust} ran out of subnet ids (domain '{name}')",
            source.key_at(("domains", name)),
        )
        for name, trust in exhausted
    ]
    for name, domain in _domains(data).items():
        if domain.get("trust_level") is None:
            domain["trust_level"] = DEFAULT_TRUST
        subnet = subnets.get(name)
        if subnet is None:
            continue
        domain["subnet_id"] = subnet.seq
        machines = domain.get("machines") or {}
        assigned, overflow = auto_ips(machines, subnet)
        for machine_name, ip in assigned.items():
            machines[machine_name]["ip"] = ip
        findings += [
            Finding(
                "X2",
                Severity.ERROR,
                f"Domain '{name}' ran out of static IPs (.1-.99) for machine '{m}'",
                source.key_at(("domains", name, "machines", m)),
            )
            for m in overflow
        ]
    return findings


def _add_firewall(data: dict[str, Any], subnets: dict[str, Subnet], source: SourceMap) -> list[Finding]:
    """Step 2: the firewall VM, appended last in domain `anklume` (X1 without that domain)."""
    settings = data.get("global") or {}
    if settings.get("firewall_mode") != "vm":
        return []
    domains = _domains(data)
    if any(name in FIREWALL_MACHINES for d in domains.values() for name in d.get("machines") or {}):
        return []
    where = source.at(("global", "firewall_mode"))
    if ADMIN_DOMAIN not in domains:
        return [Finding("X1", Severity.ERROR, f"firewall_mode is 'vm' but no '{ADMIN_DOMAIN}' domain exists", where)]
    admin = domains[ADMIN_DOMAIN]
    if is_zone_mode(data):
        if ADMIN_DOMAIN not in subnets:
            return []  # its zone ran out of subnet ids: X5 already says so
        ip = subnets[ADMIN_DOMAIN].host(FIREWALL_HOST)
    else:
        base = settings.get("base_subnet") or DEFAULT_BASE_SUBNET
        ip = f"{base}.{admin.get('subnet_id') or 0}.{FIREWALL_HOST}"
    if admin.get("machines") is None:
        admin["machines"] = {}
    admin["machines"][FIREWALL_MACHINE] = {
        "description": "Centralized firewall VM (auto-created by generator)",
        "type": "vm",
        "ip": ip,
        "config": {"limits.cpu": "2", "limits.memory": "2GiB"},
        "roles": ["base_system", "firewall_router"],
        "ephemeral": False,
    }
    message = f"firewall_mode is 'vm': added {FIREWALL_MACHINE} to domain '{ADMIN_DOMAIN}' (ip {ip})"
    return [Finding(FIREWALL_ADDED, Severity.INFO, message, where)]


def _add_ai_policy(data: dict[str, Any], source: SourceMap) -> list[Finding]:
    """Step 3: exclusive AI access with no policy to ai-tools gets one from the default domain."""
    settings = data.get("global") or {}
    default = settings.get("ai_access_default")
    if settings.get("ai_access_policy") != "exclusive" or not default or AI_TOOLS_DOMAIN not in _domains(data):
        return []
    policies = data.get("network_policies") or []
    if any(isinstance(p, dict) and p.get("to") == AI_TOOLS_DOMAIN for p in policies):
        return []
    policies.append(
        {
            "description": f"AI access: {default} -> {AI_TOOLS_DOMAIN} (auto-created)",
            "from": default,
            "to": AI_TOOLS_DOMAIN,
            "ports": "all",
            "bidirectional": True,
        }
    )
    data["network_policies"] = policies
    message = f"ai_access_policy is 'exclusive': added a network policy from '{default}' to '{AI_TOOLS_DOMAIN}'"
    return [Finding(AI_POLICY_ADDED, Severity.INFO, message, source.at(("global", "ai_access_policy")))]
