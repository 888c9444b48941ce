"""Rules on network_policies (SPEC §4.6): NP1–NP5."""

from __future__ import annotations

from typing import Any

from .common import Collector, Inventory, is_int, show

NP = ("network_policies",)
HOST = "host"


def check_policies(data: dict[str, Any], inv: Inventory, out: Collector) -> None:
    policies = data.get("network_policies")
    if policies is None:
        return
    if not isinstance(policies, list):
        out.error("NP1", f"network_policies must be a list (got {show(policies)})", NP)
        return
    for i, policy in enumerate(policies):
        path = NP + (i,)
        label = f"network_policies[{i}]: "
        if not isinstance(policy, dict):
            out.error("NP1", f"{label}must be a mapping (got {show(policy)})", path)
            continue
        for end in ("from", "to"):
            ref = policy.get(end)
            if ref is None:
                out.error("NP2", f"{label}missing '{end}'", path)
            elif not is_known_reference(ref, inv):
                out.error(
                    "NP3",
                    f"{label}'{end}: {_bare(ref)}' is not a known domain, machine, or 'host'",
                    path + (end,),
                )
        _ports(label, policy, path, out)
        if policy.get("protocol") is not None:
            out.one_of("NP5", label + "protocol", policy["protocol"], ("tcp", "udp"), path + ("protocol",))
        out.boolean("NP5", label + "bidirectional", policy.get("bidirectional"), path + ("bidirectional",))


def is_known_reference(ref: object, inv: Inventory) -> bool:
    return isinstance(ref, str) and (ref == HOST or ref in inv.domains or ref in inv.machines)


def _bare(ref: object) -> str:
    text = show(ref)
    return text[1:-1] if isinstance(ref, str) else text


def _ports(label: str, policy: dict[str, Any], path: tuple[Any, ...], out: Collector) -> None:
    ports = policy.get("ports")
    if ports is None or ports == "all":
        return
    if not isinstance(ports, list):
        out.error("NP4", f"{label}ports must be a list or 'all' (got {show(ports)})", path + ("ports",))
        return
    for j, port in enumerate(ports):
        if not (is_int(port) and 1 <= port <= 65535):
            out.error("NP4", f"{label}invalid port {show(port)} (must be 1-65535)", path + ("ports", j))
