"""Change a YAML text through ruamel's round-trip model while every byte outside the changed node survives.

ruamel keeps comments, key order and quoting, but it writes every document with one indentation
layout and hangs the comment lines that follow an entry (blank lines included) on the deepest last
entry before them. So a document is written with the layout its text shows (read once from the text,
no trial dumps), and adding or removing an entry moves those trailing lines along, so they stay where
the reader sees them.
"""

from __future__ import annotations

import contextlib
import copy
import io
import re
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark, YAMLError
from ruamel.yaml.scalarstring import ScalarString
from ruamel.yaml.tokens import CommentToken

from .yaml_bounds import UnreadableInput, check_shape

Container = CommentedMap | CommentedSeq

# (mapping indent, sequence indent, sequence dash offset): the common ways infra files are indented.
LAYOUTS = ((2, 4, 2), (2, 2, 0), (4, 4, 2), (4, 6, 4), (4, 4, 0), (3, 5, 3))
NEW_FILE_LAYOUT = LAYOUTS[0]
Layout = tuple[int, int, int]

_KEY_ONLY = re.compile(r"^( *)[^\s#-][^#]*:[ \t]*(?:#.*)?$")  # `key:` with its value on the lines below
_BLOCK_SCALAR = re.compile(r":[ \t]+[|>][-+0-9]*[ \t]*(?:#.*)?$")


def guess_layout(text: str) -> Layout:
    """The layout `text` is indented with, read from its first nested mapping and its first block list.

    A file with no block list gets the usual sequence layout for its mapping indent (what new lists use).
    """
    mapping = sequence = offset = None
    parent = None  # the column of the `key:` line just above, if any
    scalar = None  # inside a block scalar (`|`, `>`) whose key sits at this column: its lines are text
    for line in text.splitlines():
        stripped = line.lstrip(" ")
        column = len(line) - len(stripped)
        if not stripped.strip() or stripped.startswith("#"):
            continue
        if scalar is not None:
            if column > scalar:
                continue
            scalar = None
        if parent is not None and column >= parent:
            if stripped == "-" or stripped.startswith("- "):
                if offset is None and stripped != "-":
                    item = stripped[1:]
                    offset, sequence = column - parent, column - parent + 1 + len(item) - len(item.lstrip(" "))
            elif column > parent and mapping is None:
                mapping = column - parent
        if mapping is not None and offset is not None:
            break
        parent = column if _KEY_ONLY.match(line) else None
        if _BLOCK_SCALAR.search(line):
            scalar = column
    mapping = mapping or NEW_FILE_LAYOUT[0]
    if offset is None:
        return next((layout for layout in LAYOUTS if layout[0] == mapping), (mapping, mapping + 2, mapping))
    assert sequence is not None  # found on the same line as offset
    return mapping, max(sequence, offset + 2), offset


class YamlDocument:
    """One file's text as a round-trip tree, written back with the layout it was read with."""

    def __init__(self, text: str, layout: Layout | None = None) -> None:
        self.text = text
        self.layout = layout or guess_layout(text)
        self._yaml = _yaml(self.layout, text)
        try:
            check_shape(text)  # the round-trip composer recurses too: the loader's bounds first
        except UnreadableInput as exc:
            raise YAMLError(f"{exc.message} (line {exc.line}, column {exc.column})") from None
        except yaml.YAMLError as exc:
            raise YAMLError(str(exc)) from None
        self.data = self._yaml.load(text)  # raises YAMLError: the caller names the file

    def copy(self) -> YamlDocument:
        """An independent tree to edit, at a fraction of a parse's cost; this one must stay as read.

        Only a tree never written is copied faithfully: writing moves some comment tokens ruamel holds.
        """
        twin = object.__new__(YamlDocument)
        twin.text, twin.layout, twin._yaml = self.text, self.layout, _yaml(self.layout, self.text)
        twin.data = copy.deepcopy(self.data)
        return twin

    def dump(self) -> str:
        out = io.StringIO()
        self._yaml.dump(self.data, out)
        return out.getvalue()


def new_document_text(data: CommentedMap) -> str:
    out = io.StringIO()
    _yaml(NEW_FILE_LAYOUT, "---").dump(data, out)
    return out.getvalue()


def _yaml(layout: Layout, text: str) -> YAML:
    handler = YAML(typ="rt")
    handler.preserve_quotes = True
    handler.width = 1 << 16  # never fold a long line the user wrote on one line
    mapping, sequence, offset = layout
    handler.indent(mapping=mapping, sequence=sequence, offset=offset)
    handler.explicit_start = text.startswith("---")
    return handler


def same_value(old: object, new: object) -> bool:
    """Whether writing `new` would change what `old` means (YAML 1.1 reading, as the loader's)."""
    if isinstance(old, str) and not isinstance(old, ScalarString):
        with contextlib.suppress(yaml.YAMLError):
            old = yaml.safe_load(old) if old else old  # a plain `yes` is true for the loader
    if isinstance(old, list) and isinstance(new, list):
        return len(old) == len(new) and all(same_value(a, b) for a, b in zip(old, new, strict=True))
    if isinstance(old, bool) or isinstance(new, bool):
        return isinstance(old, bool) and isinstance(new, bool) and old == new
    if isinstance(old, int) and isinstance(new, int):
        return int(old) == new
    if isinstance(old, str) and isinstance(new, str):
        return str(old) == new
    return old == new


def styled(old: object, new: object) -> object:
    """`new` quoted as `old` was, so a changed value keeps its look."""
    if isinstance(old, ScalarString) and isinstance(new, str):
        return type(old)(new)
    return new


def block(value: object) -> object:
    """A new value as ruamel's own types, so comments can hang on its entries."""
    if isinstance(value, list) and not isinstance(value, CommentedSeq):
        return CommentedSeq(block(item) for item in value)
    if isinstance(value, dict) and not isinstance(value, CommentedMap):
        return CommentedMap((key, block(item)) for key, item in value.items())
    return value


def set_value(node: CommentedMap, key: str, value: object) -> None:
    """Set or add `key`, keeping the style of what was there and the lines that followed it."""
    value = block(value)
    if key not in node:
        append(node, key, value)
        return
    old = node[key]
    if isinstance(old, CommentedSeq) and isinstance(value, list):
        _replace_items(old, value)
        return
    tail = _tail(*_last_entry(node, key))
    _set_tail(*_last_entry(node, key), "")
    node[key] = styled(old, value)
    _set_tail(*_last_entry(node, key), tail)


def append(node: CommentedMap, key: str, value: object) -> None:
    """Add `key` at the end of `node`; the lines that followed the old last entry now follow the new one."""
    value = block(value)
    if not node:
        node.fa.set_block_style()
        node[key] = value
        return
    *others, last = list(node)
    before = _last_entry(node, last)
    tail = _tail(*before)
    # Entries the file separates with blank lines get one before the new entry too.
    spaced = any(_tail(*_last_entry(node, key)).startswith("\n") for key in others)
    _set_tail(*before, "\n" if spaced else "")
    node[key] = value
    _set_tail(*_last_entry(node, key), tail)


def remove(node: CommentedMap, key: str, owner: tuple[CommentedMap, str] | None = None) -> None:
    """Remove `key` with the comment lines just above it; what followed it keeps its place.

    `owner` is the entry holding `node`: when `node` is left empty, it becomes null (SPEC allows it for
    `domains` and `machines`) and the lines go after that entry.
    """
    keys = list(node)
    index = keys.index(key)
    tail = _tail(*_last_entry(node, key))
    del node[key]
    node.ca.items.pop(key, None)
    if index > 0:
        _set_tail(*_last_entry(node, keys[index - 1]), tail)
    elif node:
        if tail.lstrip("\n"):  # comment lines above the next entry, now the first: they stay above it
            node._yaml_clear_pre_comment().append(CommentToken(tail.lstrip("\n"), CommentMark(0), None))
    elif owner is not None:
        container, owner_key = owner
        container[owner_key] = None  # `machines:` with nothing after it: an empty mapping, and no `{}` to place
        _set_tail(container, owner_key, tail)


def rename(node: CommentedMap, old: str, new: str) -> None:
    """Give an entry a new key in the same place, with its comments."""
    position = list(node).index(old)
    value = node[old]
    comment = node.ca.items.pop(old, None)
    del node[old]
    node.insert(position, new, value)
    if comment is not None:
        node.ca.items[new] = comment


def _replace_items(seq: CommentedSeq, items: list[Any]) -> None:
    """Change a list in place: its flow or block style and the comments of the kept items stay."""
    tail = _tail(seq, len(seq) - 1) if len(seq) and not seq.fa.flow_style() else ""
    if tail:
        _set_tail(seq, len(seq) - 1, "")
    while len(seq) > len(items):
        del seq[len(seq) - 1]
    for i, item in enumerate(items):
        if i == len(seq):
            seq.append(item)
        elif not same_value(seq[i], item):
            seq[i] = styled(seq[i], item)
    if tail and len(seq):
        _set_tail(seq, len(seq) - 1, tail)


def _last_entry(container: Container, key: Any) -> tuple[Container, Any]:
    """The entry whose comment slot holds the lines after `container[key]`: its deepest last block entry."""
    while True:
        value = container[key]
        if not isinstance(value, (CommentedMap, CommentedSeq)) or not value or value.fa.flow_style():
            return container, key
        container, key = value, (list(value)[-1] if isinstance(value, CommentedMap) else len(value) - 1)


def _slot(container: Container) -> int:
    return 2 if isinstance(container, CommentedMap) else 0


def _tail(container: Container, key: Any) -> str:
    """The lines after an entry's own line (blank lines, comments), as ruamel holds them."""
    entry = container.ca.items.get(key)
    token = entry[_slot(container)] if entry else None
    if token is None or "\n" not in token.value:
        return ""
    value: str = token.value
    return value.split("\n", 1)[1]


def _set_tail(container: Container, key: Any, tail: str) -> None:
    slot = _slot(container)
    entry = container.ca.items.get(key)
    token = entry[slot] if entry else None
    head = token.value.split("\n", 1)[0] + "\n" if token is not None else "\n"
    if head == "\n" and not tail:
        if token is not None:
            entry[slot] = None
        return
    if token is None:
        token = CommentToken(head + tail, CommentMark(0), None)
        if entry is None:
            entry = container.ca.items[key] = [None, None, None, None]
        entry[slot] = token
    else:
        token.value = head + tail
