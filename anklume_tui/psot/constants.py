"""Names and fixed values of the infra.yml format (SPEC.md §3, §5)."""

from __future__ import annotations

import re
from typing import Any

NAME_RE = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?\Z")

TRUST_LEVELS = ("admin", "trusted", "semi-trusted", "untrusted", "disposable")
DEFAULT_TRUST = "semi-trusted"
# Zone offset of each trust level, in units of zone_step (SPEC §5.1, §11).
ZONE_MULTIPLIER = {"admin": 0, "trusted": 1, "semi-trusted": 2, "untrusted": 4, "disposable": 5}

DEFAULT_BASE_OCTET = 10
DEFAULT_ZONE_BASE = 100
DEFAULT_ZONE_STEP = 10
DEFAULT_BASE_SUBNET = "10.100"
DEFAULT_OS_IMAGE = "images:debian/13"
# Remote prefixes of image names (`images:debian/13`) and the simplestreams servers they stand for;
# `global.image_servers` adds prefixes or points these at another server (a private mirror).
DEFAULT_IMAGE_SERVERS = {
    "images": "https://images.linuxcontainers.org",
    "ubuntu": "https://cloud-images.ubuntu.com/releases",
}
DEFAULT_SHARED_VOLUMES_BASE = "/srv/anklume/shares"
DEFAULT_PERSISTENT_DATA_BASE = "/srv/anklume/data"
DEFAULT_SERVICES_BASE = "/var/lib/anklume/services"

GATEWAY_HOST = 254
FIREWALL_HOST = 253
AUTO_IP_MAX = 99
DHCP_RANGE = (100, 249)

ADMIN_DOMAIN = "anklume"
AI_TOOLS_DOMAIN = "ai-tools"
FIREWALL_MACHINES = ("anklume-firewall", "sys-firewall")
FIREWALL_MACHINE = "anklume-firewall"

MANAGED_KEY = "user.anklume.managed"
# The infra an object belongs to: its `project_name` (SPEC §10.8); flush and prune touch only their own.
INFRA_KEY = "user.anklume.infra"


def effective_trust(domain: dict[str, Any]) -> str:
    level = domain.get("trust_level")
    return level if isinstance(level, str) and level in TRUST_LEVELS else DEFAULT_TRUST


def nesting_prefix(enabled: object, absolute_level: int | None) -> str:
    """Prefix of every Incus-facing name (SPEC §5.6)."""
    if enabled is False or absolute_level is None:
        return ""
    return f"{absolute_level:03d}-"


# Trust colours shared by the console (tmux colour names) and the TUI (the same
# xterm-256 colours as hex), plus a word so nothing depends on colour alone.
TRUST_COLOURS = {
    "admin": ("colour17", "#00005f"),
    "trusted": ("colour22", "#005f00"),
    "semi-trusted": ("colour58", "#5f5f00"),
    "untrusted": ("colour52", "#5f0000"),
    "disposable": ("colour53", "#5f005f"),
}
TRUST_GLYPHS = {"admin": "◆", "trusted": "●", "semi-trusted": "◐", "untrusted": "○", "disposable": "◌"}
