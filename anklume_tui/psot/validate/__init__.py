"""Validation entry points (SPEC §4): every finding collected, never fail-fast, never an exception."""

from __future__ import annotations

from typing import Any

from ..context import HostContext
from ..findings import Finding
from ..yaml_nodes import SourceMap
from .checks import check_smoke_checks
from .common import Collector, build_inventory, show
from .desktop import check_desktop, check_desktop_warnings
from .domains import check_domains
from .exports import check_exports
from .host import check_host
from .images import check_images
from .infra_wide import check_global
from .machines import check_machines
from .placement import check_target_shapes, check_targets
from .policies import check_policies
from .services import check_service_warnings, check_services
from .tor import check_tor_gateways
from .value_types import check_types
from .volumes import check_volumes
from .warnings import check_roles, check_warnings

REQUIRED_KEYS = ("project_name", "global", "domains")


def validate_structure(data: object, source: SourceMap) -> list[Finding]:
    """Structural and value rules: R, AD, B, G, F, N, A, RP, IS, D, M, P, S, NP, TG, SV, EA, FP, K, PT1."""
    out = Collector(source)
    if data is not None and not isinstance(data, dict):
        out.error("R2", f"the infra file must be a mapping at its top level (got {show(data)})", ())
        return out.findings
    missing = [key for key in REQUIRED_KEYS if data is None or key not in data]
    if missing or data is None:
        for key in missing:
            out.error("R1", f"Missing required key: {key}", ())
        return out.findings
    _check_top_level(data, out)
    inv = build_inventory(data)
    check_global(data, inv, out)
    check_images(data, inv, out)
    check_domains(data, inv, out)
    check_machines(data, inv, out)
    check_volumes(data, inv, out)
    check_policies(data, inv, out)
    check_tor_gateways(data, inv, out)
    check_services(data, inv, out)
    check_desktop(data, inv, out)
    check_exports(inv, out)
    check_types(data, inv, out)
    check_smoke_checks(data, inv, out)
    check_target_shapes(inv, out)
    return out.findings


def _check_top_level(data: dict[str, Any], out: Collector) -> None:
    if not isinstance(data["project_name"], str):
        out.error("R2", f"'project_name' must be a string (got {show(data['project_name'])})", ("project_name",))
    if not isinstance(data["global"], dict):
        out.error("R2", f"'global' must be a mapping (got {show(data['global'])})", ("global",))
    domains = data["domains"]
    if domains is not None and not isinstance(domains, dict):
        out.error("R2", f"'domains' must be a mapping (got {show(domains)})", ("domains",))


def validate_host(data: object, source: SourceMap, ctx: HostContext) -> list[Finding]:
    """Rules that depend on the host: PL1 (W1 under YOLO), H1, D11 and PT2 (W14 off a cluster)."""
    out = Collector(source)
    if isinstance(data, dict):
        inv = build_inventory(data)
        check_host(data, inv, ctx, out)
        check_targets(inv, ctx, out)
    return out.findings


def collect_warnings(data: object, source: SourceMap, ctx: HostContext) -> list[Finding]:
    """W2, W3, W4, W7, W8, W10, W11, W12 (W1 comes with PL1 from validate_host)."""
    out = Collector(source)
    if isinstance(data, dict):
        inv = build_inventory(data)
        check_warnings(data, inv, out)
        check_service_warnings(inv, out)
        check_desktop_warnings(data, inv, out)
        check_roles(inv, ctx.known_roles, out)
    return out.findings
