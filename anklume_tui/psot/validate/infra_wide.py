"""Rules on `global` (SPEC §4.2): AD1, AD2, B1, G0, G1, F1, N1, A0–A6, RP1, IN1."""

from __future__ import annotations

import re
from typing import Any

from ..constants import AI_TOOLS_DOMAIN, TRUST_LEVELS, ZONE_MULTIPLIER, effective_trust
from ..gpu import gpu_consumers
from .common import Collector, Inventory, is_absolute, is_int, show
from .incus import check_incus

G = ("global",)
PERCENT_RE = re.compile(r"(\d+)%")
SIZE_RE = re.compile(r"(\d+(?:\.\d+)?)\s*(GiB|MiB|KiB|GB|MB)?")
BASE_SUBNET_RE = re.compile(r"(\d{1,3})\.(\d{1,3})")


def check_global(data: dict[str, Any], inv: Inventory, out: Collector) -> None:
    settings = data.get("global")
    if not isinstance(settings, dict):
        return
    _addressing(settings, inv, out)
    for key in ("shared_volumes_base", "persistent_data_base", "services_base"):
        value = settings.get(key)
        if value is not None and not is_absolute(value):
            out.error("B1", f"global.{key} must be an absolute path (got {show(value)})", G + (key,))
    if "gpu_policy" in settings:
        out.one_of("G0", "global.gpu_policy", settings["gpu_policy"], ("exclusive", "shared"), G + ("gpu_policy",))
    if settings.get("gpu_policy", "exclusive") == "exclusive":
        _exclusive_gpu(data, out)
    if "firewall_mode" in settings:
        out.one_of("F1", "global.firewall_mode", settings["firewall_mode"], ("host", "vm"), G + ("firewall_mode",))
    out.boolean("N1", "global.nesting_prefix", settings.get("nesting_prefix"), G + ("nesting_prefix",))
    out.boolean("A6", "global.ai_vram_flush", settings.get("ai_vram_flush"), G + ("ai_vram_flush",))
    _ai_access(data, settings, inv, out)
    if "resource_policy" in settings:
        _resource_policy(settings["resource_policy"], out)
    check_incus(settings, out)


def _addressing(settings: dict[str, Any], inv: Inventory, out: Collector) -> None:
    if "addressing" not in settings:
        base = settings.get("base_subnet")
        if base is not None and not _valid_base_subnet(base):
            out.error(
                "AD1",
                f'global.base_subnet must be "A.B" with A and B in 0-255 (got {show(base)})',
                G + ("base_subnet",),
            )
        return
    addressing = settings["addressing"]
    path = G + ("addressing",)
    if not isinstance(addressing, dict):
        out.error("AD1", f"global.addressing must be a mapping (got {show(addressing)})", path)
        return
    octet = addressing.get("base_octet", 10)
    if not (is_int(octet) and octet == 10):
        out.error("AD1", f"global.addressing.base_octet must be 10 (got {show(octet)})", path + ("base_octet",))
    zone_base = addressing.get("zone_base", 100)
    base_ok = is_int(zone_base) and 0 <= zone_base <= 245
    if not base_ok:
        out.error(
            "AD1",
            f"global.addressing.zone_base must be an integer 0-245 (got {show(zone_base)})",
            path + ("zone_base",),
        )
    step = addressing.get("zone_step", 10)
    step_ok = is_int(step) and step >= 1
    if not step_ok:
        out.error(
            "AD1",
            f"global.addressing.zone_step must be an integer >= 1 (got {show(step)})",
            path + ("zone_step",),
        )
    if base_ok and step_ok:
        _zone_octets(zone_base, step, inv, out)


def _zone_octets(zone_base: int, step: int, inv: Inventory, out: Collector) -> None:
    for dname, domain in inv.domains.items():
        octet = zone_base + ZONE_MULTIPLIER[effective_trust(domain)] * step
        if octet > 255:
            where = (
                ("domains", dname, "trust_level") if domain.get("trust_level") in TRUST_LEVELS else ("domains", dname)
            )
            out.error("AD2", f"Domain '{dname}': zone octet {octet} exceeds 255", where)


def _valid_base_subnet(base: object) -> bool:
    match = BASE_SUBNET_RE.fullmatch(base) if isinstance(base, str) else None
    return match is not None and all(int(part) <= 255 for part in match.groups())


def _exclusive_gpu(data: dict[str, Any], out: Collector) -> None:
    consumers = gpu_consumers(data)
    if len(consumers) > 1:
        names = ", ".join(str(machine) for _, machine in consumers)
        out.error(
            "G1",
            f"GPU policy is 'exclusive' but {len(consumers)} instances use a GPU ({names}); set gpu_policy: shared",
            _gpu_path(data, *consumers[1]),
        )


def _gpu_path(data: dict[str, Any], dname: object, mname: object) -> tuple[Any, ...]:
    """Where a consumer asks for the GPU: its `gpu: true`, else its profiles."""
    path = ("domains", dname, "machines", mname)
    machine = data["domains"][dname]["machines"][mname]
    return path + ("gpu",) if machine.get("gpu") is True else path + ("profiles",)


def _ai_access(data: dict[str, Any], settings: dict[str, Any], inv: Inventory, out: Collector) -> None:
    policy_path = G + ("ai_access_policy",)
    if "ai_access_policy" in settings and not out.one_of(
        "A0", "global.ai_access_policy", settings["ai_access_policy"], ("exclusive", "open"), policy_path
    ):
        return
    # Like AnKLuMe v1, ai_access_default only matters (and is only checked) in exclusive mode.
    if settings.get("ai_access_policy") != "exclusive":
        return
    default = settings.get("ai_access_default")
    default_path = G + ("ai_access_default",)
    if default is None:
        out.error("A1", "ai_access_default is required when ai_access_policy is 'exclusive'", policy_path)
    elif default == AI_TOOLS_DOMAIN:
        out.error("A2", "ai_access_default cannot be 'ai-tools' (it names the client domain)", default_path)
    elif not isinstance(default, str) or default not in inv.domains:
        out.error("A3", f"ai_access_default {show(default)} is not a known domain", default_path)
    if AI_TOOLS_DOMAIN not in inv.domains:
        out.error("A4", "ai_access_policy is 'exclusive' but no 'ai-tools' domain exists", policy_path)
    policies = data.get("network_policies")
    targets = [
        i
        for i, policy in enumerate(policies if isinstance(policies, list) else [])
        if isinstance(policy, dict) and policy.get("to") == AI_TOOLS_DOMAIN
    ]
    if len(targets) > 1:
        out.error(
            "A5",
            f"only one policy may target ai-tools (found {len(targets)})",
            ("network_policies", targets[1], "to"),
        )


def _resource_policy(policy: object, out: Collector) -> None:
    path = G + ("resource_policy",)
    if policy is None or policy is True:
        return
    if not isinstance(policy, dict):
        out.error("RP1", f"global.resource_policy must be a mapping or true (got {show(policy)})", path)
        return
    label = "global.resource_policy."
    for key, allowed in (
        ("mode", ("proportional", "equal")),
        ("cpu_mode", ("allowance", "count")),
        ("memory_enforce", ("soft", "hard")),
    ):
        if key in policy:
            out.one_of("RP1", label + key, policy[key], allowed, path + (key,))
    if "overcommit" in policy and not isinstance(policy["overcommit"], bool):
        out.error(
            "RP1",
            f"{label}overcommit must be true or false (got {show(policy['overcommit'])})",
            path + ("overcommit",),
        )
    reserve = policy.get("host_reserve")
    if reserve is None:
        return
    if not isinstance(reserve, dict):
        out.error("RP1", f"{label}host_reserve must be a mapping (got {show(reserve)})", path + ("host_reserve",))
        return
    for key, valid, expected in (
        ("cpu", _valid_cpu_reserve, "'N%' (1-99) or a positive number of cores"),
        ("memory", _valid_memory_reserve, "'N%' (1-99), a size such as 4GiB, or a number of bytes"),
    ):
        value = reserve.get(key)
        if value is not None and not valid(value):
            out.error(
                "RP1",
                f"{label}host_reserve.{key} must be {expected} (got {show(value)})",
                path + ("host_reserve", key),
            )


def _valid_percent(value: str) -> bool | None:
    """True/False for an "N%" string, None when it is not one."""
    match = PERCENT_RE.fullmatch(value.strip())
    if match is None:
        return False if value.strip().endswith("%") else None
    return 1 <= int(match.group(1)) <= 99


def _positive_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0 and value == value


def _valid_cpu_reserve(value: object) -> bool:
    if isinstance(value, str):
        return bool(_valid_percent(value))
    return _positive_number(value)


def _valid_memory_reserve(value: object) -> bool:
    if not isinstance(value, str):
        return _positive_number(value)
    percent = _valid_percent(value)
    if percent is not None:
        return percent
    match = SIZE_RE.fullmatch(value.strip())
    return match is not None and float(match.group(1)) > 0
