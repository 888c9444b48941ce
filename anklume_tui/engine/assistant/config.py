"""Which model the local assistant asks (`explain`): `<config>/assistant.toml`, never infra.yml.

Off until the user writes the file (`backend = "none"` is the default). The API key, when the backend
needs one, is read from a file the config names, so the key itself is in no config and in no infra.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ...errors import Invalid
from ..host import paths

Backend = Literal["none", "ollama", "openai"]
BACKENDS: tuple[Backend, ...] = ("none", "ollama", "openai")


class AssistantConfigError(Invalid):
    """The assistant's config file cannot be used as written; the message names the file and the key."""


def how_to_configure() -> str:
    return (
        f'the assistant is off: write {paths.assistant_config_file()} with backend = "ollama" (base_url '
        '"http://HOST:11434") or backend = "openai" (an OpenAI-compatible base_url ending in /v1, and '
        'api_key_file = "/path/to/key" if it needs a key), model = "NAME", and with exclusive AI access '
        'domain = "DOMAIN" (the domain you ask from)'
    )


@dataclass(frozen=True)
class AssistantConfig:
    backend: Backend = "none"
    base_url: str = ""
    model: str = ""
    api_key_file: Path | None = None
    domain: str | None = None  # the domain the request comes from (exclusive AI access, SPEC §10.5)
    timeout: float = 120.0

    @property
    def enabled(self) -> bool:
        return self.backend != "none"

    def api_key(self) -> str | None:
        if self.api_key_file is None:
            return None
        try:
            return self.api_key_file.read_text(encoding="utf-8").strip() or None
        except OSError as exc:
            raise AssistantConfigError(
                f"{paths.assistant_config_file()}: api_key_file {self.api_key_file}: {exc.strerror or exc}"
            ) from None


def load_config(file: Path | None = None) -> AssistantConfig:
    """The config as written; a missing file is `backend = "none"`."""
    file = file or paths.assistant_config_file()
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return AssistantConfig()
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise AssistantConfigError(f"{file}: {exc}") from None
    known = {"backend", "base_url", "model", "api_key_file", "domain", "timeout"}
    if unknown := sorted(set(data) - known):
        raise AssistantConfigError(f"{file}: unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    for key in known - {"timeout"}:
        if key in data and not isinstance(data[key], str):
            raise AssistantConfigError(f"{file}: {key} must be a string")
    backend = data.get("backend", "none")
    if backend not in BACKENDS:
        raise AssistantConfigError(f"{file}: backend {backend!r} is not one of {', '.join(BACKENDS)}")
    timeout = data.get("timeout", 120.0)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise AssistantConfigError(f"{file}: timeout must be a positive number of seconds")
    config = AssistantConfig(
        backend=backend,
        base_url=str(data.get("base_url", "")).rstrip("/"),
        model=str(data.get("model", "")),
        api_key_file=Path(data["api_key_file"]).expanduser() if data.get("api_key_file") else None,
        domain=data.get("domain") or None,
        timeout=float(timeout),
    )
    if config.enabled and not (config.base_url.startswith(("http://", "https://")) and config.model):
        raise AssistantConfigError(f"{file}: backend {backend!r} needs base_url (http:// or https://) and model")
    return config
