"""The incus CLI's remotes, and the Incus an infra names in `global.incus` (psot/incus_target.py).

Which Incus a run talks to: `--incus URL`, else `$ANKLUME_INCUS`, else the infra's `global.incus` (set for the
run with `use_infra_incus`), else `$INCUS_DIR/unix.socket`, else /var/lib/incus/unix.socket.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...errors import Invalid
from ...psot.incus_target import IncusTarget
from .endpoint import DEFAULT_SOCKET, Endpoint, incus_config_dir, resolve_endpoint, set_infra_endpoint

LOCAL = "local"


@dataclass(frozen=True)
class Remote:
    """A remote of the incus CLI that is an Incus server (not an image server)."""

    name: str
    addr: str  # https://host:port, or unix:// (the local socket) / unix:///path


def incus_remotes(config_dir: Path | None = None) -> dict[str, Remote]:
    """The Incus servers among the incus CLI's remotes (`incus remote list`), by name; `local` always (the CLI's
    own default). Image servers (simplestreams, oci) are left out: an infra cannot apply to them."""
    conf = config_dir or incus_config_dir()
    found: dict[str, Remote] = {LOCAL: Remote(LOCAL, "unix://")}
    for name, remote in _read_remotes(conf / "config.yml").items():
        if not isinstance(remote, dict) or remote.get("protocol", "incus") != "incus":
            continue
        addr = str(remote.get("addr") or "")
        if addr.startswith(("https://", "unix:")):
            found[str(name)] = Remote(str(name), addr)
    return found


def _read_remotes(config: Path) -> dict[Any, Any]:
    import yaml

    try:
        data = yaml.safe_load(config.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError):  # a broken config names no remote
        return {}
    remotes = data.get("remotes") if isinstance(data, dict) else None
    return remotes if isinstance(remotes, dict) else {}


def endpoint_of(target: IncusTarget, config_dir: Path | None = None) -> Endpoint:
    """The connection `global.incus` names. An unknown remote raises Invalid naming the remotes there are."""
    conf = config_dir or incus_config_dir()
    if target.remote is not None:
        remotes = incus_remotes(conf)
        remote = remotes.get(target.remote)
        if remote is None:
            raise Invalid(
                f"global.incus.remote: the incus CLI has no remote {target.remote!r} (remotes in "
                f"{conf / 'config.yml'}: {', '.join(sorted(remotes))})"
            )
        if remote.addr.startswith("unix:"):
            socket = remote.addr.removeprefix("unix:").removeprefix("//") or _local_socket()
            return resolve_endpoint(f"unix://{socket}")
        pinned = conf / "servercerts" / f"{remote.name}.crt"
        return resolve_endpoint(remote.addr, server_cert=pinned if pinned.is_file() else None)
    if target.url is not None:
        return resolve_endpoint(
            target.url,
            cert=target.file(target.client_cert),
            key=target.file(target.client_key),
            server_cert=target.file(target.server_cert),
        )
    return resolve_endpoint(None)


def _local_socket() -> str:
    """The socket of the local daemon, as without global.incus: `$INCUS_DIR/unix.socket`, else the default."""
    incus_dir = os.environ.get("INCUS_DIR")
    return os.path.join(incus_dir, "unix.socket") if incus_dir else DEFAULT_SOCKET


def use_infra_incus(target: IncusTarget | None) -> Endpoint | None:
    """For the rest of this run, the Incus a client reaches when neither `--incus` nor `$ANKLUME_INCUS` names
    one (None: the local socket again); the endpoint, or None when the target is local."""
    endpoint = None if target is None or target.is_local else endpoint_of(target)
    set_infra_endpoint(endpoint)
    return endpoint
