"""Local, opt-in usage log (SPEC §10.7): one JSON line per operation (batch verb or TUI action) in
`<state>/telemetry/usage.jsonl`.

Nothing here opens a socket or leaves the machine: it only appends to, reads and deletes local files.
Recording is on while `<state>/telemetry/enabled` exists, and never raises (a broken log must not fail a verb).
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TypeVar

from ... import exitcodes
from ...errors import AnklumeError
from . import paths as state
from .private_files import append_private, open_private, private_folder

FIELDS = ("timestamp", "target", "domain", "duration_seconds", "exit_code")
# Every batch verb is recorded (issue 9: "one line per operation"), save `telemetry` itself: recording
# `telemetry clear` or `telemetry report` would only log the log.
NOT_RECORDED = frozenset({"telemetry"})
T = TypeVar("T")


def is_enabled() -> bool:
    return state.telemetry_enabled_file().exists()


def enable_telemetry() -> None:
    private_folder(state.telemetry_dir())
    os.close(open_private(state.telemetry_enabled_file(), os.O_WRONLY))


def disable_telemetry() -> None:
    state.telemetry_enabled_file().unlink(missing_ok=True)


def clear_telemetry() -> bool:
    """Delete the usage log; True when there was one."""
    log = state.telemetry_log_file()
    existed = log.exists()
    log.unlink(missing_ok=True)
    return existed


def event_line(target: str, domain: str | None, duration: float, exit_code: int, now: datetime | None = None) -> str:
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    event = {
        "timestamp": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "target": target,
        "domain": domain,
        "duration_seconds": round(float(duration), 2),
        "exit_code": int(exit_code),
    }
    return json.dumps(event, ensure_ascii=False) + "\n"


def record(target: str, domain: str | None, duration: float, exit_code: int) -> None:
    """Append one event when telemetry is on; silent on any failure."""
    with contextlib.suppress(Exception):
        if not is_enabled():
            return
        append_private(state.telemetry_log_file(), event_line(target, domain, duration, exit_code))


class _Recorded:
    """Times one operation and records it on the way out, with the exit code the caller set or what an
    escaping exception means: 4 for one of `refusals`, a SystemExit's code, 130 for Ctrl-C, else 1. Used
    with `with` for blocking work, `async with` to write the line from a thread (the TUI's event loop
    never waits on the disk)."""

    def __init__(self, target: str, domain: str | None, refusals: tuple[type[Exception], ...] = ()) -> None:
        self.target, self.domain, self.refusals = target, domain, refusals
        self.code = exitcodes.FAILED
        self.started = time.monotonic()

    def succeeded(self, yes: bool) -> None:
        self.code = exitcodes.OK if yes else exitcodes.FAILED

    def _event(self, error: BaseException | None) -> tuple[str, str | None, float, int]:
        code = self.code
        if isinstance(error, self.refusals):
            code = exitcodes.REFUSED
        elif isinstance(error, SystemExit):
            code = error.code if isinstance(error.code, int) else exitcodes.INVALID
        elif isinstance(error, AnklumeError):
            code = error.exit_code
        elif isinstance(error, KeyboardInterrupt):
            code = 130
        elif error is not None:
            code = exitcodes.FAILED
        return self.target, self.domain, time.monotonic() - self.started, code

    def __enter__(self) -> _Recorded:
        return self

    def __exit__(self, _kind: object, error: BaseException | None, _trace: object) -> None:
        record(*self._event(error))

    async def __aenter__(self) -> _Recorded:
        return self

    async def __aexit__(self, _kind: object, error: BaseException | None, _trace: object) -> None:
        import asyncio  # here: a batch verb that never runs an event loop does not import it (issue 17)

        await asyncio.to_thread(record, *self._event(error))


def recorded_run(target: str, domain: str | None, run: Callable[[], int]) -> int:
    """Run a verb and record how it went (its exit code, or what an escaping exception turns into)."""
    if target in NOT_RECORDED:
        return run()
    with _Recorded(target, domain) as recorded:
        recorded.code = run()
    return recorded.code


def _succeeded(_result: object) -> bool:
    return True


async def recorded_call(
    target: str,
    domain: str | None,
    call: Awaitable[T],
    refusals: tuple[type[Exception], ...] = (),
    ok: Callable[[T], bool] = _succeeded,
) -> T:
    """Await an operation started from the TUI and record how it went, as `recorded_run` does for a verb:
    0 when it returns a result `ok` accepts, 4 when it raises one of `refusals`, else 1 (exceptions are
    re-raised)."""
    async with _Recorded(target, domain, refusals) as recorded:
        result = await call
        recorded.succeeded(ok(result))
    return result


def recorded_result(
    target: str,
    domain: str | None,
    run: Callable[[], T],
    ok: Callable[[T], bool],
    refusals: tuple[type[Exception], ...] = (),
) -> T:
    """`recorded_call` for blocking work that already runs in a thread (provisioning from the TUI)."""
    with _Recorded(target, domain, refusals) as recorded:
        result = run()
        recorded.succeeded(ok(result))
    return result
