"""`global.incus`: which Incus the infra applies to (SPEC §3.3; rules IN1, IN2).

- absent, or `local`: the local unix socket, as without the key;
- `{remote: NAME}`: a remote of the incus CLI's configuration (`incus remote list`), by its name;
- `{url: https://host:8443, client_cert: F, client_key: F, server_cert: F}`: explicitly, the files relative to
  the infra's folder; without `client_cert`/`client_key` the incus CLI's client certificate is used, without
  `server_cert` the certificate it pinned for that address (else the system's CAs).

`--incus URL` and `$ANKLUME_INCUS` win over it. Pure: the shape is checked here; whether a remote's name exists is
the host's fact (HostContext.incus_remotes), and the engine turns a target into a connection.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LOCAL = "local"
EXPLICIT_KEYS = ("url", "client_cert", "client_key", "server_cert")
# A cheap look before parsing a whole file: no `incus:` that starts a word, no `incus:` key anywhere. The word's
# start is checked by hand (`_mentions_incus`): a leading \b makes re try the pattern at every character (4 ms on
# a 1,000-machine infra, 56 M instructions, twice a run), its literal start lets it skip to each `incus`.
MENTIONS_INCUS = re.compile(r"""incus['"]?\s*:""")


@dataclass(frozen=True)
class IncusTarget:
    """Where the infra applies: `remote` (a name of the incus CLI's config) or `url` (and its files, relative to
    `base`, the infra's folder); neither: the local socket."""

    remote: str | None = None
    url: str | None = None
    client_cert: str | None = None
    client_key: str | None = None
    server_cert: str | None = None
    base: Path | None = None

    @property
    def is_local(self) -> bool:
        return self.remote is None and self.url is None

    def file(self, name: str | None) -> Path | None:
        """A certificate file's path, relative ones from the infra's folder."""
        if name is None:
            return None
        path = Path(name).expanduser()
        return path if path.is_absolute() or self.base is None else self.base / path


def incus_problems(value: Any) -> list[tuple[str, tuple[str, ...]]]:
    """IN1: what is wrong with the shape of `global.incus` (message, path below `global.incus`)."""
    if value is None or value == LOCAL:
        return []
    if not isinstance(value, dict):
        return [
            (
                f"global.incus must be 'local', {{remote: NAME}} or {{url: https://HOST:8443, client_cert: FILE, "
                f"client_key: FILE, server_cert: FILE}} (got {_show(value)})",
                (),
            )
        ]
    unknown = [key for key in value if key not in ("remote", *EXPLICIT_KEYS)]
    if unknown:
        return [
            (
                f"global.incus: unknown key {_show(key)} (known: remote, or {', '.join(EXPLICIT_KEYS)})",
                (key,),
            )
            for key in unknown
        ]
    if "remote" in value:
        others = [str(k) for k in value if k != "remote"]
        if others:
            drop = ", ".join(others)
            return [
                (f"global.incus: remote names the server alone; drop {drop} (the remote has its own)", (others[0],))
            ]
        if not _text(value["remote"]) or ":" in value["remote"] or "/" in value["remote"]:
            return [(f"global.incus.remote must be a remote's name (got {_show(value['remote'])})", ("remote",))]
        return []
    return _explicit_problems(value)


def _explicit_problems(value: dict[str, Any]) -> list[tuple[str, tuple[str, ...]]]:
    if "url" not in value:
        return [("global.incus needs remote: NAME or url: https://HOST:8443", ())]
    found: list[tuple[str, tuple[str, ...]]] = []
    url = value["url"]
    if not _text(url) or not re.fullmatch(r"https://[^/\s:]+(:\d{1,5})?/?|https://\[[0-9a-fA-F:]+\](:\d{1,5})?/?", url):
        found.append((f"global.incus.url must be https://HOST[:PORT] (got {_show(url)})", ("url",)))
    for key in EXPLICIT_KEYS[1:]:
        if key in value and not _text(value[key]):
            found.append((f"global.incus.{key} must be a file's path (got {_show(value[key])})", (key,)))
    if ("client_cert" in value) != ("client_key" in value):
        given, missing = ("client_cert", "client_key") if "client_cert" in value else ("client_key", "client_cert")
        found.append((f"global.incus: client_cert and client_key go together; add {missing}", (given,)))
    return found


def incus_target(value: Any, base: Path | None = None) -> IncusTarget | None:
    """The target `global.incus` names; None when its shape is wrong (IN1 says why)."""
    if incus_problems(value):
        return None
    if not isinstance(value, dict):
        return IncusTarget(base=base)
    if "remote" in value:
        return IncusTarget(remote=value["remote"], base=base)
    return IncusTarget(**{key: value.get(key) for key in EXPLICIT_KEYS}, base=base)


def _mentions_incus(text: str) -> bool:
    """Whether `text` has `incus:` (or `'incus':`, `"incus" :`) where a word starts (not `myincus:`)."""
    for found in MENTIONS_INCUS.finditer(text):
        before = text[found.start() - 1 : found.start()]
        if not (before.isalnum() or before == "_"):
            return True
    return False


def declared_incus(path: Path) -> tuple[Any, Path] | None:
    """`global.incus` as the infra at `path` (a file, or an infra/ directory's base.yml) writes it, with the
    file that says it (its folder is where certificate files are found from); None when it says nothing (or
    cannot be read: validation says why).
    Only a file that mentions `incus:` is parsed, so that an infra without the key costs one read."""
    from .load import resolve_infra_path

    found = resolve_infra_path(path)
    if found is None:
        return None
    from .yaml_bounds import UnreadableInput, read_regular_file

    base = found / "base.yml" if found.is_dir() else found
    try:
        # The loader's bounded read: a FIFO, a device or a file past the bound is left to validation (L1, L3).
        text = read_regular_file(base).decode("utf-8")
    except (OSError, UnicodeDecodeError, UnreadableInput):
        return None
    if not _mentions_incus(text):
        return None
    import yaml

    try:
        data = yaml.safe_load(text)
    except (yaml.YAMLError, RecursionError):
        return None
    settings = data.get("global") if isinstance(data, dict) else None
    if not isinstance(settings, dict) or "incus" not in settings:
        return None
    return settings["incus"], base


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _show(value: Any) -> str:
    from .validate.common import show

    return show(value)
