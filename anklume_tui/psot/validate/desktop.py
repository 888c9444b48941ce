"""Rules on the `desktop` keys (issue 21, psot/desktop.py): DK1-DK4 errors, DK5-DK6 warnings."""

from __future__ import annotations

from typing import Any

from ..constants import effective_trust
from ..desktop import (
    CLIPBOARD_KEYS,
    domain_display,
    wayland_problem,
    x11_number,
)
from .common import Collector, Inventory, is_absolute, is_int, mapping, show


def check_desktop(data: dict[str, Any], inv: Inventory, out: Collector) -> None:
    settings = mapping(data.get("global"))
    default: dict[Any, Any] = {}
    if "desktop" in settings:
        path = ("global", "desktop")
        default = _displays("DK1", "global.desktop", settings["desktop"], path, out)
        runtime = mapping(settings["desktop"]).get("runtime_dir")
        if runtime is not None and not is_absolute(runtime):
            out.error("DK1", f"global.desktop.runtime_dir must be an absolute path (got {show(runtime)})", path)
        for key in ("uid", "gid"):
            value = mapping(settings["desktop"]).get(key)
            if value is not None and not (is_int(value) and value >= 0):
                out.error("DK1", f"global.desktop.{key} must be a user or group number (got {show(value)})", path)
    for dname, domain in inv.domains.items():
        if "desktop" not in domain:
            continue
        where = ("domains", dname, "desktop")
        label = f"Domain '{dname}': desktop"
        own = _displays("DK2", label, domain["desktop"], where, out)
        desktop = mapping(domain["desktop"])
        out.boolean("DK2", f"{label}.display", desktop.get("display"), where + ("display",))
        if desktop.get("display") is True and not (own or default):
            out.error(
                "DK3",
                f"{label}.display is true but no display is named: set x11 or wayland here or in global.desktop",
                where + ("display",),
            )
        if "clipboard" in desktop:
            _clipboard(dname, desktop["clipboard"], where + ("clipboard",), inv, out)


def _displays(rule: str, label: str, value: object, path: tuple[Any, ...], out: Collector) -> dict[str, Any]:
    """The well-formed x11/wayland entries of a desktop mapping (an error for each bad one)."""
    if not isinstance(value, dict):
        out.error(rule, f"{label} must be a mapping (got {show(value)})", path)
        return {}
    good = {}
    if value.get("x11") is not None:
        if x11_number(value["x11"]) is None:
            out.error(rule, f"{label}.x11 must be a display like ':0' (got {show(value['x11'])})", path + ("x11",))
        else:
            good["x11"] = value["x11"]
    if value.get("wayland") is not None:
        problem = wayland_problem(value["wayland"])
        if problem is not None:
            out.error(rule, f"{label}.wayland {problem} (got {show(value['wayland'])})", path + ("wayland",))
        else:
            good["wayland"] = value["wayland"]
    return good


def _clipboard(dname: Any, value: object, path: tuple[Any, ...], inv: Inventory, out: Collector) -> None:
    label = f"Domain '{dname}': desktop.clipboard"
    if not isinstance(value, dict):
        out.error("DK2", f"{label} must be a mapping of {', '.join(CLIPBOARD_KEYS)} (got {show(value)})", path)
        return
    for key in ("copy", "paste"):
        out.boolean("DK2", f"{label}.{key}", value.get(key), path + (key,))
    listed = value.get("paste_from")
    if listed is None:
        return
    if not isinstance(listed, list):
        out.error("DK2", f"{label}.paste_from must be a list of domains (got {show(listed)})", path + ("paste_from",))
        return
    for i, name in enumerate(listed):
        if name == dname:
            out.error("DK4", f"{label}.paste_from names the domain itself", path + ("paste_from", i))
        elif not isinstance(name, str) or name not in inv.domains:
            out.error("DK4", f"{label}.paste_from: no domain {show(name)}", path + ("paste_from", i))


def check_desktop_warnings(data: dict[str, Any], inv: Inventory, out: Collector) -> None:
    """DK5: domains of different trust share one display, whose clients read each other's clipboard (X11 lets
    every client read the selections and keystrokes; a Wayland compositor with the data-control protocol lets
    clipboard tools read it), so no clipboard rule holds between them. DK6: a VM gets no display."""
    settings = mapping(data.get("global"))
    seen: dict[tuple[str, object], tuple[Any, str]] = {}
    for dname, domain in inv.domains.items():
        if domain.get("enabled") is False:
            continue
        display = domain_display(settings, domain)
        if display is None:
            continue
        trust = effective_trust(domain)
        path = ("domains", dname, "desktop", "display")
        for kind, where in (("x11", display.x11), ("wayland", display.wayland)):
            if where is None:
                continue
            first = seen.setdefault((kind, where), (dname, trust))
            if first[1] != trust:
                shown = f":{where}" if kind == "x11" else where
                out.warning(
                    "DK5",
                    f"Domain '{dname}' ({trust}) shares the {kind} display {shown} with domain '{first[0]}' "
                    f"({first[1]}): their programs read each other's clipboard there, whatever the clipboard "
                    "rule says; give one of them a display of its own (desktop.x11 / desktop.wayland)",
                    path,
                )
        for mname in inv.members.get(dname, []):
            machine = inv.machines[mname][1] if inv.machines[mname][0] == dname else {}
            if machine.get("type") == "vm":
                out.warning(
                    "DK6",
                    f"Machine '{mname}' is a VM: Incus relays the display sockets into containers only, so it "
                    "gets no display",
                    inv.machine_path(mname) + ("type",),
                )
