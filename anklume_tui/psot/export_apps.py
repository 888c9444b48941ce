"""Applications a machine exports to the host's menu (issue 21): `export_apps` at domain or machine level.

An item is a bare name (`firefox`: the menu entry runs `firefox`) or a mapping `{name, command, label, icon}`;
`command` is a list of arguments or a string split as a shell would split it (never run by one). A domain's
list applies to each of its machines; a machine's own item of the same name replaces the domain's. Values are
assumed valid here (rules EA1–EA3); the desktop entries are written by engine.apps.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .model import Domain, Infra, Machine

APP_KEYS = ("name", "command", "label", "icon")


@dataclass(frozen=True)
class ExportedApp:
    """One application of one machine, as its menu entry shows it."""

    domain: str
    machine: str
    name: str  # unique per machine: the entry's file name carries it
    command: tuple[str, ...]
    label: str  # the menu shows "[domain] label"
    icon: str | None  # an icon theme name or an absolute path; None: the trust level's icon


def item_name(item: object) -> object:
    """The name an `export_apps` item is known by (whatever its shape: validation reports the bad ones)."""
    return item.get("name") if isinstance(item, dict) else item


def split_command(command: object) -> list[str]:
    """`command` as arguments: a list as given, a string split like a shell (ValueError: unbalanced quotes)."""
    if isinstance(command, list):
        return [str(arg) for arg in command]
    return shlex.split(str(command))


def parse_app(domain: str, machine: str, item: object) -> ExportedApp:
    if not isinstance(item, dict):
        return ExportedApp(domain, machine, str(item), (str(item),), str(item), None)
    name = str(item["name"])
    command = item.get("command")
    return ExportedApp(
        domain,
        machine,
        name,
        tuple(split_command(command)) if command is not None else (name,),
        str(item.get("label") or name),
        item.get("icon"),
    )


def merged_items(domain_items: object, machine_items: object) -> list[Any]:
    """The domain's items, each replaced by the machine's item of the same name, then the machine's others."""
    own = list(machine_items) if isinstance(machine_items, list) else []
    own_names = {item_name(item) for item in own}
    inherited = [i for i in (domain_items if isinstance(domain_items, list) else []) if item_name(i) not in own_names]
    return inherited + own


def machine_apps(domain: Domain, machine: Machine) -> list[ExportedApp]:
    return [parse_app(domain.name, machine.name, i) for i in merged_items(domain.export_apps, machine.export_apps)]


def exported_apps(infra: Infra, limit: str | None = None) -> list[ExportedApp]:
    """Every application the enabled domains (or the one named `limit`) export, in declaration order."""
    return [
        app
        for domain in infra.enabled_domains
        if limit is None or domain.name == limit
        for machine in domain.machines
        for app in machine_apps(domain, machine)
    ]
