"""Rules on what a domain shares with the host's desktop (issue 21): EA1–EA3 (`export_apps`), FP1–FP3
(`file_portal`).

Validation also runs on the enriched model, whose machines already carry the generated `file-portal` disk:
a device equal to the one the portal generates is that device, not a user collision.
"""

from __future__ import annotations

from typing import Any

from ..export_apps import item_name, split_command
from ..file_portal import PORTAL_DEVICE, portal_device
from .common import Collector, Inventory, Path, is_absolute, is_name, machines_of, mapping, name_hint, show

LABEL_MAX = 80
# No control character reaches a desktop entry: a newline would start a key of its own (Exec=...).
CONTROL = {chr(c) for c in range(32)} | {chr(127)}


def check_exports(inv: Inventory, out: Collector) -> None:
    for dname, domain in inv.domains.items():
        if "export_apps" in domain:
            _apps(domain["export_apps"], ("domains", dname, "export_apps"), f"Domain '{dname}'", out)
        if "file_portal" in domain:
            _portal(dname, domain, ("domains", dname, "file_portal"), out)
    for _dname, mname, machine, path in machines_of(inv):
        if "export_apps" in machine:
            _apps(machine["export_apps"], path + ("export_apps",), f"Machine '{mname}'", out)


def _control(value: object) -> bool:
    return isinstance(value, str) and any(c in CONTROL for c in value)


def _apps(items: object, path: Path, owner: str, out: Collector) -> None:
    """EA1 (shape, names, duplicates), EA2 (command), EA3 (label, icon)."""
    if items is None:
        return
    if not isinstance(items, list):
        out.error(
            "EA1", f"{owner}: export_apps must be a list of application names or mappings (got {show(items)})", path
        )
        return
    seen: dict[Any, int] = {}
    for i, item in enumerate(items):
        where = path + (i,)
        label = f"{owner}: export_apps[{i}]"
        if not isinstance(item, (str, dict)):
            out.error("EA1", f"{label} must be a name or a mapping with 'name' (got {show(item)})", where)
            continue
        name = item_name(item)
        name_path = where + ("name",) if isinstance(item, dict) and "name" in item else where
        if name is None:
            out.error("EA1", f"{label} needs 'name' (the application's name, in its entry's file name)", where)
            continue
        if not is_name(name):
            out.error(
                "EA1",
                f"{label}: invalid application name {show(name)} (lowercase letters, digits, inner hyphens)"
                f"{name_hint(name)}",
                name_path,
            )
            continue
        if name in seen:
            out.error("EA1", f"{label}: application '{name}' is listed twice (first at [{seen[name]}])", name_path)
        seen.setdefault(name, i)
        if isinstance(item, dict):
            _app_fields(item, where, label, out)


def _app_fields(item: dict[Any, Any], where: Path, label: str, out: Collector) -> None:
    command = item.get("command")
    if command is not None:
        problem = _command_problem(command)
        if problem:
            out.error("EA2", f"{label}: command {problem}", where + ("command",))
    for key in ("label", "icon"):
        value = item.get(key)
        if value is None:
            continue
        if not isinstance(value, str) or not value.strip() or _control(value) or len(value) > LABEL_MAX:
            got = "it holds a control character" if _control(value) else f"got {show(value)}"
            out.error(
                "EA3", f"{label}: {key} must be a text of 1-{LABEL_MAX} characters on one line ({got})", where + (key,)
            )
        elif key == "icon" and "/" in value and not is_absolute(value):
            problem = f"icon must be an icon name or an absolute path (got {show(value)})"
            out.error("EA3", f"{label}: {problem}", where + (key,))


def _command_problem(command: object) -> str | None:
    if isinstance(command, list):
        if not command or not all(isinstance(arg, str) for arg in command):
            return "must be a non-empty list of texts"
        args = command
    elif isinstance(command, str):
        try:
            args = split_command(command)
        except ValueError as exc:
            return f"cannot be split into arguments ({exc}): {show(command)}"
        if not args:
            return "is empty"
    else:
        return f"must be a text or a list of texts (got {show(command)})"
    if any(_control(arg) for arg in args):
        return "must not hold a newline or another control character"
    if not args[0].strip():
        return "must start with a program name"
    return None


def _portal(dname: Any, domain: dict[Any, Any], path: Path, out: Collector) -> None:
    """FP1 (shape), FP2 (paths, writable), FP3 (the device name taken on a machine)."""
    portal = domain["file_portal"]
    label = f"Domain '{dname}': file_portal"
    if not isinstance(portal, dict):
        out.error("FP1", f"{label} must be a mapping with 'host' (got {show(portal)})", path)
        return
    if "host" not in portal:
        out.error("FP1", f"{label} needs 'host': the folder on the host the machines see", path)
        return
    for key in ("host", "path"):
        value = portal.get(key)
        if key in portal and (not is_absolute(value) or ".." in str(value).split("/") or _control(value)):
            out.error("FP2", f"{label}.{key} must be an absolute path without '..' (got {show(value)})", path + (key,))
    if str(portal.get("host")).rstrip("/") in ("", "/"):
        out.error("FP2", f"{label}.host must not be the host's root folder", path + ("host",))
    out.boolean("FP2", f"{label}.writable", portal.get("writable"), path + ("writable",))
    valid = is_absolute(portal.get("host")) and (portal.get("path") is None or is_absolute(portal.get("path")))
    for mname, machine in mapping(domain.get("machines")).items():
        user = mapping(mapping(machine).get("devices")).get(PORTAL_DEVICE)
        if user is None or (valid and user == portal_device(portal, mapping(machine))):
            continue
        out.key_error(
            "FP3",
            f"Machine '{mname}': device name '{PORTAL_DEVICE}' is the file portal's; rename this device",
            ("domains", dname, "machines", mname, "devices", PORTAL_DEVICE),
        )
