"""Warnings (SPEC §4.9): W2, W3, W4, W7, W8, W10, W11, W13. They never block sync or apply."""

from __future__ import annotations

import difflib
from typing import Any

from ..addressing import is_zone_mode
from ..gpu import gpu_consumers
from ..known_keys import unknown_and_inert_keys
from .common import Collector, Inventory, machines_of, mapping

OPENCLAW_ROLE = "openclaw_server"
# W13: the keys SPEC §3.10 reserves (known_keys' auxiliary keys) and what they are for.
NOT_IMPLEMENTED: dict[str, str] = {}  # none today: desktop, file_portal and export_apps are implemented
LISTED_UNKNOWN_KEYS = 100


def check_warnings(data: dict[str, Any], inv: Inventory, out: Collector) -> None:
    _shared_gpu(data, out)
    policies = data.get("network_policies")
    policies = [(i, p) for i, p in enumerate(policies) if isinstance(p, dict)] if isinstance(policies, list) else []
    _policy_references(data, policies, inv, out)
    _openclaw_without_policy(policies, inv, out)
    _syscall_interception(inv, out)
    unknown, inert = unknown_and_inert_keys(data)
    for item in inert[:LISTED_UNKNOWN_KEYS]:
        what = NOT_IMPLEMENTED.get(str(item.key), "it")
        out.warning(
            "W13",
            f"'{item.key}' {item.where} has no effect: {what} is not implemented yet, so nothing is done with it",
            item.path,
            at_key=True,
        )
    for item in unknown[:LISTED_UNKNOWN_KEYS]:
        hint = f"; did you mean '{item.suggestion}'?" if item.suggestion else ""
        out.warning("W7", f"unknown key '{item.key}' {item.where}{hint}", item.path, at_key=True)
    if len(unknown) > LISTED_UNKNOWN_KEYS:
        rest = unknown[LISTED_UNKNOWN_KEYS:]
        out.warning("W7", f"{len(rest)} more unknown keys (not listed one by one)", rest[0].path, at_key=True)


def _shared_gpu(data: dict[str, Any], out: Collector) -> None:
    if mapping(data.get("global")).get("gpu_policy") != "shared":
        return
    consumers = gpu_consumers(data)
    if len(consumers) > 1:
        names = ", ".join(str(machine) for _, machine in consumers)
        out.warning(
            "W2",
            f"GPU policy is 'shared': {len(consumers)} instances share the GPU ({names}); "
            "no VRAM isolation between them",
            ("global", "gpu_policy"),
        )


def _policy_references(data: dict[str, Any], policies: list[Any], inv: Inventory, out: Collector) -> None:
    """W3 (a disabled domain) and W8 (a machine without a static IP, legacy mode)."""
    disabled = {name for name, domain in inv.domains.items() if domain.get("enabled") is False}
    # In trust-zone mode every machine gets an IP at enrichment, so only legacy DHCP machines lack one.
    legacy = not is_zone_mode(data)
    for i, policy in policies:
        for end in ("from", "to"):
            ref = policy.get(end)
            if not isinstance(ref, str):
                continue
            path = ("network_policies", i, end)
            if ref in disabled:
                out.warning(
                    "W3",
                    f"network_policies[{i}]: '{end}: {ref}' names disabled domain '{ref}' "
                    "(its rules are still generated)",
                    path,
                )
            elif legacy and ref not in inv.domains and ref in inv.machines and inv.machines[ref][1].get("ip") is None:
                out.warning(
                    "W8",
                    f"network_policies[{i}]: machine '{ref}' has no static IP (DHCP); "
                    "no rule is generated for this policy",
                    path,
                )


def _openclaw_without_policy(policies: list[Any], inv: Inventory, out: Collector) -> None:
    sources = {p.get("from") for _, p in policies if isinstance(p.get("from"), str)}
    for dname, mname, machine, path in machines_of(inv):
        roles = machine.get("roles")
        if not isinstance(roles, list) or OPENCLAW_ROLE not in roles:
            continue
        if dname in sources or mname in sources:
            continue
        out.warning(
            "W4",
            f"Machine '{mname}' has role '{OPENCLAW_ROLE}' but no network policy from domain "
            f"'{dname}' or from it; add one if it needs an LLM backend",
            path + ("roles", roles.index(OPENCLAW_ROLE)),
        )


INTERCEPT = "security.syscalls.intercept."


def _syscall_interception(inv: Inventory, out: Collector) -> None:
    """W11: a container asks Incus to intercept system calls. With it, Incus 6.0's exec (provisioning, smoke,
    consoles) fails at random on liblxc 5.0 after running the command, and each intercepted call is served by
    the host; Docker's overlay2 needs none on kernels from 5.11."""
    for _, mname, machine, path in machines_of(inv):
        config = machine.get("config")
        if not isinstance(config, dict) or machine.get("type") == "vm":
            continue
        for key, value in config.items():
            if isinstance(key, str) and key.startswith(INTERCEPT) and str(value).lower() == "true":
                out.warning(
                    "W11",
                    f"Machine '{mname}' sets {key}: the host then serves that system call for the container, "
                    "and with it Incus's exec (provisioning, smoke) fails now and then ('Failed to retrieve PID "
                    "of executing child process') after running the command; Docker in a container needs only "
                    "security.nesting on kernels from 5.11 — remove it unless the machine needs it",
                    path + ("config", key),
                    at_key=True,
                )


def check_roles(inv: Inventory, known: frozenset[str] | None, out: Collector) -> None:
    """W10: a machine names a role no role folder holds (provisioning would stop on it). `known` is what the
    caller found in the role folders (psot reads no folder); None: not gathered, nothing is checked."""
    if known is None:
        return
    for _, mname, machine, path in machines_of(inv):
        roles = machine.get("roles")
        if not isinstance(roles, list):
            continue
        for i, role in enumerate(roles):
            if not isinstance(role, str) or role in known:
                continue
            close = difflib.get_close_matches(role, sorted(known), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            out.warning(
                "W10",
                f"Machine '{mname}' names role '{role}', found in no role folder (roles_custom/ beside the "
                f"infra, the shipped roles/, roles_vendor/): provisioning would stop on it{hint}",
                path + ("roles", i),
            )
