"""Parse one YAML text into plain Python values plus the location of every node.

One pass over libyaml's events (yaml_compose) checks the bounds and composes light nodes (YAML 1.1 resolution,
as PyYAML's safe_load); values are built here so that duplicate keys, alias expansion and nesting depth are
checked on the way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from .findings import Finding, Location, Severity
from .yaml_bounds import MAX_DEPTH, MAX_NODES, Budget, UnreadableInput
from .yaml_compose import MappingNode, Node, ScalarNode, SequenceNode, compose

MAX_ALIAS_EXPANSION = 50_000

STR = "tag:yaml.org,2002:str"
MAP = "tag:yaml.org,2002:map"
SEQ = "tag:yaml.org,2002:seq"
MERGE = "tag:yaml.org,2002:merge"
SCALAR_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
}

Path = tuple[Any, ...]


@dataclass
class SourceMap:
    """Locations of values and keys by path (("domains", "pro", "machines", "pro-dev", "ip"))."""

    values: dict[Path, Location] = field(default_factory=dict)
    keys: dict[Path, Location] = field(default_factory=dict)

    def at(self, path: Path) -> Location | None:
        """The location of the value at path, else of its nearest known ancestor (by its key)."""
        path = tuple(path)
        loc = self.values.get(path)
        while loc is None and path:
            path = path[:-1]
            loc = self.keys.get(path) or self.values.get(path)
        return loc

    def key_at(self, path: Path) -> Location | None:
        return self.keys.get(tuple(path)) or self.at(path)

    def update(self, other: SourceMap, prefix: Path = ()) -> None:
        if prefix:
            self.values.update({prefix + p: loc for p, loc in other.values.items()})
            self.keys.update({prefix + p: loc for p, loc in other.keys.items()})
        else:
            self.values.update(other.values)
            self.keys.update(other.keys)


class LoadFailure(Exception):
    """Carries one load finding (L3/Y1) out of the node walk."""

    def __init__(self, finding: Finding):
        super().__init__(finding.message)
        self.finding = finding


_PYYAML_CONSTRUCTOR = yaml.constructor.SafeConstructor()


def _construct(node: ScalarNode, tag: str) -> Any:
    """A non-string scalar's value, as PyYAML's safe_load builds it."""
    build = _PYYAML_CONSTRUCTOR.yaml_constructors[tag]
    return build(_PYYAML_CONSTRUCTOR, yaml.ScalarNode(tag, node.value))


class _Builder:
    def __init__(self, file: str):
        self.file = file
        self.construct = _construct
        self.source = SourceMap()
        self.duplicates: list[Finding] = []
        self.nodes = 0
        self.expanded = 0
        self.alias_depth = 0
        self.seen: set[int] = set()

    def loc(self, node: Node) -> Location:
        return Location(self.file, node.line + 1, node.column + 1)

    def fail(self, node: Node, message: str, rule: str = "L3") -> LoadFailure:
        return LoadFailure(Finding(rule, Severity.ERROR, message, self.loc(node)))

    def build(self, node: Node, path: Path, depth: int) -> Any:
        if isinstance(node, ScalarNode):
            return self.scalar(node, path)
        if id(node) not in self.seen:
            self.seen.add(id(node))
            return self.collection(node, path, depth)
        # Built again through an alias: everything below counts against the expansion budget.
        self.alias_depth += 1
        try:
            return self.collection(node, path, depth)
        finally:
            self.alias_depth -= 1

    def count(self, node: Node, depth: int) -> None:
        self.nodes += 1
        if self.alias_depth:
            self.expanded += 1
            if self.expanded > MAX_ALIAS_EXPANSION:
                raise self.fail(node, f"aliases expand to more than {MAX_ALIAS_EXPANSION} nodes (alias bomb?)")
        if self.nodes > MAX_NODES:
            raise self.fail(node, f"document has more than {MAX_NODES} nodes")
        if depth > MAX_DEPTH:
            raise self.fail(node, f"nesting deeper than {MAX_DEPTH} levels")

    def scalar(self, node: ScalarNode, path: Path) -> Any:
        if self.alias_depth:
            self.count(node, 0)
        else:
            self.nodes += 1
        self.source.values[path] = self.loc(node)
        return self.scalar_value(node)

    def scalar_value(self, node: ScalarNode) -> Any:
        tag = node.tag
        if tag == STR:
            return node.value
        if tag not in SCALAR_TAGS:
            raise self.fail(node, f"unsupported tag {tag!r}")
        try:
            return self.construct(node, tag)
        except (ValueError, OverflowError, KeyError, AttributeError):
            # PyYAML's constructors fail (some with a KeyError) on a value that is not of its tag: `!!bool maybe`
            kind = tag.rsplit(":", 1)[-1]
            raise self.fail(node, f"invalid YAML value: {node.value!r} is not a valid {kind}") from None

    def collection(self, node: Node, path: Path, depth: int) -> list[Any] | dict[Any, Any]:
        self.count(node, depth)
        self.source.values[path] = self.loc(node)
        tag = node.tag
        if isinstance(node, SequenceNode) and tag == SEQ:
            return [self.build(item, path + (i,), depth + 1) for i, item in enumerate(node.value)]
        if isinstance(node, MappingNode) and tag == MAP:
            return self.mapping(node, path, depth)
        raise self.fail(node, f"unsupported tag {tag!r}")

    def mapping(self, node: MappingNode, path: Path, depth: int) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        first_line: dict[Any, int] = {}
        merged: list[dict[Any, Any]] = []
        for key_node, value_node in node.value:
            if key_node.tag == MERGE:
                merged.extend(self.merge_sources(value_node, path, depth))
                continue
            if not isinstance(key_node, ScalarNode):
                raise self.fail(key_node, "a mapping key must be a plain value, not a mapping or list")
            key = self.scalar_value(key_node)
            try:
                hash(key)
            except TypeError:
                raise self.fail(key_node, "unsupported mapping key") from None
            line = key_node.line + 1
            if key in first_line:
                self.duplicates.append(
                    Finding(
                        "Y1",
                        Severity.ERROR,
                        f"duplicate key '{key}' (first at line {first_line[key]}, again at line {line})",
                        self.loc(key_node),
                    )
                )
                continue
            first_line[key] = line
            self.source.keys[path + (key,)] = self.loc(key_node)
            result[key] = self.build(value_node, path + (key,), depth + 1)
        for source in merged:
            for key, value in source.items():
                result.setdefault(key, value)
        return result

    def merge_sources(self, node: Node, path: Path, depth: int) -> list[dict[Any, Any]]:
        nodes = node.value if isinstance(node, SequenceNode) else [node]
        sources = []
        for item in nodes:
            if not isinstance(item, MappingNode):
                raise self.fail(item, "a merge key '<<' takes a mapping or a list of mappings")
            sources.append(self.build(item, path + ("<merge>",), depth + 1))
        return sources


@dataclass
class ParsedYaml:
    data: object
    source: SourceMap
    findings: list[Finding]


def parse_yaml(text: str, file: str, budget: Budget | None = None) -> ParsedYaml:
    """Parse text; problems come back as L3/Y1 findings, never as exceptions.

    `budget` is shared by the files of one load (the directory form); by default one file's.
    """
    budget = budget or Budget()
    try:
        budget.take_bytes(len(text))
        root = compose(text, budget)
    except UnreadableInput as exc:
        return _failed(Finding("L3", Severity.ERROR, exc.message, Location(file, exc.line, exc.column)))
    except yaml.MarkedYAMLError as exc:
        return _failed(_syntax_error(exc, text, file))
    except yaml.YAMLError as exc:
        return _failed(_reader_error(exc, text, file))
    if root is None:
        return ParsedYaml(None, SourceMap(), [])
    builder = _Builder(file)
    try:
        data = builder.build(root, (), 0)
    except LoadFailure as failure:
        return _failed(failure.finding)
    except (yaml.YAMLError, ValueError, OverflowError) as exc:
        return _failed(Finding("L3", Severity.ERROR, f"invalid YAML value: {exc}", Location(file, 1, 1)))
    return ParsedYaml(data, builder.source, builder.duplicates)


def _failed(finding: Finding) -> ParsedYaml:
    return ParsedYaml(None, SourceMap(), [finding])


def _syntax_error(exc: yaml.MarkedYAMLError, text: str, file: str) -> Finding:
    """libyaml's message (or the composer's) at its position."""
    mark = exc.problem_mark or exc.context_mark
    message = " ".join(str(part) for part in (exc.context, exc.problem) if part)
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    if mark and 0 <= mark.index < len(text) and text[mark.index] == "\t":
        message += " (a tab character: YAML indentation takes spaces only)"
    return Finding("L3", Severity.ERROR, f"YAML syntax error: {message}", Location(file, line, col))


def _reader_error(exc: yaml.YAMLError, text: str, file: str) -> Finding:
    """Reader errors give a character position, not a line: turn it into line and column."""
    position = getattr(exc, "position", None)
    reason = getattr(exc, "reason", None) or str(exc).splitlines()[0]
    if isinstance(position, int):
        line = text.count("\n", 0, position) + 1
        column = position - (text.rfind("\n", 0, position) + 1) + 1
        return Finding("L3", Severity.ERROR, f"YAML syntax error: {reason}", Location(file, line, column))
    return Finding("L3", Severity.ERROR, f"YAML syntax error: {reason}", Location(file, 1, 1))


def decode(raw: bytes, file: str) -> tuple[str | None, Finding | None]:
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        column = len(before) - (before.rfind(b"\n") + 1) + 1
        byte = raw[exc.start]
        return None, Finding("L3", Severity.ERROR, f"not UTF-8 text (byte 0x{byte:02x})", Location(file, line, column))
