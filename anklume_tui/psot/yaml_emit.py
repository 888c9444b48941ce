"""Block-style YAML text for the generated Ansible files (SPEC §7.2).

The block layout is written here; every scalar is rendered by libyaml, so its
quoting is exactly what a YAML 1.1 reader needs to get the same value back.
Rendering a whole document through a YAML library is too slow for thousands of
host_vars files; a scalar is rendered once and then reused from the cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast

import yaml

INDENT = "  "
# A YAML reader gives up on implicit keys longer than 1024 characters.
_SIMPLE_KEY_MAX = 1000
_LINE_BREAKS = ("\n", "\r", "\x85", "\u2028", "\u2029")
_NO_WRAP = 2**31 - 1
UNSAFE_TAG = "!unsafe"


@dataclass(frozen=True)
class Unsafe:
    """A value written with Ansible's `!unsafe` tag: Ansible reads it, and everything under it, as data
    that is never evaluated as a template."""

    value: object


def emit(value: object) -> str:
    """The YAML text of `value`, ending with a newline."""
    if isinstance(value, Unsafe):
        inner = value.value
        body = emit(inner)
        if isinstance(inner, dict | list) and inner:
            return f"{UNSAFE_TAG}\n{body}"
        return f"{UNSAFE_TAG} {body}"
    if isinstance(value, dict) and value:
        lines = _mapping_lines(value, "")
    elif isinstance(value, list) and value:
        lines = _sequence_lines(value, "")
    else:
        lines = [_value_text(value, "") or "null"]
    return "\n".join(lines) + "\n"


@lru_cache(maxsize=65536, typed=True)
def scalar_text(value: object) -> str:
    """How libyaml writes one scalar, without the document end marker."""
    multiline = isinstance(value, str) and any(b in value for b in _LINE_BREAKS)
    text = yaml.dump(
        value,
        Dumper=yaml.CSafeDumper,
        width=_NO_WRAP,
        allow_unicode=True,
        # Quoted and escaped, so the scalar stays on one line at any depth.
        default_style='"' if multiline else None,
    )
    if text.endswith("\n...\n"):
        text = text[: -len("\n...\n")]
    return text.rstrip("\n")


def _indented(text: str, indent: str) -> str:
    """Continuation lines of a rendered scalar, moved under the current indentation."""
    if "\n" not in text:
        return text
    first, *rest = text.split("\n")
    return "\n".join([first, *(indent + line if line else line for line in rest)])


def _value_text(value: object, indent: str) -> str | None:
    """The text after `key: ` or `- `; None when the value needs lines of its own."""
    if isinstance(value, Unsafe):
        text = _value_text(value.value, indent)
        return None if text is None else f"{UNSAFE_TAG} {text}"
    if value is None:
        return ""
    if isinstance(value, dict):
        return None if value else "{}"
    if isinstance(value, list):
        return None if value else "[]"
    return _indented(scalar_text(value), indent + INDENT)


def _key_head(key: object, indent: str) -> str:
    """The key and its `:`; a long or multi-line key is written as an explicit `? ` key."""
    text = scalar_text(key)
    if "\n" in text or len(text) > _SIMPLE_KEY_MAX:
        return f"{indent}? {_indented(text, indent + INDENT)}\n{indent}:"
    return f"{indent}{text}:"


def _mapping_lines(mapping: dict[str, Any], indent: str) -> list[str]:
    lines: list[str] = []
    child = indent + INDENT
    for key, value in mapping.items():
        head = _key_head(key, indent)
        text = _value_text(value, indent)
        if text is None:
            lines.append(f"{head} {UNSAFE_TAG}" if isinstance(value, Unsafe) else head)
            lines.extend(_block_lines(value, child))
        else:
            lines.append(f"{head} {text}" if text else head)
    return lines


def _sequence_lines(items: list[Any], indent: str) -> list[str]:
    lines: list[str] = []
    child = indent + INDENT
    for item in items:
        text = _value_text(item, indent)
        if text is None:
            nested = _block_lines(item, child)
            if isinstance(item, Unsafe):
                lines.append(f"{indent}- {UNSAFE_TAG}")
            else:
                nested[0] = f"{indent}- {nested[0][len(child) :]}"
            lines.extend(nested)
        else:
            lines.append(f"{indent}- {text}" if text else f"{indent}-")
    return lines


def _block_lines(value: object, indent: str) -> list[str]:
    if isinstance(value, Unsafe):
        value = value.value
    if isinstance(value, dict):
        return _mapping_lines(value, indent)
    return _sequence_lines(cast(list[Any], value), indent)  # _value_text leaves only mappings and lists here
