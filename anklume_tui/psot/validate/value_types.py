"""Plain-typed fields that no other rule checks: texts and the `gpu` flag (reported as R2).

The typed model is strict, so anything it receives must already be the right type.
"""

from __future__ import annotations

from typing import Any

from .common import Collector, Inventory, machines_of, mapping, show

GLOBAL_TEXTS = ("default_os_image", "default_connection", "default_user", "ai_access_default")


def _text(out: Collector, label: str, value: object, path: tuple[Any, ...]) -> None:
    if value is not None and not isinstance(value, str):
        out.error("R2", f"{label} must be a string (got {show(value)})", path)


def check_types(data: dict[str, Any], inv: Inventory, out: Collector) -> None:
    settings = mapping(data.get("global"))
    for key in GLOBAL_TEXTS:
        _text(out, f"global.{key}", settings.get(key), ("global", key))
    for dname, domain in inv.domains.items():
        _text(out, f"Domain '{dname}': description", domain.get("description"), ("domains", dname, "description"))
    for _dname, mname, machine, path in machines_of(inv):
        for key in ("description", "os_image"):
            _text(out, f"Machine '{mname}': {key}", machine.get(key), path + (key,))
        out.boolean("R2", f"Machine '{mname}': gpu", machine.get("gpu"), path + ("gpu",))
    policies = data.get("network_policies")
    for i, policy in enumerate(policies if isinstance(policies, list) else []):
        if isinstance(policy, dict):
            _text(
                out,
                f"network_policies[{i}]: description",
                policy.get("description"),
                ("network_policies", i, "description"),
            )
