"""Rules on shared volumes and persistent data (SPEC §4.5): S1–S5, P1–P3.

Validation also runs on the enriched model, whose machines already carry the
generated `sv-*`/`pd-*` disks: a device equal in kind and mount path to the one
the volume generates is that device, not a user collision.
"""

from __future__ import annotations

from typing import Any

from .common import Collector, Inventory, is_absolute, is_name, mapping, name_hint, show

SV = ("shared_volumes",)


def check_volumes(data: dict[str, Any], inv: Inventory, out: Collector) -> None:
    mounts = _shared_volumes(data.get("shared_volumes"), inv, out)
    _persistent_data(inv, mounts, out)


def _shared_volumes(volumes: object, inv: Inventory, out: Collector) -> dict[str, Any]:
    """Check every shared volume; return machine name -> {mount path: volume name}."""
    mounts: dict[str, Any] = {}
    if volumes is None:
        return mounts
    if not isinstance(volumes, dict):
        out.error("S1", f"shared_volumes must be a mapping of volume names (got {show(volumes)})", SV)
        return mounts
    for vname, volume in volumes.items():
        path = SV + (vname,)
        label = f"Shared volume '{vname}': "
        if not is_name(vname):
            out.key_error(
                "S1",
                f"{label}invalid name (lowercase letters, digits, inner hyphens){name_hint(vname)}",
                path,
            )
        if not isinstance(volume, dict):
            out.error("S1", f"{label}must be a mapping (got {show(volume)})", path)
            continue
        for key in ("source", "path"):
            if volume.get(key) is not None and not is_absolute(volume[key]):
                out.error("S2", f"{label}{key} must be an absolute path (got {show(volume[key])})", path + (key,))
        for key in ("shift", "propagate"):
            out.boolean("S2", label + key, volume.get(key), path + (key,))
        consumers = _consumers(label, volume.get("consumers"), path, inv, out)
        mount = volume["path"] if is_absolute(volume.get("path")) else f"/shared/{vname}"
        mount_path = path + ("path",) if "path" in volume else path
        device = f"sv-{vname}"
        for mname in consumers:
            dname, machine = inv.machines[mname]
            user_device = mapping(machine.get("devices")).get(device)
            if user_device is not None and not _is_generated(user_device, mount):
                out.key_error(
                    "S4",
                    f"{label}device name '{device}' conflicts on '{mname}'",
                    inv.machine_path(mname) + ("devices", device),
                )
            on_machine = mounts.setdefault(mname, {})
            if mount in on_machine:
                out.error(
                    "S5",
                    f"{label}duplicate mount path '{mount}' on machine '{mname}' "
                    f"(already used by volume '{on_machine[mount]}')",
                    mount_path,
                )
            else:
                on_machine[mount] = vname
    return mounts


def _consumers(label: str, consumers: object, path: tuple[Any, ...], inv: Inventory, out: Collector) -> list[Any]:
    """The resolved consumer machines; a machine entry overrides its domain's."""
    cpath = path + ("consumers",)
    if not isinstance(consumers, dict) or not consumers:
        out.error(
            "S3",
            f"{label}consumers must be a non-empty mapping of domain or machine to ro/rw (got {show(consumers)})",
            cpath,
        )
        return []
    resolved: dict[str, Any] = {}
    for cname, access in consumers.items():
        if not (isinstance(access, str) and access in ("ro", "rw")):
            out.error(
                "S3",
                f"{label}consumer '{cname}' access must be one of 'ro', 'rw' (got {show(access)})",
                cpath + (cname,),
            )
        if cname in inv.domains:
            resolved.update(dict.fromkeys(m for m in inv.members[cname] if inv.machines[m][0] == cname))
        elif cname in inv.machines:
            resolved[cname] = None
        else:
            out.key_error("S3", f"{label}unknown consumer '{cname}' (not a domain or machine)", cpath + (cname,))
    return list(resolved)


def _is_generated(device: object, mount: object) -> bool:
    return isinstance(device, dict) and device.get("type") == "disk" and device.get("path") == mount


def _persistent_data(inv: Inventory, mounts: dict[str, Any], out: Collector) -> None:
    for mname, (_dname, machine) in inv.machines.items():
        volumes = machine.get("persistent_data")
        if volumes is None:
            continue
        path = inv.machine_path(mname) + ("persistent_data",)
        label = f"Machine '{mname}': "
        if not isinstance(volumes, dict):
            out.error("P1", f"{label}persistent_data must be a mapping (got {show(volumes)})", path)
            continue
        devices = mapping(machine.get("devices"))
        taken = {mount: f"shared volume '{v}'" for mount, v in mounts.get(mname, {}).items()}
        for vname, volume in volumes.items():
            vpath = path + (vname,)
            vlabel = f"{label}persistent_data.{vname}: "
            if not is_name(vname):
                out.key_error(
                    "P1",
                    f"{vlabel}invalid name (lowercase letters, digits, inner hyphens){name_hint(vname)}",
                    vpath,
                )
            if not isinstance(volume, dict):
                out.error("P1", f"{vlabel}must be a mapping with a 'path' (got {show(volume)})", vpath)
                continue
            pd_path = volume.get("path")
            if pd_path is None:
                out.key_error("P1", f"{vlabel}path is required", vpath)
            elif not is_absolute(pd_path):
                out.error("P1", f"{vlabel}path must be an absolute path (got {show(pd_path)})", vpath + ("path",))
            out.boolean("P1", vlabel + "readonly", volume.get("readonly"), vpath + ("readonly",))
            device = f"pd-{vname}"
            if device in devices and not _is_generated(devices[device], pd_path):
                out.key_error(
                    "P2",
                    f"{vlabel}device name '{device}' collision with a device of the machine",
                    inv.machine_path(mname) + ("devices", device),
                )
            if not is_absolute(pd_path):
                continue
            if pd_path in taken:
                out.error(
                    "P3",
                    f"{vlabel}duplicate mount path '{pd_path}' (already used by {taken[pd_path]})",
                    vpath + ("path",),
                )
            else:
                taken[pd_path] = f"persistent_data.{vname}"
