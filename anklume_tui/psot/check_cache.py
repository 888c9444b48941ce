"""What validate and sync need of an infra's check, kept from one run to the next (issue 17).

The check of an infra (load, validate, enrich, and for sync the managed section of each generated file) depends
on the infra's files' bytes, the host context the engine gathered, and this package's code: nothing else. Its
result is kept in one file per infra under a cache folder (the caller's: the state folder), keyed by a SHA-256
of all three. A run whose key matches reads the result back instead of checking again; any other key, a file
that does not parse, or one of the wrong shape is ignored and the infra is checked afresh. The files' bytes the
key hashes are the very bytes then checked (handed to the loader), so a result is never kept under the key of
other bytes. The generated tree is not kept here: tree_record.py knows an unchanged tree from its files' status,
and any other tree is read file by file and the files whose bytes change are written, so an edited generated
file is put right as before.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
from dataclasses import dataclass, fields, is_dataclass
from pathlib import Path
from typing import Any

from .context import HostContext
from .findings import Finding, Location, Severity, has_errors
from .kept_files import keep
from .load import directory_files, load_infra, resolve_infra_path
from .yaml_bounds import MAX_BYTES, UnreadableInput, read_regular_file

FORMAT = "anklume-psot-check 1"
_PACKAGE = Path(__file__).resolve().parent


def cache_folder(state: Path) -> Path:
    """Where the results are kept in the state folder `state`."""
    return state / "psot-cache"


@dataclass
class Checked:
    """An infra's findings; for a valid one checked for sync, the generated files' managed sections (relative
    path -> body, in write order) and every domain and machine name (orphans are judged by them)."""

    display: str
    findings: list[Finding]
    files: dict[str, str] | None = None
    domains: frozenset[str] = frozenset()
    machines: frozenset[str] = frozenset()
    cached: bool = False
    key: str | None = None  # what it was kept under (None: not kept): the tree record (tree_record.py) names it

    @property
    def valid(self) -> bool:
        return not has_errors(self.findings)

    def of(self, severity: Severity) -> list[Finding]:
        return [f for f in self.findings if f.severity is severity]


def check(path: Path, ctx: HostContext, cache_dir: Path | None, *, render: bool) -> Checked:
    """The infra at `path` checked under `ctx` (with the generated files' sections when `render`), read from
    `cache_dir` when kept there under the same key, else checked and kept there."""
    found = resolve_infra_path(path)
    texts = _input_texts(found) if found is not None and cache_dir is not None else None
    if found is None or texts is None or cache_dir is None:
        return _checked(path, ctx, None, render)
    key = _key(found, texts, ctx)
    entry = cache_dir / f"{hashlib.sha256(os.fsencode(os.path.abspath(found))).hexdigest()[:32]}.json"
    kept = _read(entry, key)
    if kept is not None and (kept.files is not None or not render or not kept.valid):
        kept.key = key
        return kept
    checked = _checked(found, ctx, texts, render)
    with contextlib.suppress(OSError):
        _write(entry, key, checked)
    checked.key = key
    return checked


def _checked(path: Path, ctx: HostContext, texts: dict[Path, str] | None, render: bool) -> Checked:
    from .generate import known_names, render_files  # the model and the emitter: only when checking afresh
    from .pipeline import check_loaded, is_valid

    result = check_loaded(load_infra(path, texts), ctx)
    checked = Checked(result.loaded.display, result.findings)
    if render and is_valid(result):
        checked.files = render_files(result.infra)
        checked.domains, checked.machines = known_names(result.infra)
    return checked


def _input_texts(found: Path) -> dict[Path, str] | None:
    """The text of every file the loader reads for the infra at `found`; None when one is not a readable
    regular UTF-8 file within the bounds (the loader then says so, uncached)."""
    try:
        if found.is_dir():
            files = directory_files(found)
            policies = found / "policies.yml"
            if policies.exists():
                files.append(policies)
        else:
            files = [found]
        texts = {}
        for file in files:
            raw = read_regular_file(file, MAX_BYTES)
            texts[file] = raw.decode("utf-8")
        if sum(len(raw) for raw in (t.encode("utf-8") for t in texts.values())) > MAX_BYTES:
            return None
        return texts
    except (OSError, UnreadableInput, UnicodeDecodeError):
        return None


def _key(found: Path, texts: dict[Path, str], ctx: HostContext) -> str:
    digest = hashlib.sha256()
    for part in (FORMAT, _yaml_signature(), _code_signature(), str(found), repr(found.is_dir()), _canonical(ctx)):
        digest.update(part.encode("utf-8", "surrogateescape") + b"\0")
    for file, text in texts.items():
        data = text.encode("utf-8")
        digest.update(os.fsencode(file) + b"\0" + str(len(data)).encode() + b"\0" + data)
    return digest.hexdigest()


def _code_signature() -> str:
    """Each source file of this package, with its size and modification time: changed code, another key."""
    parts = []
    for folder, _, names in sorted(os.walk(_PACKAGE)):
        for name in sorted(names):
            if name.endswith(".py"):
                file = os.path.join(folder, name)
                info = os.stat(file)
                parts.append(f"{os.path.relpath(file, _PACKAGE)}:{info.st_size}:{info.st_mtime_ns}")
    return "|".join(parts)


def _yaml_signature() -> str:
    """PyYAML's files (its C extension among them), each with its size and modification time: the parser and
    the emitter shape the result too. Found without importing it: a run that reads its check back parses no
    YAML (issue 17)."""
    spec = importlib.util.find_spec("yaml")
    parts = []
    for folder in (spec.submodule_search_locations or []) if spec else []:
        for entry in sorted(os.scandir(folder), key=lambda e: e.name):
            if entry.is_file():
                info = entry.stat()
                parts.append(f"{entry.name}:{info.st_size}:{info.st_mtime_ns}")
    return "|".join(parts)


def _canonical(value: Any) -> str:
    """A text equal for equal values, whatever the order of sets and dicts (the host context, its allocation)."""
    if is_dataclass(value) and not isinstance(value, type):
        inner = ",".join(f"{f.name}={_canonical(getattr(value, f.name))}" for f in fields(value))
        return f"{type(value).__name__}({inner})"
    if isinstance(value, dict):
        items = sorted(f"{_canonical(k)}:{_canonical(v)}" for k, v in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, set | frozenset):
        return "set(" + ",".join(sorted(_canonical(v) for v in value)) + ")"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_canonical(v) for v in value) + "]"
    if value is None or isinstance(value, bool | int | float | str):
        return repr(value)
    return f"{type(value).__name__}:{value}"


def _read(entry: Path, key: str) -> Checked | None:
    """The result kept under `key`, or None (none kept, another key, not readable, not of the right shape)."""
    try:
        with open(entry, "rb") as handle:
            if handle.readline().rstrip(b"\n") != key.encode():
                return None
            kept = json.loads(handle.read())
        findings = [_finding(item) for item in kept["findings"]]
        files = kept["files"]
        if files is not None and not (
            isinstance(files, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in files.items())
        ):
            return None
        domains, machines = kept["domains"], kept["machines"]
        if not isinstance(kept["display"], str) or not all(isinstance(n, str) for n in [*domains, *machines]):
            return None
        return Checked(kept["display"], findings, files, frozenset(domains), frozenset(machines), cached=True)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _finding(item: Any) -> Finding:
    rule, severity, message, file, line, column = item
    if not (isinstance(rule, str) and isinstance(message, str)):
        raise TypeError("finding")
    if file is None:
        return Finding(rule, Severity(severity), message)
    if not (isinstance(file, str) and type(line) is int and type(column) is int):
        raise TypeError("location")
    return Finding(rule, Severity(severity), message, Location(file, line, column))


def _write(entry: Path, key: str, checked: Checked) -> None:
    """Kept atomically (a temporary file renamed over the entry), private to the user (0700 folder, 0600 file).
    Not synced to disk: an entry lost or cut short in a crash is ignored and checked afresh."""
    findings = []
    for f in checked.findings:
        where = (f.location.file, f.location.line, f.location.column) if f.location else (None, None, None)
        findings.append([f.rule, f.severity.value, f.message, *where])
    body = {
        "display": checked.display,
        "findings": findings,
        "files": checked.files,
        "domains": sorted(checked.domains),
        "machines": sorted(checked.machines),
    }
    text = json.dumps(body, ensure_ascii=False)
    keep(entry, key.encode() + b"\n" + text.encode("utf-8", "surrogateescape"))
