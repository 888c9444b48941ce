"""Load infra.yml or an infra/ directory into plain values with source locations (SPEC §3.1)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .findings import Finding, Location, Severity
from .yaml_bounds import MAX_BYTES, Budget, NotRegularFile, UnreadableInput, read_regular_file

if TYPE_CHECKING:  # the parser is imported where a file is parsed: finding the infra needs no YAML (issue 17)
    from .yaml_nodes import SourceMap


@dataclass
class LoadedInfra:
    """The raw infra (a mapping when well formed, None when loading failed) with where each node came from."""

    path: Path
    data: object
    source: SourceMap
    findings: list[Finding]
    files: list[Path] = field(default_factory=list)
    is_directory: bool = False

    @property
    def display(self) -> str:
        return str(self.path)


def resolve_infra_path(path: Path) -> Path | None:
    """The existing path for a user-given one: as given, then with `.yml`, then without it."""
    candidates = [path, path.with_name(path.name + ".yml")]
    if path.suffix == ".yml":
        candidates.append(path.with_suffix(""))
    for candidate in candidates:
        if candidate.exists():
            return candidate
    return None


def default_output_dir(infra: Path) -> Path:
    """The folder that holds the infra (CLI.md): the file's folder, or the infra/ directory's parent."""
    return infra.resolve().parent


def discover_infra(explicit: str | None, cwd: Path, environ: Mapping[str, str] | None = None) -> Path:
    """Which infra the user means (CLI.md "Where things are found"); the path may not exist."""
    env = os.environ if environ is None else environ
    if explicit:
        return Path(explicit)
    if env.get("ANKLUME_INFRA"):
        return Path(env["ANKLUME_INFRA"])
    if (cwd / "infra" / "base.yml").exists():
        return cwd / "infra"
    return cwd / "infra.yml"


Texts = Mapping[Path, str | None]


def load_infra(path: Path, texts: Texts | None = None) -> LoadedInfra:
    """Load the infra at path; `texts` stands in for files not written yet (None: a file about to go).

    Every file is bounded (yaml_bounds), and the files of the directory form share one budget.
    """
    found = resolve_infra_path(path)
    if found is None:
        reason = _unreadable_reason(path)
        return _failure(path, Finding("L1", Severity.ERROR, f"infra file not found: {path}{reason}"))
    texts = texts or {}
    if found.is_dir():
        return _load_directory(found, texts, Budget())
    data, source, findings = _load_file(found, texts, Budget())
    if _unloadable(findings):
        return LoadedInfra(found, None, source, findings, [found])
    return LoadedInfra(found, _root(data), source, findings, [found])


def _unloadable(findings: list[Finding]) -> bool:
    return any(f.rule in ("L1", "L3") for f in findings)


def _unreadable_reason(path: Path) -> str:
    try:
        os.stat(path)
    except OSError as exc:
        if exc.strerror and exc.errno not in (2,):
            return f" ({exc.strerror.lower()})"
    return ""


def _failure(path: Path, finding: Finding) -> LoadedInfra:
    from .yaml_nodes import SourceMap

    return LoadedInfra(path, None, SourceMap(), [finding])


def _root(data: object) -> object:
    # An empty or comment-only file is an empty mapping: R1 then names every missing key.
    return {} if data is None else data


def _load_file(file: Path, texts: Texts, budget: Budget) -> tuple[object, SourceMap, list[Finding]]:
    from .yaml_nodes import SourceMap, decode, parse_yaml

    name = str(file)
    given = texts.get(file)
    if given is not None:
        parsed = parse_yaml(given, name, budget)
        return parsed.data, parsed.source, parsed.findings
    try:
        raw = read_regular_file(file, MAX_BYTES)
    except OSError as exc:
        reason = (exc.strerror or str(exc)).lower()
        return None, SourceMap(), [Finding("L1", Severity.ERROR, f"cannot read {name}: {reason}", Location(name, 1, 1))]
    except UnreadableInput as exc:
        # A FIFO or a device is a file that cannot be read (L1); a file past the bounds is refused as L3.
        rule = "L1" if isinstance(exc, NotRegularFile) else "L3"
        finding = Finding(rule, Severity.ERROR, f"cannot read {name}: {exc.message}", Location(name, 1, 1))
        return None, SourceMap(), [finding]
    text, problem = decode(raw, name)
    if problem:
        return None, SourceMap(), [problem]
    assert text is not None  # decode gives the text or a problem
    parsed = parse_yaml(text, name, budget)
    return parsed.data, parsed.source, parsed.findings


def directory_files(directory: Path, texts: Texts | None = None) -> list[Path]:
    """The directory form's infra files in loading order: base.yml, then domains/*.yml by name (SPEC §3.1).

    `texts` counts files about to be written (None: about to go). policies.yml is read apart.
    """
    return [directory / "base.yml", *_domain_files(directory, texts or {})]


def _domain_files(directory: Path, texts: Texts) -> list[Path]:
    """domains/*.yml in sorted name order, counting the files of `texts` as they are about to be."""
    folder = directory / "domains"
    files = set(folder.glob("*.yml")) | {p for p in texts if p.parent == folder and p.suffix == ".yml"}
    return sorted((p for p in files if p not in texts or texts[p] is not None), key=lambda p: p.name)


def _load_directory(directory: Path, texts: Texts, budget: Budget) -> LoadedInfra:
    base, *domain_files = directory_files(directory, texts)
    if not base.exists():
        return _failure(directory, Finding("L2", Severity.ERROR, f"{directory}/base.yml is missing"))
    data, source, findings = _load_file(base, texts, budget)
    files = [base]
    if _unloadable(findings):
        return LoadedInfra(directory, None, source, findings, files, True)
    merged = _root(data)
    if not isinstance(merged, dict):
        return LoadedInfra(directory, merged, source, findings, files, True)
    domains = merged.setdefault("domains", {})
    if domains is None:
        domains = merged["domains"] = {}
    origin = {name: base for name in domains} if isinstance(domains, dict) else {}

    for file in domain_files:
        files.append(file)
        part, part_source, part_findings = _load_file(file, texts, budget)
        findings.extend(part_findings)
        if part is None:
            continue
        if not isinstance(part, dict):
            findings.append(
                Finding("R2", Severity.ERROR, f"'{file.name}' must be a mapping of domains", part_source.at(()))
            )
            continue
        if not isinstance(domains, dict):
            continue
        for name, domain in part.items():
            if name in origin:
                findings.append(
                    Finding(
                        "W5",
                        Severity.WARNING,
                        f"Domain '{name}' from {origin[name]} is redefined in {file} (the later file wins)",
                        part_source.key_at((name,)),
                    )
                )
                _forget(source, ("domains", name))
            origin[name] = file
            domains[name] = domain
        source.update(part_source, ("domains",))

    policies = directory / "policies.yml"
    if policies.exists():
        files.append(policies)
        part, part_source, part_findings = _load_file(policies, texts, budget)
        findings.extend(part_findings)
        if isinstance(part, dict) and "network_policies" in part:
            merged["network_policies"] = part["network_policies"]
            source.update(part_source)
        elif part is not None and part != {}:
            findings.append(
                Finding(
                    "R2", Severity.ERROR, "'policies.yml' must be a mapping with 'network_policies'", part_source.at(())
                )
            )
    return LoadedInfra(directory, merged, source, findings, files, True)


def _forget(source: SourceMap, prefix: tuple[Any, ...]) -> None:
    n = len(prefix)
    for table in (source.values, source.keys):
        for path in [p for p in table if p[:n] == prefix and len(p) > n]:
            del table[path]
