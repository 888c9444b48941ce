"""Where Incus is: an explicit URL, `$ANKLUME_INCUS`, the infra's `global.incus`, `$INCUS_DIR`, the default
socket, resolved to an `Endpoint` with its TLS material.

Standard library only (ssl is imported when a TLS context is made): a verb resolves where Incus is, and starts
reading it (quick_read.py), before it imports httpx and asyncio with the transport (issue 17)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from .errors import IncusUrlError

if TYPE_CHECKING:
    import ssl

DEFAULT_SOCKET = "/var/lib/incus/unix.socket"
DEFAULT_HTTPS_PORT = 8443
# The TLS files of an HTTPS endpoint handed to a child process (Endpoint.environment): cert, key, server cert, CA.
TLS_VARIABLES = (
    "ANKLUME_INCUS_CLIENT_CERT",
    "ANKLUME_INCUS_CLIENT_KEY",
    "ANKLUME_INCUS_SERVER_CERT",
    "ANKLUME_INCUS_CA",
)


@dataclass(frozen=True)
class Endpoint:
    """A resolved Incus address: a unix socket, or an HTTPS URL with the client's TLS material."""

    url: str
    socket: str | None = None
    cert: Path | None = None
    key: Path | None = None
    server_cert: Path | None = None
    ca: Path | None = None

    @property
    def is_unix(self) -> bool:
        return self.socket is not None

    @property
    def base_url(self) -> str:
        return "http://incus" if self.is_unix else self.url

    def environment(self) -> dict[str, str]:
        """This endpoint as environment variables, for a process of ours that connects again (the Ansible
        connection plugin): `$ANKLUME_INCUS` and the TLS files `resolve_endpoint` reads back."""
        found = {"ANKLUME_INCUS": self.url}
        for name, path in zip(TLS_VARIABLES, (self.cert, self.key, self.server_cert, self.ca), strict=True):
            if path is not None:
                found[name] = str(path)
        return found

    def ssl_context(self) -> ssl.SSLContext:
        """Client certificate for authentication; the server is checked against its pinned certificate
        (`servercerts/<remote>.crt`, as the incus CLI keeps it), else the CA, else the system store."""
        import ssl

        if self.server_cert is not None:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.load_verify_locations(cafile=str(self.server_cert))
            ctx.check_hostname = False  # pinned certificate: the certificate itself is the identity
        else:
            ctx = ssl.create_default_context(cafile=str(self.ca) if self.ca else None)
        if self.cert is not None and self.key is not None:
            ctx.load_cert_chain(str(self.cert), str(self.key))
        return ctx


def incus_config_dir() -> Path:
    """The incus CLI's configuration folder: `$INCUS_CONF`, else `$XDG_CONFIG_HOME/incus`."""
    if os.environ.get("INCUS_CONF"):
        return Path(os.environ["INCUS_CONF"])
    xdg = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(xdg) / "incus"


def _pinned_server_cert(config_dir: Path, url: str) -> Path | None:
    """The incus CLI pins each remote's certificate under servercerts/<remote name>.crt."""
    try:
        import yaml

        remotes = (yaml.safe_load((config_dir / "config.yml").read_text()) or {}).get("remotes", {})
    except (OSError, ValueError, AttributeError, ImportError):
        return None
    wanted = urlsplit(url)
    for name, remote in (remotes or {}).items():
        addr = urlsplit(str((remote or {}).get("addr", "")))
        same_port = (addr.port or DEFAULT_HTTPS_PORT) == (wanted.port or DEFAULT_HTTPS_PORT)
        if addr.scheme == "https" and addr.hostname == wanted.hostname and same_port:
            candidate = config_dir / "servercerts" / f"{name}.crt"
            if candidate.exists():
                return candidate
    return None


# The infra's `global.incus` for this run (remotes.use_infra_incus): below --incus and $ANKLUME_INCUS.
_infra_endpoint: list[Endpoint | None] = [None]


def set_infra_endpoint(endpoint: Endpoint | None) -> None:
    _infra_endpoint[0] = endpoint


def resolve_endpoint(
    url: str | None = None,
    *,
    cert: str | Path | None = None,
    key: str | Path | None = None,
    server_cert: str | Path | None = None,
    ca: str | Path | None = None,
) -> Endpoint:
    """Explicit URL, else `$ANKLUME_INCUS`, else the infra's `global.incus` (remotes.use_infra_incus), else
    `$INCUS_DIR/unix.socket`, else /var/lib/incus/unix.socket."""
    url = url or os.environ.get("ANKLUME_INCUS") or None
    if url is None and _infra_endpoint[0] is not None:
        return _infra_endpoint[0]
    if url is None:
        incus_dir = os.environ.get("INCUS_DIR")
        socket = os.path.join(incus_dir, "unix.socket") if incus_dir else DEFAULT_SOCKET
        return Endpoint(url=f"unix://{socket}", socket=socket)
    if url.startswith("unix:"):
        socket = url.removeprefix("unix:").removeprefix("//")
        if not socket:
            raise IncusUrlError(f"no socket path in Incus URL {url!r}")
        socket = os.path.abspath(socket)
        return Endpoint(url=f"unix://{socket}", socket=socket)
    if url.startswith("/"):
        return Endpoint(url=f"unix://{url}", socket=url)
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise IncusUrlError(f"Incus URL {url!r} is neither unix:///path/to/unix.socket nor https://host:8443")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    normalised = f"https://{host}:{parts.port or DEFAULT_HTTPS_PORT}"
    if url == os.environ.get("ANKLUME_INCUS"):  # handed down by Endpoint.environment, with its files
        given = [os.environ.get(name) or None for name in TLS_VARIABLES]
        mine = (cert, key, server_cert, ca)
        cert, key, server_cert, ca = (own or handed for own, handed in zip(mine, given, strict=True))
    conf = incus_config_dir()
    return Endpoint(
        url=normalised,
        cert=Path(cert) if cert else conf / "client.crt",
        key=Path(key) if key else conf / "client.key",
        server_cert=Path(server_cert) if server_cert else _pinned_server_cert(conf, normalised),
        ca=Path(ca) if ca else (conf / "client.ca" if (conf / "client.ca").exists() else None),
    )
