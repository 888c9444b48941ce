"""An independent reader of desktop entries, as the Desktop Entry Specification describes them (not the writer's
code): the keys of [Desktop Entry] with string escapes undone, and an Exec value split back into arguments."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

STRING_ESCAPES = {"s": " ", "n": "\n", "t": "\t", "r": "\r", "\\": "\\"}
RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")


def unescape(value: str) -> str:
    out, chars = [], iter(value)
    for c in chars:
        if c == "\\":
            nxt = next(chars)
            out.append(STRING_ESCAPES.get(nxt, "\\" + nxt))
        else:
            out.append(c)
    return "".join(out)


def read_entry(path: Path) -> dict[str, str]:
    """Key -> raw value of the [Desktop Entry] group; a key seen twice fails (an injected line would be one)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "[Desktop Entry]", lines[0]
    keys: dict[str, str] = {}
    for line in lines[1:]:
        assert not line.startswith("["), f"a second group: {line!r}"
        key, sep, value = line.partition("=")
        assert sep and key not in keys, f"bad or repeated key line {line!r}"
        keys[key] = value
    return keys


def parse_exec(raw: str) -> list[str]:
    """The arguments a launcher runs: string escapes undone, then the quoting rule, then `%%` → `%`; any other
    field code fails (nothing from infra.yml may become one)."""
    text = unescape(raw)
    args: list[str] = []
    i, current, started = 0, [], False
    while i < len(text):
        c = text[i]
        if c == " ":
            if started:
                args.append("".join(current))
                current, started = [], False
            i += 1
        elif c == '"':
            started = True
            i += 1
            while text[i] != '"':
                if text[i] == "\\":
                    assert text[i + 1] in '"`$\\', f"bad escape in a quoted argument: {text[i : i + 2]!r}"
                    i += 1
                current.append(text[i])
                i += 1
            i += 1
        else:
            assert c not in RESERVED, f"reserved character {c!r} outside quotes in {text!r}"
            started = True
            current.append(c)
            i += 1
    if started:
        args.append("".join(current))
    return [_field_codes(arg) for arg in args]


def _field_codes(arg: str) -> str:
    out, i = [], 0
    while i < len(arg):
        if arg[i] == "%":
            assert arg[i + 1] == "%", f"field code %{arg[i + 1]} in {arg!r}"
            i += 1
        out.append(arg[i])
        i += 1
    return "".join(out)


def validate(path: Path) -> str | None:
    """desktop-file-validate's complaints (None: it passed); scripts/install-incus.sh installs it."""
    tool = shutil.which("desktop-file-validate")
    assert tool is not None, "desktop-file-validate is missing: apt-get install desktop-file-utils"
    done = subprocess.run([tool, str(path)], capture_output=True, text=True, timeout=30)
    return None if done.returncode == 0 and "error" not in done.stdout else done.stdout + done.stderr
