"""Rules on Tor gateway domains (issue 19): TG1–TG5.

A domain's `tor_gateway` names the machine through which every other machine of the domain (its clients)
reaches the outside, by Tor only; the host ruleset and the gateway's own rules enforce it (SPEC §9.1).
"""

from __future__ import annotations

from typing import Any

from ..addressing import is_zone_mode
from .common import Collector, Inventory, show

ROLE = "tor_gateway"


def check_tor_gateways(data: dict[str, Any], inv: Inventory, out: Collector) -> None:
    legacy = not is_zone_mode(data)
    named: dict[Any, Any] = {}  # gateway machine -> its domain
    for dname, domain in inv.domains.items():
        if "tor_gateway" not in domain:
            continue
        path = ("domains", dname, "tor_gateway")
        gateway = domain["tor_gateway"]
        if not isinstance(gateway, str) or gateway not in inv.members.get(dname, []):
            out.error("TG1", f"Domain '{dname}': tor_gateway {show(gateway)} is not a machine of this domain", path)
            continue
        named[gateway] = dname
        machine = inv.machines[gateway][1] if inv.machines[gateway][0] == dname else {}
        if legacy and machine.get("ip") is None:
            out.error(
                "TG2",
                f"Domain '{dname}': tor gateway '{gateway}' needs a static ip (its clients are confined to it)",
                path,
            )
        roles = machine.get("roles")
        if not (isinstance(roles, list) and ROLE in roles):
            out.error("TG3", f"Domain '{dname}': tor gateway '{gateway}' must list the role {ROLE}", path)
    for mname, (dname, machine) in inv.machines.items():
        roles = machine.get("roles")
        if isinstance(roles, list) and ROLE in roles and named.get(mname) != dname:
            out.error(
                "TG5",
                f"Machine '{mname}': lists the role {ROLE} but domain '{dname}' does not name it "
                f"(tor_gateway: {mname}), so nothing would confine its clients",
                inv.machine_path(mname) + ("roles",),
            )
    _policies(data, inv, named, out)


def _policies(data: dict[str, Any], inv: Inventory, named: dict[Any, Any], out: Collector) -> None:
    """No policy may open a path around a gateway: a Tor domain, or one of its clients, in `from` or `to`."""
    confined = set(named.values())
    policies = data.get("network_policies")
    if not confined or not isinstance(policies, list):
        return
    for i, policy in enumerate(policies):
        if not isinstance(policy, dict):
            continue
        for end in ("from", "to"):
            ref = policy.get(end)
            if not isinstance(ref, str):
                continue
            if ref in confined:
                where = f"domain '{ref}' has a Tor gateway"
            elif ref in inv.machines and inv.machines[ref][0] in confined and ref not in named:
                where = f"'{ref}' is a client of the Tor gateway of domain '{inv.machines[ref][0]}'"
            else:
                continue
            out.error(
                "TG4",
                f"network_policies[{i}]: '{end}: {ref}': {where}; its machines reach nothing but the gateway "
                "(a policy may name the gateway itself)",
                ("network_policies", i, end),
            )
