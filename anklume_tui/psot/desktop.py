"""Desktop integration (issue 21): a domain's machines reach a display of the host, and the clipboard moves
between domains only by an explicit action, where the infra allows it.

    global:
      desktop:
        x11: ":0"                    # the host's X display (or its number)
        wayland: wayland-0           # the host compositor's socket: a name in runtime_dir, or an absolute path
        runtime_dir: /run/user/1000  # where a socket name is looked up (default /run/user/1000)
        uid: 1000                    # the relays reach the displays as this user (and gid), not as root
    domains:
      work:
        trust_level: trusted
        desktop:
          display: true              # its containers get the display sockets (default false)
          x11: ":1"                  # a display of its own (its own clipboard) instead of global's
          clipboard:
            copy: true               # its clipboard may be copied out (default true)
            paste: true              # the host buffer may be pasted into it (default true)
            paste_from: [lab]        # less trusted domains whose clipboard may be pasted into it anyway

Enrichment gives each container of a domain with `display: true` Incus proxy devices (bind instance): `dsp-x11`
listens on the abstract socket `@/tmp/.X11-unix/X<n>` (no file, so a tmpfs mounted on /tmp cannot hide it) and
connects to the host's `/tmp/.X11-unix/X<n>`; `dsp-wayland` listens on `/run/anklume-wayland` and connects to
the host socket. DISPLAY and WAYLAND_DISPLAY go into the machine's `environment.*` config. Apply removes a
`dsp-*` proxy nothing declares any more, as it does a service relay.

The clipboard rule (`clipboard_verdict`): a transfer between two domains is refused when the source's
`clipboard.copy` is false (CB1), when the target's `clipboard.paste` is false (CB2), or when the source is less
trusted than the target and the target does not list it in `paste_from` (CB3).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .constants import TRUST_LEVELS, effective_trust
from .enrich_volumes import machines_by_name, merge_generated

GLOBAL_DESKTOP_KEYS = ("x11", "wayland", "runtime_dir", "uid", "gid")
DOMAIN_DESKTOP_KEYS = ("display", "x11", "wayland", "clipboard")
CLIPBOARD_KEYS = ("copy", "paste", "paste_from")
DEFAULT_RUNTIME_DIR = "/run/user/1000"
DISPLAY_DEVICE_PREFIX = "dsp-"  # every display relay the tool generates: apply and plan know them by it
X11_DEVICE = f"{DISPLAY_DEVICE_PREFIX}x11"
WAYLAND_DEVICE = f"{DISPLAY_DEVICE_PREFIX}wayland"
WAYLAND_IN_MACHINE = "/run/anklume-wayland"  # /run is mounted before Incus starts the proxy: nothing hides it
X11_RE = re.compile(r":?([0-9]{1,4})")
SOCKET_NAME_RE = re.compile(r"[A-Za-z0-9._-]+")


def x11_number(value: object) -> int | None:
    """The display number of `x11: ":1"` (or `x11: 1`); None for anything else."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 9999:
        return value
    if isinstance(value, str) and (found := X11_RE.fullmatch(value)):
        return int(found.group(1))
    return None


def wayland_problem(value: object) -> str | None:
    """Why a `wayland` value is not a socket name or an absolute path; None when it is one."""
    if not isinstance(value, str) or not value:
        return "must be a socket name (wayland-0) or an absolute path"
    if value.startswith("/"):
        parts = value.split("/")[1:]
        if any(part in ("", ".", "..") for part in parts) or any(c.isspace() for c in value):
            return "must be a plain absolute path (no '..', '//', spaces)"
        return None
    if not SOCKET_NAME_RE.fullmatch(value) or value in (".", ".."):
        return "must be a socket name (letters, digits, '.', '_', '-') or an absolute path"
    return None


def _mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class Display:
    """The displays a domain's machines reach: the host X display number and Wayland socket path."""

    x11: int | None
    wayland: str | None  # absolute host path
    # Who the relays connect to the host's sockets as (Incus's security.uid/gid): a display that lets in only
    # its own user (xhost's SI:localuser) needs its uid; None: root.
    uid: int | None = None
    gid: int | None = None

    def env(self) -> dict[str, str]:
        """DISPLAY and WAYLAND_DISPLAY inside the machine."""
        env = {}
        if self.x11 is not None:
            env["DISPLAY"] = f":{self.x11}"
        if self.wayland is not None:
            env["WAYLAND_DISPLAY"] = WAYLAND_IN_MACHINE
        return env


def domain_display(settings: dict[str, Any], domain: dict[str, Any]) -> Display | None:
    """The displays of a domain with `desktop.display: true` (its own x11/wayland, else global's); None when
    its machines get no display."""
    desktop = _mapping(domain.get("desktop"))
    if desktop.get("display") is not True:
        return None
    default = _mapping(settings.get("desktop"))
    x11 = desktop.get("x11", default.get("x11"))
    wayland = desktop.get("wayland", default.get("wayland"))
    runtime = default.get("runtime_dir") or DEFAULT_RUNTIME_DIR
    path = None
    if isinstance(wayland, str) and wayland:
        path = wayland if wayland.startswith("/") else f"{str(runtime).rstrip('/')}/{wayland}"
    uid, gid = default.get("uid"), default.get("gid", default.get("uid"))
    return Display(x11_number(x11), path, _id(uid), _id(gid))


def _id(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def display_devices(display: Display) -> dict[str, dict[str, str]]:
    devices: dict[str, dict[str, str]] = {}
    if display.x11 is not None:
        devices[X11_DEVICE] = {
            "type": "proxy",
            "bind": "instance",
            "listen": f"unix:@/tmp/.X11-unix/X{display.x11}",
            "connect": f"unix:/tmp/.X11-unix/X{display.x11}",
        }
    if display.wayland is not None:
        devices[WAYLAND_DEVICE] = {
            "type": "proxy",
            "bind": "instance",
            "listen": f"unix:{WAYLAND_IN_MACHINE}",
            "connect": f"unix:{display.wayland}",
            "mode": "0666",
        }
    if display.uid is not None:
        for device in devices.values():
            device["security.uid"] = str(display.uid)
            device["security.gid"] = str(display.gid if display.gid is not None else display.uid)
    return devices


def add_display_devices(data: dict[str, Any]) -> None:
    """Mutates `data` (the enrichment's own copy): the display relays and their environment merged into each
    container of a domain with `desktop.display: true` (the user's own device or config key wins). VMs get none:
    Incus relays unix sockets into containers only (DK6)."""
    settings = _mapping(data.get("global"))
    machines = machines_by_name(data)
    generated: dict[str, dict[str, dict[str, str]]] = {}
    envs: dict[str, dict[str, str]] = {}
    for domain_name, domain in (data.get("domains") or {}).items():
        display = domain_display(settings, _mapping(domain))
        if display is None:
            continue
        for machine_name, machine in (_mapping(domain).get("machines") or {}).items():
            if machines[machine_name][0] != domain_name or _mapping(machine).get("type") == "vm":
                continue
            generated[machine_name] = display_devices(display)
            envs[machine_name] = {f"environment.{key}": value for key, value in display.env().items()}
    merge_generated(data, machines, generated)  # gives a machine without a body its mapping
    for machine_name, env in envs.items():
        body = data["domains"][machines[machine_name][0]]["machines"][machine_name]
        body["config"] = {**env, **(body.get("config") or {})}


def display_env(config: dict[str, Any] | None) -> dict[str, str]:
    """DISPLAY and WAYLAND_DISPLAY a machine's programs use: read off its enriched config."""
    config = config or {}
    return {
        key: str(config[f"environment.{key}"])
        for key in ("DISPLAY", "WAYLAND_DISPLAY")
        if config.get(f"environment.{key}") is not None
    }


@dataclass(frozen=True)
class ClipboardSide:
    """One end of a transfer: a domain's name, its effective trust and its `desktop.clipboard` settings."""

    domain: str
    trust: str
    copy: bool = True
    paste: bool = True
    paste_from: tuple[str, ...] = ()


def clipboard_side(name: str, domain: dict[str, Any]) -> ClipboardSide:
    clipboard = _mapping(_mapping(domain.get("desktop")).get("clipboard"))
    listed = clipboard.get("paste_from")
    return ClipboardSide(
        domain=name,
        trust=effective_trust(domain),
        copy=clipboard.get("copy") is not False,
        paste=clipboard.get("paste") is not False,
        paste_from=tuple(str(d) for d in listed) if isinstance(listed, list) else (),
    )


@dataclass(frozen=True)
class ClipboardVerdict:
    allowed: bool
    rule: str | None  # CB1-CB3 when refused
    reason: str


def less_trusted(a: str, b: str) -> bool:
    """Whether trust level `a` is below `b` (admin > trusted > semi-trusted > untrusted > disposable)."""
    return TRUST_LEVELS.index(a) > TRUST_LEVELS.index(b)


def clipboard_verdict(source: ClipboardSide, target: ClipboardSide) -> ClipboardVerdict:
    """Whether the clipboard of `source` may be pasted into `target` (SPEC extension, issue 21: CB1-CB3)."""
    if source.domain == target.domain:
        return ClipboardVerdict(True, None, f"within domain '{source.domain}'")
    if not source.copy:
        return ClipboardVerdict(
            False, "CB1", f"domain '{source.domain}' sets desktop.clipboard.copy: false (nothing is copied out)"
        )
    if not target.paste:
        return ClipboardVerdict(
            False, "CB2", f"domain '{target.domain}' sets desktop.clipboard.paste: false (nothing is pasted in)"
        )
    if less_trusted(source.trust, target.trust):
        if source.domain in target.paste_from:
            return ClipboardVerdict(
                True, None, f"'{target.domain}' lists '{source.domain}' in desktop.clipboard.paste_from"
            )
        return ClipboardVerdict(
            False,
            "CB3",
            f"domain '{source.domain}' ({source.trust}) is less trusted than '{target.domain}' ({target.trust}); "
            f"allow it with desktop.clipboard.paste_from: [{source.domain}] in domain '{target.domain}'",
        )
    return ClipboardVerdict(
        True, None, f"'{source.domain}' ({source.trust}) is at least as trusted as '{target.domain}' ({target.trust})"
    )
