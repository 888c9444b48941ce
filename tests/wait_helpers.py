"""The one way tests wait: poll a predicate until it holds, else fail naming what was awaited.

Tests wait for something they can observe, never for a guessed time: a sleep long enough on an idle machine
is too short on a loaded one. `wait_until` polls from plain code, `wait_until_async` from a coroutine, and
`until` from a Pilot test (pausing through the pilot, so the app handles its messages between checks).
A timeout names `what` was awaited; without it, the predicate's own source line and place.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
TIMEOUT = 15.0
INTERVAL = 0.05
# What was awaited: a text, or a function giving it at the timeout (to show the state then), or None.
What = str | Callable[[], str] | None


def wait_until(
    predicate: Callable[[], T], timeout: float = TIMEOUT, what: What = None, interval: float = INTERVAL
) -> T:
    """The predicate's first truthy value, polled every `interval` s; AssertionError after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(timed_out(predicate, timeout, what))
        time.sleep(interval)


async def wait_until_async(
    predicate: Callable[[], T | Awaitable[T]],
    timeout: float = TIMEOUT,
    what: What = None,
    interval: float = INTERVAL,
    pause: Callable[[float], Awaitable[Any]] = asyncio.sleep,
) -> T:
    """`wait_until` for coroutines: the event loop runs on while it waits (`pause(interval)` between checks);
    the predicate may be a coroutine function (a check that itself awaits)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = predicate()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if loop.time() >= deadline:
            raise AssertionError(timed_out(predicate, timeout, what))
        await pause(interval)


async def until(pilot: Any, predicate: Callable[[], T], timeout: float = TIMEOUT, what: What = None) -> T:
    """For Pilot tests: `wait_until_async` pausing through `pilot.pause`, which lets the screen process its
    messages first, so a check sees what the app has done so far."""
    return await wait_until_async(predicate, timeout, what, pause=pilot.pause)


def timed_out(predicate: Callable[[], object], timeout: float, what: What) -> str:
    described = what() if callable(what) else what
    return f"waited {timeout:g} s for {described or source_of(predicate)}"


def source_of(predicate: Callable[[], object]) -> str:
    """The predicate's source line(s) and where they are: what a test awaited, when it did not say."""
    code = getattr(predicate, "__code__", None)
    try:
        source = " ".join(line.strip() for line in inspect.getsource(predicate).splitlines())
    except (OSError, TypeError):
        source = repr(predicate)
    return f"`{source}` ({Path(code.co_filename).name}:{code.co_firstlineno})" if code else f"`{source}`"
