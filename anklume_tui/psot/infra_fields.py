"""The fields of a domain and of a machine that the edit forms offer (SPEC §3.4, §3.5), and their text forms."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .constants import TRUST_LEVELS


class Kind(StrEnum):
    TEXT = "text"  # a string; empty means "not declared"
    INT = "int"  # an integer; empty means "not declared"; other text is kept for validation to name
    BOOL = "bool"
    CHOICE = "choice"  # one of `choices`; "" means "not declared"
    LIST = "list"  # names separated by commas or spaces


@dataclass(frozen=True)
class FieldSpec:
    key: str
    label: str
    kind: Kind
    default: object = None  # the value an absent key means: setting it leaves the file alone
    choices: tuple[str, ...] = ()


NAME = FieldSpec("name", "Name", Kind.TEXT)

DOMAIN_FIELDS = (
    NAME,
    FieldSpec("description", "Description", Kind.TEXT, ""),
    FieldSpec("trust_level", "Trust level", Kind.CHOICE, choices=TRUST_LEVELS),
    FieldSpec("subnet_id", "Subnet id (0-254)", Kind.INT),
    FieldSpec("enabled", "Enabled", Kind.BOOL, True),
    FieldSpec("ephemeral", "Ephemeral (unprotected)", Kind.BOOL, False),
    FieldSpec("ai_provider", "AI provider", Kind.CHOICE, choices=("local", "cloud", "local-first")),
)

MACHINE_FIELDS = (
    NAME,
    FieldSpec("description", "Description", Kind.TEXT, ""),
    FieldSpec("type", "Type", Kind.CHOICE, "lxc", choices=("lxc", "vm")),
    FieldSpec("os_image", "OS image", Kind.TEXT),
    FieldSpec("ip", "IP", Kind.TEXT),
    FieldSpec("roles", "Roles", Kind.LIST),
    FieldSpec("weight", "Weight", Kind.INT),
    FieldSpec("gpu", "GPU", Kind.BOOL, False),
    FieldSpec("ephemeral", "Ephemeral", Kind.CHOICE, choices=("true", "false")),
)


def value_of(spec: FieldSpec, text: str) -> object:
    """The YAML value a form's text stands for; None means the key is not declared."""
    text = text.strip()
    if spec.kind is Kind.LIST:
        names = [part for part in text.replace(",", " ").split() if part]
        return names or None
    if not text:
        return None
    if spec.kind is Kind.INT:
        try:
            return int(text)
        except ValueError:
            return text
    if spec.kind is Kind.CHOICE and text in ("true", "false"):
        return text == "true"
    return text


def text_of(spec: FieldSpec, value: object) -> str:
    """How a declared value shows in a form's text box or select."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
