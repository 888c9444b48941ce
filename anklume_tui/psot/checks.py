"""Declared smoke checks (issue 22): the `checks:` list of a machine in infra.yml, or of a role in
roles/<role>/meta/anklume_checks.yml, parsed into values. Rules K1-K5; the values are data, never templated.

A check is a mapping with exactly one of:
- `command: [argv...]` run inside the machine; `exit` (default 0) and `output` (a substring of stdout or
  stderr) are expected;
- `tcp: PORT` connected to on `host` (default: localhost, or the machine's address when run `from` another);
- `http: URL` fetched, `status` (default 200) expected;
and optionally `name`, `timeout` (seconds, default 10) and, for tcp/http, `from: MACHINE` (the check runs
inside that machine instead, so it also proves the isolation policy lets it through).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Literal

KINDS = ("command", "tcp", "http")
KNOWN = frozenset({*KINDS, "name", "exit", "output", "host", "status", "from", "timeout"})

Kind = Literal["command", "tcp", "http"]


@dataclass(frozen=True)
class Check:
    name: str
    kind: Kind
    command: tuple[str, ...] = ()
    exit: int = 0
    output: str | None = None
    port: int = 0
    host: str | None = None
    url: str = ""
    status: int = 200
    source: str | None = None  # `from:`: the machine the check runs in (None: the checked machine itself)
    timeout: int = 10


@dataclass(frozen=True)
class CheckProblem:
    rule: str
    message: str
    path: tuple[Any, ...]  # below the checks list: (index,) or (index, key)


def _int(value: object, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def parse_checks(value: object, machines: Collection[str] | None = None) -> tuple[list[Check], list[CheckProblem]]:
    """The checks of `value` and the problems found (a check with a problem is left out). `machines`: the
    names `from:` may take (None: not checked here)."""
    if not isinstance(value, list):
        return [], [CheckProblem("K1", f"'checks' must be a list of mappings (got {type(value).__name__})", ())]
    checks: list[Check] = []
    problems: list[CheckProblem] = []
    for index, item in enumerate(value):
        found = _parse_one(index, item, machines, problems)
        if found is not None:
            checks.append(found)
    return checks, problems


def _parse_one(
    index: int, item: object, machines: Collection[str] | None, problems: list[CheckProblem]
) -> Check | None:
    label = f"check {index + 1}"
    if not isinstance(item, dict):
        problems.append(CheckProblem("K1", f"{label} must be a mapping (got {type(item).__name__})", (index,)))
        return None
    before = len(problems)
    for key in item:
        if key not in KNOWN:
            problems.append(CheckProblem("K5", f"{label}: unknown key {key!r}", (index, key)))
    kinds = [k for k in KINDS if k in item]
    if len(kinds) != 1:
        got = ", ".join(kinds) or "none"
        problems.append(CheckProblem("K2", f"{label} needs exactly one of command, tcp, http (got {got})", (index,)))
        return None
    kind: Kind = kinds[0]  # type: ignore[assignment]
    name = item.get("name", None)

    def bad(key: str, expected: str) -> None:
        problems.append(CheckProblem("K3", f"{label}: '{key}' must be {expected} (got {item[key]!r})", (index, key)))

    if name is not None and not (isinstance(name, str) and name):
        bad("name", "a non-empty string")
    command = item.get("command")
    if kind == "command" and not (
        isinstance(command, list) and command and all(isinstance(a, str) and a for a in command)
    ):
        bad("command", "a non-empty list of non-empty strings (argv, no shell)")
    if "exit" in item and not _int(item["exit"], 0, 255):
        bad("exit", "an integer 0-255")
    if "output" in item and not isinstance(item["output"], str):
        bad("output", "a string")
    if kind == "tcp" and not _int(item["tcp"], 1, 65535):
        bad("tcp", "a port 1-65535")
    if "host" in item and not (isinstance(item["host"], str) and item["host"] and not item["host"].startswith("-")):
        bad("host", "a host name or address")
    url = item.get("http")
    if kind == "http" and not (isinstance(url, str) and url.startswith(("http://", "https://")) and " " not in url):
        bad("http", "an http:// or https:// URL")
    if "status" in item and not _int(item["status"], 100, 599):
        bad("status", "an HTTP status 100-599")
    if "timeout" in item and not _int(item["timeout"], 1, 600):
        bad("timeout", "seconds 1-600")
    for key, kinds_allowed in (("exit", ("command",)), ("output", ("command",)), ("host", ("tcp",))):
        if key in item and kind not in kinds_allowed:
            problems.append(CheckProblem("K3", f"{label}: '{key}' applies to {kinds_allowed[0]} checks", (index, key)))
    if "status" in item and kind != "http":
        problems.append(CheckProblem("K3", f"{label}: 'status' applies to http checks", (index, "status")))
    source = item.get("from")
    if "from" in item:
        if kind == "command":
            problems.append(CheckProblem("K3", f"{label}: 'from' applies to tcp and http checks", (index, "from")))
        elif not isinstance(source, str):
            bad("from", "a machine name")
        elif machines is not None and source not in machines:
            problems.append(CheckProblem("K4", f"{label}: 'from' names no machine: {source!r}", (index, "from")))
    if len(problems) > before:
        return None
    port = item.get("tcp", 0)
    default_name = {
        "command": " ".join(command or ()),
        "tcp": f"tcp {item.get('host') or 'localhost'}:{port}",
        "http": f"http {url}",
    }[kind]
    if source:
        default_name += f" from {source}"
    return Check(
        name=name or default_name,
        kind=kind,
        command=tuple(command or ()),
        exit=item.get("exit", 0),
        output=item.get("output"),
        port=port,
        host=item.get("host"),
        url=url or "",
        status=item.get("status", 200),
        source=source,
        timeout=item.get("timeout", 10),
    )
