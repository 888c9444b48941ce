"""Bounds on YAML that comes from a user (or an archive): checked before anything is built from it.

A file is read only when it is a regular file, and never more than a size bound: a FIFO or a device
would otherwise block the open or the read forever. Then one pass over libyaml's events (its parser is a
state machine, so a deep document cannot overflow the C stack as the composers' recursion does) counts
the nodes and the nesting depth, and stops at the first bound crossed. Only text that passes is composed.
An infra of a thousand machines is about 230 KB and 24,000 nodes, well inside these bounds.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:  # imported where YAML is read: reading a file within the bounds needs no parser (issue 17)
    import yaml

MAX_BYTES = 8 * 1024 * 1024
MAX_NODES = 100_000
MAX_DEPTH = 100


def _loader() -> type[yaml.SafeLoader]:
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class UnreadableInput(Exception):
    """Input refused before it is parsed; the message says why, line and column say where (1-based)."""

    def __init__(self, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(message)
        self.message, self.line, self.column = message, line, column


class NotRegularFile(UnreadableInput):
    """A FIFO, a device, a socket or a directory where a file is expected."""


@dataclass
class Budget:
    """What is left to read in one load: several files (the directory form) share one budget."""

    bytes: int = MAX_BYTES
    nodes: int = MAX_NODES

    def take_bytes(self, size: int) -> None:
        if size > self.bytes:
            raise UnreadableInput(f"larger than {_size(MAX_BYTES)}{self._together()}")
        self.bytes -= size

    def _together(self) -> str:
        return " (with the files read before it)" if self.bytes < MAX_BYTES else ""


def _size(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MiB" if limit % (1024 * 1024) == 0 else f"{limit} bytes"


def _kind(mode: int) -> str:
    kinds = {stat.S_ISFIFO: "a FIFO", stat.S_ISCHR: "a character device", stat.S_ISBLK: "a block device"}
    kinds |= {stat.S_ISSOCK: "a socket", stat.S_ISDIR: "a directory"}
    return next((name for test, name in kinds.items() if test(mode)), "not a plain file")


def read_regular_file(path: Path, limit: int = MAX_BYTES) -> bytes:
    """The bytes of the regular file at `path`, at most `limit` of them (UnreadableInput otherwise).

    The open never waits (O_NONBLOCK: a FIFO with no writer), the type is checked on the opened file
    (no swap between check and read), and the read stops past the bound even if the file grows.
    OSError (missing, permission, symlink loop) goes to the caller.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotRegularFile(f"not a regular file ({_kind(info.st_mode)})")
        if info.st_size > limit:
            raise UnreadableInput(f"larger than {_size(limit)}")
        with os.fdopen(fd, "rb", closefd=False) as stream:
            return read_bounded(stream, limit)
    finally:
        os.close(fd)


def read_bounded(stream: IO[bytes], limit: int) -> bytes:
    """At most `limit` bytes of `stream` (UnreadableInput when there is more)."""
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise UnreadableInput(f"larger than {_size(limit)}")
    return data


def check_shape(text: str | bytes, budget: Budget | None = None) -> int:
    """Count the nodes and nesting of `text` from libyaml's events, before anything is composed.

    Returns the number of nodes (taken from `budget`). Raises UnreadableInput at the node that crosses
    a bound, and yaml.YAMLError for a syntax error (the caller names the file and the position).
    """
    import yaml

    budget = budget or Budget()
    nodes = depth = 0
    with libyaml_events(text) as loader:
        while (event := loader.get_event()) is not None:
            kind = type(event)
            if kind is yaml.SequenceEndEvent or kind is yaml.MappingEndEvent:
                depth -= 1
                continue
            if kind is yaml.SequenceStartEvent or kind is yaml.MappingStartEvent:
                depth += 1
                if depth > MAX_DEPTH:
                    raise _at(event, f"nesting deeper than {MAX_DEPTH} levels")
            elif kind is not yaml.ScalarEvent and kind is not yaml.AliasEvent:
                continue
            nodes += 1
            if nodes > budget.nodes:
                raise too_many_nodes(event, budget)
    budget.nodes -= nodes
    return nodes


@contextmanager
def libyaml_events(text: str | bytes) -> Iterator[yaml.SafeLoader]:
    """libyaml's loader over `text`, to read its events; disposed of after. libyaml's scanner reads flow
    collections ahead, and has its own depth bound (1000): crossing it is the same refusal as crossing ours."""
    import yaml

    loader = _loader()(text)
    try:
        yield loader
    except yaml.MarkedYAMLError as exc:
        if "nesting depth" not in str(exc.problem) or exc.problem_mark is None:
            raise
        mark = exc.problem_mark
        raise UnreadableInput(f"nesting deeper than {MAX_DEPTH} levels", mark.line + 1, mark.column + 1) from None
    finally:
        loader.dispose()


def too_many_nodes(event: yaml.Event, budget: Budget) -> UnreadableInput:
    """The refusal at the node past what `budget` has left, saying so when earlier files took their share."""
    together = " (with the files read before it)" if budget.nodes < MAX_NODES else ""
    return _at(event, f"more than {MAX_NODES} YAML nodes{together}")


def _at(event: yaml.Event, message: str) -> UnreadableInput:
    """The refusal, located at the node that crossed the bound."""
    mark = event.start_mark
    return UnreadableInput(message, mark.line + 1, mark.column + 1) if mark else UnreadableInput(message)


def safe_load_bounded(data: bytes, limit: int = MAX_BYTES) -> object:
    """yaml.safe_load of data that is neither too large nor too many nodes nor too deep.

    Raises UnreadableInput (a bound) or yaml.YAMLError (not YAML).
    """
    if len(data) > limit:
        raise UnreadableInput(f"larger than {_size(limit)}")
    check_shape(data)
    import yaml

    return yaml.load(data, Loader=_loader())
