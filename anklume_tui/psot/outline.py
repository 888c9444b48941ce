"""A quick outline of an infra (domains with their trust level, machines with their type and declared IP):
what the TUI paints first, before the full check (locations, rules, enrichment) answers.

Read from libyaml's event stream, so it can stop after the first rows (`rows`): the first screenful of a
thousand-machine file costs a few milliseconds, and never holds the interpreter for long. Best effort: a
file the outline cannot read, or past the loader's bounds (yaml_bounds), gives None, and the full check says why.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .constants import effective_trust
from .load import directory_files
from .yaml_bounds import MAX_DEPTH, Budget, UnreadableInput, read_regular_file

_PARSER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_FALSE = {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", "n", "N"}


@dataclass(frozen=True)
class OutlineMachine:
    name: str
    type: str
    ip: str | None


@dataclass(frozen=True)
class OutlineDomain:
    name: str
    effective_trust: str
    enabled: bool
    subnet: str  # "" until the full check computes it
    machines: tuple[OutlineMachine, ...]


def outline(path: Path, rows: int | None = None) -> list[OutlineDomain] | None:
    """The domains of `path` (a file or the directory form), stopping once `rows` rows (domains and
    machines) are known; None when it cannot be read."""
    try:
        files = directory_files(path) if path.is_dir() else [path]
        found: dict[str, OutlineDomain] = {}
        bounds = Budget()
        for i, file in enumerate(files):
            budget = None if rows is None else rows - sum(1 + len(d.machines) for d in found.values())
            if budget is not None and budget <= 0:
                break
            events = yaml.parse(read_regular_file(file), Loader=_PARSER)
            for domain in _domains(_Reader(events, bounds), budget, top_level=i > 0):
                found[domain.name] = domain
        return list(found.values())
    except (OSError, UnicodeDecodeError, yaml.YAMLError, UnreadableInput, _Unexpected):
        return None


class _Unexpected(Exception):
    """Not the shape of an infra file."""


class _Reader:
    """Builds plain values (dicts, lists, strings) from events, with anchors, aliases and merge keys."""

    def __init__(self, events: Iterator[yaml.Event], bounds: Budget) -> None:
        self.events = events
        self.anchors: dict[str | None, object] = {}
        self.bounds = bounds  # the loader's: the outline gives up where the full check refuses
        self.depth = 0

    def next(self) -> yaml.Event:
        event = next(self.events)
        while isinstance(event, (yaml.StreamStartEvent, yaml.DocumentStartEvent)):
            event = next(self.events)
        if not isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent, yaml.DocumentEndEvent)):
            self.bounds.nodes -= 1
            if self.bounds.nodes < 0:
                raise _Unexpected("too many nodes")
        return event

    def value(self, event: yaml.Event) -> object:
        if isinstance(event, yaml.AliasEvent):
            return self.anchors.get(event.anchor)
        if isinstance(event, yaml.ScalarEvent):
            result: object = event.value
        elif isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise _Unexpected("too deep")
            result = self.collection(event)
            self.depth -= 1
        else:
            raise _Unexpected(type(event).__name__)
        if getattr(event, "anchor", None):
            self.anchors[event.anchor] = result
        return result

    def collection(self, event: yaml.Event) -> list[Any] | dict[Any, Any]:
        if isinstance(event, yaml.SequenceStartEvent):
            items = []
            while not isinstance(item := self.next(), yaml.SequenceEndEvent):
                items.append(self.value(item))
            return items
        mapping: dict[Any, Any] = {}
        while not isinstance(key := self.next(), yaml.MappingEndEvent):
            self.put(mapping, self.value(key), self.value(self.next()))
        return mapping

    @staticmethod
    def put(mapping: dict[Any, Any], key: object, value: object) -> None:
        if key == "<<":
            for part in value if isinstance(value, list) else [value]:
                if isinstance(part, dict):
                    for k, v in part.items():
                        mapping.setdefault(k, v)
            return
        mapping[str(key)] = value


def _domains(reader: _Reader, budget: int | None, *, top_level: bool) -> Iterator[OutlineDomain]:
    """Domains as they are read: under `domains:` of the root, or the root itself (a domains/*.yml file)."""
    if not isinstance(reader.next(), yaml.MappingStartEvent):
        raise _Unexpected("the root is not a mapping")
    if top_level:
        yield from _domain_entries(reader, budget)
        return
    while not isinstance(key := reader.next(), yaml.MappingEndEvent):
        name = reader.value(key)
        event = reader.next()
        if name == "domains" and isinstance(event, yaml.MappingStartEvent):
            yield from _domain_entries(reader, budget)
            return
        reader.value(event)  # other keys: read (their anchors may be used below), not kept


def _domain_entries(reader: _Reader, budget: int | None) -> Iterator[OutlineDomain]:
    """The entries of a mapping of domains; stops once the budget of rows is spent."""
    while not isinstance(key := reader.next(), yaml.MappingEndEvent):
        body = reader.value(reader.next())
        domain = _domain(reader.value(key), body if isinstance(body, dict) else {})
        yield domain
        if budget is not None:
            budget -= 1 + len(domain.machines)
            if budget <= 0:
                return


def _domain(name: object, body: dict[str, Any]) -> OutlineDomain:
    machines = []
    declared = body.get("machines")
    for machine, spec in (declared if isinstance(declared, dict) else {}).items():
        spec = spec if isinstance(spec, dict) else {}
        ip = spec.get("ip")
        machines.append(OutlineMachine(str(machine), str(spec.get("type", "lxc")), ip if isinstance(ip, str) else None))
    enabled = body.get("enabled", True) not in _FALSE
    return OutlineDomain(str(name), effective_trust(body), enabled, "", tuple(machines))
