"""TUI operations recorded through the engine helpers: exit code from the outcome, nothing while off."""

from __future__ import annotations

import json

import pytest

from anklume_tui.engine.host import paths as state
from anklume_tui.engine.host import telemetry


@pytest.fixture(autouse=True)
def private_state(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


def codes() -> list[tuple[str, int]]:
    lines = state.telemetry_log_file().read_text().splitlines()
    return [(event["target"], event["exit_code"]) for event in map(json.loads, lines)]


class Declined(Exception):
    pass


async def returns(value):
    return value


async def raises(exc: Exception):
    raise exc


async def test_an_awaited_operation_is_recorded_with_the_exit_code_its_outcome_gives():
    telemetry.enable_telemetry()
    assert await telemetry.recorded_call("start", None, returns("ok")) == "ok"
    assert not await telemetry.recorded_call("apply", None, returns(False), ok=bool)
    with pytest.raises(Declined):
        await telemetry.recorded_call("delete", None, raises(Declined("protected")), (Declined,))
    with pytest.raises(OSError):
        await telemetry.recorded_call("stop", None, raises(OSError("gone")), (Declined,))
    assert codes() == [("start", 0), ("apply", 1), ("delete", 4), ("stop", 1)]


def test_blocking_work_is_recorded_the_same_way():
    telemetry.enable_telemetry()
    assert telemetry.recorded_result("provision", None, lambda: [], ok=bool) == []
    assert codes() == [("provision", 1)]


async def test_nothing_is_recorded_while_telemetry_is_off():
    await telemetry.recorded_call("start", None, returns(None))
    telemetry.recorded_result("provision", None, lambda: True, ok=bool)
    assert not state.telemetry_log_file().exists()
