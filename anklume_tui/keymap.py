"""Keys: the user's keymap (`$XDG_CONFIG_HOME/anklume/keymap.toml`) and keys written the way people type them.

The file remaps bindings by id, in a `[keys]` table: `"domains.start" = "S"`, `"app.help" = "f2, ?"` (or a
list, `["f2", "?"]`). An entry that cannot be used — an id no binding has, a key Textual does not know — is named
in a problem and left out; a file that cannot be read or parsed is named and ignored: the app starts anyway."""

from __future__ import annotations

import importlib
import pkgutil
import re
import string
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from textual.binding import Binding
from textual.dom import DOMNode
from textual.keys import Keys, _character_to_key, key_to_character

from .engine.host import user_keymap_file

MODIFIERS = ("ctrl", "alt", "shift", "meta", "super", "hyper")
NAMED_KEYS = frozenset(
    key.value.rpartition("+")[2] for key in Keys if not key.value.startswith("<") and "-" not in key.value
) | {"plus"}
TYPED_AS = {
    "escape": "Esc",
    "enter": "Enter",
    "tab": "Tab",
    "space": "Space",
    "backspace": "Backspace",
    "delete": "Del",
    "insert": "Ins",
    "pageup": "PgUp",
    "pagedown": "PgDn",
    "home": "Home",
    "end": "End",
    "up": "↑",
    "down": "↓",
    "left": "←",
    "right": "→",
    "comma": "Comma",
}
FROM_TYPED = {shown.lower(): name for name, shown in TYPED_AS.items()} | {"esc": "escape", "pgup": "pageup"}
CHARACTERS = {_character_to_key(character): character for character in string.punctuation}


@dataclass(frozen=True)
class KeymapProblem:
    path: Path
    reason: str

    def render(self) -> str:
        return f"{self.path}: {self.reason}"


def read_keymap(path: Path | None = None) -> tuple[dict[str, str], list[KeymapProblem]]:
    """The remappings of the user's file (binding id → Textual key names, comma separated), and those left out.
    No file: nothing remapped."""
    path = path or user_keymap_file()
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}, []
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else exc.reason
        return {}, [KeymapProblem(path, f"cannot be read ({reason}); no key remapped")]
    try:
        document = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as exc:
        return {}, [KeymapProblem(path, f"not valid TOML ({exc}); no key remapped")]
    table = document.get("keys", {})
    if not isinstance(table, dict):
        return {}, [KeymapProblem(path, "`keys` must be a table of binding id = keys; no key remapped")]
    keymap, problems = {}, []
    for binding_id, wanted in _flat(table):
        keys, reason = _textual_keys(wanted)
        if reason:
            problems.append(KeymapProblem(path, f"{binding_id} = {wanted!r}: {reason}; ignored"))
        else:
            keymap[binding_id] = keys
    return keymap, problems


def _flat(table: dict, prefix: str = "") -> Iterator[tuple[str, object]]:
    """`domains.start = "S"` unquoted is a table in TOML: its dotted path is the binding id all the same."""
    for name, value in table.items():
        if isinstance(value, dict):
            yield from _flat(value, f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}", value


def against_bindings(keymap: Mapping[str, str], path: Path | None = None) -> list[KeymapProblem]:
    """Entries naming no binding of the app, and keys a remapping takes from another binding of the same screen or
    widget (that one loses it). Imports every screen: call it off the UI thread."""
    path = path or user_keymap_file()
    by_owner: dict[type, list[Binding]] = {}
    for owner, binding in bindings():
        by_owner.setdefault(owner, []).append(binding)
    known = {binding.id for owned in by_owner.values() for binding in owned}
    problems = [KeymapProblem(path, f"{bid}: no binding has this id; ignored") for bid in keymap if bid not in known]
    for owned in by_owner.values():
        for taker in (binding for binding in owned if binding.id in keymap):
            for other in owned:
                lost = set(bound_keys(keymap, other).split(",")) & set(keymap[taker.id or ""].split(","))
                if other is not taker and other.id not in keymap and lost:
                    keys = as_typed(",".join(sorted(lost)))
                    problems.append(KeymapProblem(path, f"{taker.id}: {keys} takes the key of {other.id}"))
    return problems


def bindings() -> Iterator[tuple[type, Binding]]:
    """Every binding the app's own classes (the app, its screens and widgets) declare, with its class."""
    from . import app, screens, widgets

    for package in (screens, widgets):
        for module in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            importlib.import_module(module.name)
    seen: set[type] = set()
    pending: list[type] = [DOMNode, app.AnklumeApp]
    while pending:
        cls = pending.pop()
        if cls in seen:
            continue
        seen.add(cls)
        pending.extend(cls.__subclasses__())
        if cls.__module__.startswith(f"{__package__}."):
            for binding in cls.__dict__.get("BINDINGS", []):
                if isinstance(binding, Binding):
                    yield cls, binding


def _textual_keys(wanted: object) -> tuple[str, str | None]:
    """Keys as the user wrote them (a string, comma separated, or a list) in Textual's names, or why not."""
    if isinstance(wanted, str):
        written = [key.strip() for key in wanted.split(",")] if wanted.strip() != "," else [","]
    elif isinstance(wanted, list) and all(isinstance(key, str) for key in wanted):
        written = [key.strip() for key in wanted]
    else:
        return "", "keys are a string (comma separated) or a list of strings"
    if not written or not all(written):
        return "", "no key given"
    keys = []
    for key in written:
        named = _textual_name(key)
        if named is None:
            return "", f"{key!r} is not a key"
        keys.append(named)
    return ",".join(keys), None


def _textual_name(key: str) -> str | None:
    """`?` → `question_mark`, `Ctrl+P` → `ctrl+p`, `F1` → `f1`; None for what no keyboard sends."""
    *modifiers, base = key.split("+") if key != "+" else ["+"]
    modifiers = [modifier.lower() for modifier in modifiers]
    if any(modifier not in MODIFIERS for modifier in modifiers) or not base:
        return None
    if base.lower() in FROM_TYPED:
        base = FROM_TYPED[base.lower()]
    elif len(base) == 1:
        if not base.isprintable():
            return None
        base = base.lower() if modifiers and base.isalpha() else _character_to_key(base)
    else:
        base = base.lower()
        character = key_to_character(base)
        if base not in NAMED_KEYS and not (character and character.isprintable()):
            return None
    return "+".join([*modifiers, base])


def as_typed(keys: str) -> str:
    """Textual key names as people type them: `question_mark,f1` → `?, F1`; `ctrl+p` → `Ctrl+P`."""
    return ", ".join(_typed(key.strip()) for key in keys.split(","))


def _typed(key: str) -> str:
    *modifiers, base = key.split("+")
    if base in TYPED_AS:
        shown = TYPED_AS[base]
    elif re.fullmatch(r"f\d{1,2}", base):
        shown = base.upper()
    else:
        character = CHARACTERS.get(base) or key_to_character(base)
        shown = character if character and character.isprintable() and not character.isspace() else base
        if modifiers and len(shown) == 1:
            shown = shown.upper()
    return "+".join([*(modifier.capitalize() for modifier in modifiers), shown])


def bound_keys(keymap: Mapping[str, str], binding: Binding) -> str:
    """The keys a binding answers to once the keymap is applied (Textual's names, comma separated)."""
    return keymap.get(binding.id or "", binding.key)
