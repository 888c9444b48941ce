"""Placement on an Incus cluster (SPEC §3, issue 20): `target:` on a domain (its machines' default) or on a
machine, naming a cluster member or `@` and a cluster group.

PT1 (structure): the value is a member's or `@group`'s name. PT2 (host): on a cluster, the member or group
exists (the message names those that do). W14 (host): `target:` while Incus is not a cluster does nothing.
The members come with the host context (`HostContext.cluster_members`, gathered by the engine); not gathered
(None): PT2 and W14 are not checked.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ..context import HostContext
from .common import Collector, Inventory, machines_of, show

TARGET_RE = re.compile(r"@?[A-Za-z0-9][A-Za-z0-9._-]{0,62}")


def declared_targets(inv: Inventory) -> Iterator[tuple[object, tuple[Any, ...], str]]:
    """(value, path, who) of every `target:` given, domains then machines."""
    for dname, body in inv.domains.items():
        if body.get("target") is not None:
            yield body["target"], ("domains", dname, "target"), f"Domain '{dname}'"
    for _, mname, machine, path in machines_of(inv):
        if machine.get("target") is not None:
            yield machine["target"], (*path, "target"), f"Machine '{mname}'"


def well_formed(value: object) -> bool:
    return isinstance(value, str) and TARGET_RE.fullmatch(value) is not None


def check_target_shapes(inv: Inventory, out: Collector) -> None:
    for value, path, who in declared_targets(inv):
        if not well_formed(value):
            out.error(
                "PT1",
                f"{who}: target must name a cluster member, or a cluster group as '@group' (got {show(value)})",
                path,
            )


def check_targets(inv: Inventory, ctx: HostContext, out: Collector) -> None:
    members = ctx.cluster_members
    if members is None:
        return
    for value, path, who in declared_targets(inv):
        if not well_formed(value):
            continue
        assert isinstance(value, str)
        if not members:
            out.warning(
                "W14",
                f"{who}: target '{value}' has no effect: Incus is not a cluster, every machine runs on its one server",
                path,
            )
        elif value.startswith("@") and value[1:] not in ctx.cluster_groups:
            groups = ", ".join(sorted(ctx.cluster_groups)) or "none"
            out.error("PT2", f"{who}: target '{value}' names no cluster group (groups: {groups})", path)
        elif not value.startswith("@") and value not in members:
            out.error(
                "PT2", f"{who}: target '{value}' names no cluster member (members: {', '.join(sorted(members))})", path
            )
