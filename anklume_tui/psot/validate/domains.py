"""Rules on domains (SPEC §4.3): D1–D10, and the shape (R2) of domains and their profiles."""

from __future__ import annotations

from typing import Any

from ..addressing import is_zone_mode
from ..constants import TRUST_LEVELS, effective_trust
from .common import Collector, Inventory, is_int, is_name, name_hint, show

NAME_RULE = "invalid name (lowercase letters, digits, inner hyphens)"


def check_domains(data: dict[str, Any], inv: Inventory, out: Collector) -> None:
    domains = data.get("domains")
    if not isinstance(domains, dict):
        return
    zone_mode = is_zone_mode(data)
    subnet_owner: dict[object, object] = {}  # legacy: subnet_id -> domain; zones: (trust, subnet_id) -> domain
    for dname, domain in domains.items():
        path = ("domains", dname)
        if not is_name(dname):
            out.key_error("D1", f"Domain '{dname}': {NAME_RULE}{name_hint(dname)}", path)
        if not isinstance(domain, dict):
            out.error("R2", f"'domains.{dname}' must be a mapping (got {show(domain)})", path)
            continue
        _shape(dname, domain, out)
        _subnet_id(dname, domain, zone_mode, subnet_owner, out)
        _fields(dname, domain, out)


def _shape(dname: object, domain: dict[str, Any], out: Collector) -> None:
    path = ("domains", dname)
    for key in ("machines", "profiles"):
        value = domain.get(key)
        if value is not None and not isinstance(value, dict):
            out.error("R2", f"'domains.{dname}.{key}' must be a mapping (got {show(value)})", path + (key,))
    profiles = domain.get("profiles")
    for pname, profile in profiles.items() if isinstance(profiles, dict) else ():
        ppath = path + ("profiles", pname)
        label = f"domains.{dname}.profiles.{pname}"
        if profile is None:
            continue
        if not isinstance(profile, dict):
            out.error("R2", f"'{label}' must be a mapping (got {show(profile)})", ppath)
            continue
        for key in ("devices", "config"):
            value = profile.get(key)
            if value is not None and not isinstance(value, dict):
                out.error("R2", f"'{label}.{key}' must be a mapping (got {show(value)})", ppath + (key,))
        for dev, device in profile["devices"].items() if isinstance(profile.get("devices"), dict) else ():
            if not isinstance(device, dict):
                out.error(
                    "R2",
                    f"'{label}.devices.{dev}' must be a mapping (got {show(device)})",
                    ppath + ("devices", dev),
                )


def _subnet_id(
    dname: object, domain: dict[str, Any], zone_mode: bool, owner: dict[object, object], out: Collector
) -> None:
    path = ("domains", dname, "subnet_id")
    sid = domain.get("subnet_id")
    if sid is None:
        if not zone_mode:
            out.key_error("D3", f"Domain '{dname}': missing subnet_id", ("domains", dname))
        return
    if not is_int(sid) or not 0 <= sid <= 254:
        out.error("D4", f"Domain '{dname}': subnet_id must be 0-254 (got {show(sid)})", path)
        return
    if not zone_mode:
        if sid in owner:
            out.error("D5", f"Domain '{dname}': subnet_id {sid} already used by '{owner[sid]}'", path)
        else:
            owner[sid] = dname
        return
    zone = effective_trust(domain)
    if (zone, sid) in owner:
        out.error(
            "D6",
            f"Domain '{dname}': subnet_id {sid} already used by '{owner[zone, sid]}' in zone '{zone}'",
            path,
        )
    else:
        owner[zone, sid] = dname


def _fields(dname: object, domain: dict[str, Any], out: Collector) -> None:
    path = ("domains", dname)
    label = f"Domain '{dname}': "
    out.boolean("D2", label + "enabled", domain.get("enabled"), path + ("enabled",))
    out.boolean("D7", label + "ephemeral", domain.get("ephemeral"), path + ("ephemeral",))
    if domain.get("trust_level") is not None:
        out.one_of("D8", label + "trust_level", domain["trust_level"], TRUST_LEVELS, path + ("trust_level",))
    if domain.get("ai_provider") is not None:
        out.one_of(
            "D9",
            label + "ai_provider",
            domain["ai_provider"],
            ("local", "cloud", "local-first"),
            path + ("ai_provider",),
        )
    if domain.get("ai_sanitize") is not None:
        out.one_of(
            "D10",
            label + "ai_sanitize",
            domain["ai_sanitize"],
            (True, False, "always"),
            path + ("ai_sanitize",),
        )
