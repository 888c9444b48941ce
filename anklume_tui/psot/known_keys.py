"""The keys infra.yml knows at each level (SPEC §3), for unknown-key warnings (W7, §3.10).

`None` as a child means "contents not checked" (`config`, `devices`, scalars).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from .desktop import CLIPBOARD_KEYS, DOMAIN_DESKTOP_KEYS, GLOBAL_DESKTOP_KEYS
from .export_apps import APP_KEYS
from .file_portal import PORTAL_KEYS


@dataclass(frozen=True)
class Keys:
    """A mapping with fixed keys; `auxiliary` keys are accepted but not implemented yet (W13) and never
    generated."""

    known: dict[str, Any]
    auxiliary: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Named:
    """A mapping from user-chosen names to `each`."""

    each: Keys


@dataclass(frozen=True)
class Items:
    """A list of `each`."""

    each: Keys


def _plain(*names: str) -> dict[str, Any]:
    return dict.fromkeys(names)


CONSUMES = Items(Keys(_plain("service", "socket", "uid", "gid", "mode")))
# issue 21 (psot/desktop.py): a domain's display and clipboard settings
DESKTOP = Keys({**_plain(*DOMAIN_DESKTOP_KEYS), "clipboard": Keys(_plain(*CLIPBOARD_KEYS))})
EXPORT_APPS = Items(Keys(_plain(*APP_KEYS)))  # a bare name item is not a mapping: nothing to check in it

MACHINE = Keys(
    {
        **_plain("description", "type", "ip", "ephemeral", "gpu", "profiles", "os_image", "config", "devices"),
        "storage_volumes": Named(Keys(_plain("pool", "size", "path"))),
        "persistent_data": Named(Keys(_plain("path", "readonly"))),
        **_plain("roles", "weight", "boot_autostart", "boot_priority", "snapshots_schedule", "snapshots_expiry"),
        "target": None,  # a cluster member or @group (PT1, PT2)
        "checks": None,  # its contents are checked by K1-K5 (psot/checks.py)
        "services": Named(Keys(_plain("description", "protocol", "port", "socket"))),
        "consumes": CONSUMES,
        "export_apps": EXPORT_APPS,
    },
)

DOMAIN = Keys(
    {
        **_plain("description", "enabled", "subnet_id", "ephemeral", "trust_level", "ai_provider", "ai_sanitize"),
        "profiles": Named(Keys(_plain("devices", "config"))),
        "machines": Named(MACHINE),
        "consumes": CONSUMES,
        "tor_gateway": None,
        "desktop": DESKTOP,
        "target": None,
        "export_apps": EXPORT_APPS,
        "file_portal": Keys(_plain(*PORTAL_KEYS)),
    },
)

GLOBAL = Keys(
    {
        "addressing": Keys(_plain("base_octet", "zone_base", "zone_step")),
        **_plain("base_subnet", "default_os_image", "default_connection", "default_user", "gpu_policy"),
        **_plain("firewall_mode", "ai_access_policy", "ai_access_default", "ai_vram_flush", "nesting_prefix"),
        "resource_policy": Keys(
            {
                **_plain("mode", "cpu_mode", "memory_enforce", "overcommit"),
                "host_reserve": Keys(_plain("cpu", "memory")),
            }
        ),
        **_plain("shared_volumes_base", "persistent_data_base", "image_servers", "services_base"),
        "desktop": Keys(_plain(*GLOBAL_DESKTOP_KEYS)),
        "incus": None,  # its shape is checked by IN1 (psot/incus_target.py)
    },
)

POLICY = Keys(_plain("description", "from", "to", "ports", "protocol", "bidirectional"))

SHARED_VOLUME = Keys(_plain("source", "path", "shift", "propagate", "consumers"))

INFRA = Keys(
    {
        "project_name": None,
        "global": GLOBAL,
        "domains": Named(DOMAIN),
        "network_policies": Items(POLICY),
        "shared_volumes": Named(SHARED_VOLUME),
    }
)


@dataclass(frozen=True)
class UnknownKey:
    path: tuple[Any, ...]  # the key's own path
    key: object
    suggestion: str | None

    @property
    def where(self) -> str:
        parent = self.path[:-1]
        if not parent:
            return "at the top level"
        parts = [f"[{p}]" if isinstance(p, int) else f".{p}" for p in parent]
        return "in " + "".join(parts).lstrip(".")


def unknown_keys(data: object) -> list[UnknownKey]:
    """Every key of data that the format does not define, with the closest known key at its level
    for the first SUGGESTED of them (a suggestion costs a fuzzy match; a huge file must stay fast)."""
    return unknown_and_inert_keys(data)[0]


def unknown_and_inert_keys(data: object) -> tuple[list[UnknownKey], list[UnknownKey]]:
    """The unknown keys (as `unknown_keys`) and the auxiliary ones present: keys the format reserves for what is
    not implemented yet (SPEC §3.10), which do nothing (W13); one walk for both."""
    found: list[tuple[tuple[Any, ...], object, Keys]] = []
    inert: list[tuple[tuple[Any, ...], object, Keys]] = []
    _walk(data, INFRA, (), found, inert)
    unknown = [
        UnknownKey(path, key, suggest(key, schema) if i < SUGGESTED else None)
        for i, (path, key, schema) in enumerate(found)
    ]
    return unknown, [UnknownKey(path, key, None) for path, key, _ in inert]


def _walk(value: object, schema: object, path: tuple[Any, ...], found: list[Any], inert: list[Any]) -> None:
    if isinstance(schema, Named) and isinstance(value, dict):
        for name, item in value.items():
            _walk(item, schema.each, path + (name,), found, inert)
    elif isinstance(schema, Items) and isinstance(value, list):
        for i, item in enumerate(value):
            _walk(item, schema.each, path + (i,), found, inert)
    elif isinstance(schema, Keys) and isinstance(value, dict):
        for key, item in value.items():
            if key in schema.known:
                _walk(item, schema.known[key], path + (key,), found, inert)
            elif key in schema.auxiliary:
                inert.append((path + (key,), key, schema))
            else:
                found.append((path + (key,), key, schema))


SUGGESTED = 100


def suggest(key: object, schema: Keys) -> str | None:
    close = difflib.get_close_matches(str(key), list(schema.known), n=1, cutoff=0.6)
    return close[0] if close else None
