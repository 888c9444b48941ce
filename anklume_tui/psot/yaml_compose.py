"""One pass over libyaml's events: the bounds of yaml_bounds checked, and light nodes composed at once.

libyaml's parser is a state machine (a deep document cannot overflow the C stack), and each event is looked at
once: its depth and the node count are checked as check_shape does, and the node is composed here with an explicit
stack, so no recursive composer ever sees an unbounded document. The nodes are what a composer gives (an alias is
the anchored node itself, so the builder counts what aliases expand to), with plain line and column numbers
instead of mark objects; scalars resolve with PyYAML's YAML 1.1 resolver (SPEC §3.1).

Errors come in the order the former two passes gave them: a bound or a syntax error anywhere in the stream first
(those stop the pass at once), then the first composer problem (an undefined alias, a reused anchor, a second
document), raised only once the whole stream has been read.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.composer import ComposerError

from .yaml_bounds import MAX_DEPTH, Budget, _at, libyaml_events, too_many_nodes

STR = "tag:yaml.org,2002:str"
SEQ = "tag:yaml.org,2002:seq"
MAP = "tag:yaml.org,2002:map"

# First characters of the plain scalars PyYAML's resolver may give a non-string tag (the dict is read live).
_IMPLICIT = yaml.resolver.Resolver.yaml_implicit_resolvers
_RESOLVER = yaml.resolver.Resolver()


class Node:
    """A composed node: its full tag, its value (text, list of nodes, or list of key/value node pairs) and where
    it starts (0-based line and column, as libyaml's marks)."""

    __slots__ = ("tag", "value", "line", "column")

    def __init__(self, tag: str, value: Any, line: int, column: int) -> None:
        self.tag, self.value, self.line, self.column = tag, value, line, column


class ScalarNode(Node):
    __slots__ = ()


class SequenceNode(Node):
    __slots__ = ()


class MappingNode(Node):
    __slots__ = ()


def _resolver(cache: dict[str, str]) -> Any:
    def resolve(value: str, implicit: tuple[bool, bool]) -> str:
        """The tag PyYAML's safe_load gives a scalar without an explicit tag (the same call a composer makes)."""
        if implicit[0]:
            if value and value[0] not in _IMPLICIT and None not in _IMPLICIT:
                return STR  # no implicit resolver starts with that character: the resolver's default
            tag = cache.get(value)
            if tag is None:
                tag = cache[value] = str(_RESOLVER.resolve(yaml.ScalarNode, value, implicit))
            return tag
        return str(_RESOLVER.resolve(yaml.ScalarNode, value, implicit))

    return resolve


def compose(text: str | bytes, budget: Budget | None = None) -> Node | None:
    """The root node of the single document in `text` (None for an empty stream).

    Raises UnreadableInput at the node that crosses a bound, yaml.MarkedYAMLError for a syntax or composer error,
    yaml.YAMLError for a reader error. The nodes are taken from `budget` once the stream is read whole.
    """
    budget = budget or Budget()
    resolve = _resolver({})
    limit = budget.nodes
    nodes = depth = documents = 0
    root: Node | None = None
    problem: ComposerError | None = None
    anchors: dict[str, tuple[Node, Any]] = {}
    stack: list[Node] = []  # the open collections, innermost last
    pending: list[Node | None] = []  # for each open collection: a mapping's key waiting for its value
    scalar_event, alias_event = yaml.ScalarEvent, yaml.AliasEvent
    seq_start, map_start = yaml.SequenceStartEvent, yaml.MappingStartEvent
    seq_end, map_end = yaml.SequenceEndEvent, yaml.MappingEndEvent

    def add(node: Node) -> None:
        nonlocal root
        if not stack:
            root = node
            return
        parent = stack[-1]
        if type(parent) is SequenceNode:
            parent.value.append(node)
        elif (key := pending[-1]) is None:
            pending[-1] = node
        else:
            parent.value.append((key, node))
            pending[-1] = None

    def anchored(anchor: str | None, node: Node, mark: Any) -> None:
        nonlocal problem
        if anchor is None:
            return
        if anchor in anchors:
            first = anchors[anchor][1]
            problem = ComposerError("found duplicate anchor; first occurrence", first, "second occurrence", mark)
        else:
            anchors[anchor] = (node, mark)

    with libyaml_events(text) as loader:
        while (event := loader.get_event()) is not None:
            kind = type(event)
            if kind is seq_end or kind is map_end:
                depth -= 1
                if problem is None:
                    stack.pop()
                    pending.pop()
                continue
            if kind is scalar_event:
                pass
            elif kind is seq_start or kind is map_start:
                depth += 1
                if depth > MAX_DEPTH:
                    raise _at(event, f"nesting deeper than {MAX_DEPTH} levels")
            elif kind is alias_event:
                pass
            else:
                if kind is yaml.DocumentStartEvent:
                    documents += 1
                    if documents > 1 and problem is None:
                        expected, found = "expected a single document in the stream", "but found another document"
                        problem = ComposerError(expected, None, found, event.start_mark)
                continue
            nodes += 1
            if nodes > limit:
                raise too_many_nodes(event, budget)
            if problem is not None:
                continue
            mark = event.start_mark
            if kind is scalar_event:
                tag = event.tag
                if tag is None or tag == "!":
                    tag = resolve(event.value, event.implicit)
                node: Node = ScalarNode(tag, event.value, mark.line, mark.column)
                add(node)
                anchored(event.anchor, node, mark)
            elif kind is alias_event:
                target = anchors.get(event.anchor)
                if target is None:
                    problem = ComposerError(None, None, "found undefined alias", mark)
                else:
                    add(target[0])
            else:
                tag = event.tag
                if tag is None or tag == "!":
                    tag = SEQ if kind is seq_start else MAP
                node = (SequenceNode if kind is seq_start else MappingNode)(tag, [], mark.line, mark.column)
                add(node)
                anchored(event.anchor, node, mark)
                stack.append(node)
                pending.append(None)
    if problem is not None:
        raise problem
    budget.nodes -= nodes
    return root
