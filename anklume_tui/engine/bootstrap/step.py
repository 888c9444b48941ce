"""One thing bootstrap (or `doctor --fix`) sees and may do: its state before, the command it stands for, and
the action that does it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

# done: already as wanted, nothing to do; todo: will be done; left: something exists that bootstrap does not
# change (said, kept); manual: cannot be done from here (the message says how); refused: would need the user's
# explicit say (the message says which flag).
State = Literal["done", "todo", "left", "manual", "refused"]
Action = Callable[[], Awaitable[str]]


@dataclass
class Step:
    id: str  # the doctor check it answers, where there is one
    state: State
    message: str
    command: str | None = None  # what it runs or writes, shown before it happens
    action: Action | None = None  # for `todo`: does it, returns one line on what was done


def done(step_id: str, message: str) -> Step:
    return Step(step_id, "done", message)


def todo(step_id: str, message: str, command: str, action: Action) -> Step:
    return Step(step_id, "todo", message, command, action)
