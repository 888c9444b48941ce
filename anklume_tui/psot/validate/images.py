"""Image servers (`global.image_servers`): IS1 (each entry a name and an https:// URL), IS2 (every `remote:alias`
image names a server that is declared or a default one)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from ..constants import DEFAULT_IMAGE_SERVERS
from .common import Collector, Inventory, is_name, machines_of, mapping, show

SERVERS = ("global", "image_servers")


def check_images(data: dict[str, Any], inv: Inventory, out: Collector) -> None:
    settings = mapping(data.get("global"))
    declared = settings.get("image_servers")
    known = dict(DEFAULT_IMAGE_SERVERS)
    if declared is not None and not isinstance(declared, dict):
        out.error(
            "IS1", f"global.image_servers must be a mapping of name to https:// URL (got {show(declared)})", SERVERS
        )
        return
    for name, url in (declared or {}).items():
        if not is_name(name):
            out.key_error(
                "IS1",
                f"global.image_servers: {show(name)} is not a valid server name (lowercase letters, digits, inner "
                "hyphens)",
                SERVERS + (name,),
            )
            continue
        if not is_https_url(url):
            out.error(
                "IS1", f"global.image_servers.{name} must be an https:// URL (got {show(url)})", SERVERS + (name,)
            )
            continue
        known[name] = url
    _remotes(settings.get("default_os_image"), ("global", "default_os_image"), known, out)
    for _, _, machine, path in machines_of(inv):
        _remotes(machine.get("os_image"), path + ("os_image",), known, out)


def is_https_url(value: object) -> bool:
    """An https URL with a host and nothing Incus would not send as is (no query, fragment or credentials)."""
    if not isinstance(value, str) or any(c.isspace() for c in value):
        return False
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return False
    return (
        parts.scheme == "https"
        and bool(parts.hostname)
        and not parts.query
        and not parts.fragment
        and parts.username is None
    )


def _remotes(image: object, path: tuple[Any, ...], known: dict[str, str], out: Collector) -> None:
    if not isinstance(image, str):
        return
    remote, sep, _ = image.partition(":")
    if sep and remote not in known:
        names = ", ".join(sorted(known))
        out.error(
            "IS2",
            f"image {show(image)}: unknown image server {show(remote)} (known: {names}; declare it under "
            "global.image_servers)",
            path,
        )
