"""A guide page read as a script: its files and its shell commands, in page order.

- A fenced block with a title (```yaml title="infra.yml") is a file the reader writes: its text goes into
  that file of the page's folder.
- A ```console block holds commands (lines starting with `$ `), each followed by lines of what it prints: each
  such line must appear in the output, in order (`...` alone on a line: anything may come between). A command
  ending with `# exit N` must exit N; otherwise it must exit 0.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

FENCE = re.compile(r'^```(\w+)?(?:\s+title="([^"]+)")?\s*$')
EXIT = re.compile(r"\s+#\s*exit\s+(\d+)\s*$")


@dataclass
class File:
    name: str
    text: str


@dataclass
class Command:
    line: str
    exit_code: int = 0
    expected: list[str] = field(default_factory=list)


def blocks(page: Path) -> list[File | Command]:
    items: list[File | Command] = []
    lines = page.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        opened = FENCE.match(lines[i])
        if not opened or opened.group(1) is None:
            i += 1
            continue
        kind, title = opened.group(1), opened.group(2)
        body = []
        i += 1
        while i < len(lines) and lines[i].strip() != "```":
            body.append(lines[i])
            i += 1
        i += 1
        if title:
            items.append(File(title, "\n".join(body) + "\n"))
        elif kind == "console":
            items += _commands(body)
    return items


def _commands(body: list[str]) -> list[Command]:
    found: list[Command] = []
    for line in body:
        if line.startswith("$ "):
            text = line[2:]
            code = EXIT.search(text)
            found.append(Command(EXIT.sub("", text) if code else text, int(code.group(1)) if code else 0))
        elif found and line.strip():
            found[-1].expected.append(line.strip())
    return found


def commands(page: Path) -> list[str]:
    return [item.line for item in blocks(page) if isinstance(item, Command)]


def shows(output: str, expected: list[str]) -> str | None:
    """None when every expected line is found in order in the output (as part of a line); else what is missing."""
    lines = output.splitlines()
    at = 0
    for want in expected:
        if want == "...":
            continue
        while at < len(lines) and want not in lines[at]:
            at += 1
        if at == len(lines):
            return want
        at += 1
    return None
