"""Telemetry: opt-in, exactly the SPEC fields, one line per batch operation, and never a network socket."""

from __future__ import annotations

import json
import socket
import sys
from datetime import datetime

import pytest

from anklume_tui.cli import main
from anklume_tui.engine.host import paths as state
from anklume_tui.engine.host import telemetry, telemetry_summary
from anklume_tui.verbs.telemetry import render_charts, render_report

_SOCKETS_FORBIDDEN: list[bool] = []


def _audit(event: str, args: tuple) -> None:
    if _SOCKETS_FORBIDDEN and event.startswith("socket."):
        raise AssertionError(f"telemetry opened a socket: {event} {args!r}")


sys.addaudithook(_audit)


@pytest.fixture(autouse=True)
def private_state(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("ANKLUME_SKIP_HOST_SUBNET_CHECK", "1")
    monkeypatch.setenv("ANKLUME_CONTEXT_DIR", str(tmp_path / "no-context"))
    return tmp_path


def _lines() -> list[dict]:
    log = state.telemetry_log_file()
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def test_telemetry_is_off_by_default_and_records_nothing():
    assert not telemetry.is_enabled()
    telemetry.record("apply", None, 1.0, 0)
    assert not state.telemetry_log_file().exists()


def test_an_event_carries_exactly_the_spec_fields():
    telemetry.enable_telemetry()
    telemetry.record("apply", "work", 12.3456, 1)
    (event,) = _lines()
    assert set(event) == {"timestamp", "target", "domain", "duration_seconds", "exit_code"}
    assert event["target"] == "apply" and event["domain"] == "work" and event["exit_code"] == 1
    assert event["duration_seconds"] == 12.35
    assert datetime.fromisoformat(event["timestamp"]).utcoffset().total_seconds() == 0


def test_record_never_raises_when_the_log_cannot_be_written():
    telemetry.enable_telemetry()
    state.telemetry_log_file().mkdir()  # a directory where the log should be
    telemetry.record("sync", None, 0.1, 0)


def test_every_batch_verb_adds_one_line_with_its_exit_code(tmp_path, capsys):
    assert main(["--batch", "telemetry", "on"]) == 0
    infra = tmp_path / "infra.yml"
    infra.write_text(
        "project_name: lab\nglobal: {addressing: {}}\n"
        "domains: {work: {trust_level: trusted, machines: {work-dev: {}}}}\n"
    )
    assert main(["--batch", "validate", "--infra", str(infra)]) == 0
    assert main(["--batch", "sync", "--infra", str(tmp_path / "missing.yml")]) == 2
    assert [(e["target"], e["exit_code"], e["domain"]) for e in _lines()] == [("validate", 0, None), ("sync", 2, None)]


def test_telemetry_verbs_themselves_are_not_recorded():
    main(["--batch", "telemetry", "on"])
    main(["--batch", "telemetry", "status"])
    main(["--batch", "telemetry", "report"])
    assert _lines() == []


def test_off_stops_recording_and_clear_deletes_the_log():
    telemetry.enable_telemetry()
    telemetry.record("apply", None, 1, 0)
    main(["--batch", "telemetry", "off"])
    telemetry.record("apply", None, 1, 0)
    assert len(_lines()) == 1
    assert main(["--batch", "telemetry", "clear"]) == 0
    assert not state.telemetry_log_file().exists()


def test_report_counts_success_rate_and_mean_duration_per_operation():
    telemetry.enable_telemetry()
    for target, seconds, code in [("apply", 10, 0), ("apply", 20, 1), ("sync", 1, 0), ("apply", 30, 0)]:
        telemetry.record(target, None, seconds, code)
    state.telemetry_log_file().open("a").write("not json\n")
    report = telemetry_summary()
    apply, sync = report.operations
    assert (apply.target, apply.count, apply.succeeded, apply.success_rate) == ("apply", 3, 2, 0.67)
    assert apply.mean_duration_seconds == 20.0
    assert (sync.target, sync.count, sync.success_rate) == ("sync", 1, 1.0)
    assert report.events == 4 and report.unreadable_lines == 1


def test_report_keeps_the_fifteen_most_frequent_operations():
    telemetry.enable_telemetry()
    for n in range(20):
        for _ in range(n + 1):
            telemetry.record(f"op{n:02}", None, 1, 0)
    operations = telemetry_summary().operations
    assert len(operations) == 15 and operations[0].target == "op19" and operations[-1].target == "op05"


def test_report_is_a_plain_table_when_not_a_terminal(capsys):
    telemetry.enable_telemetry()
    telemetry.record("apply", None, 2, 0)
    assert main(["--batch", "telemetry", "report"]) == 0
    out = capsys.readouterr().out
    assert "OPERATION" in out and "apply" in out and "100%" in out and "\x1b[" not in out


def test_report_draws_bar_charts_on_a_terminal():
    telemetry.enable_telemetry()
    telemetry.record("apply", None, 2, 0)
    telemetry.record("sync", None, 1, 1)
    drawn = render_report(telemetry_summary(), charts=True)
    assert "runs per operation" in drawn and "success rate" in drawn and "mean duration" in drawn
    assert "█" in drawn or "▇" in drawn


def test_telemetry_opens_no_network_socket(monkeypatch, capsys):
    def refuse(*args, **kwargs):
        raise AssertionError("telemetry tried to open a connection")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket.socket, "sendto", refuse)
    _SOCKETS_FORBIDDEN.append(True)
    try:
        telemetry.enable_telemetry()
        telemetry.record("apply", "work", 1.5, 0)
        telemetry.recorded_run("sync", None, lambda: 0)
        render_charts(telemetry_summary())
        for action in ("status", "report", "off", "clear", "on"):
            assert main(["--batch", "telemetry", action]) == 0
        assert main(["--batch", "telemetry", "report", "--json"]) == 0
    finally:
        _SOCKETS_FORBIDDEN.clear()
    assert "schema_version" in capsys.readouterr().out


def test_a_verb_that_crashes_is_recorded_as_failed(monkeypatch):
    from anklume_tui import cli

    def crash(args):
        raise RuntimeError("boom")

    telemetry.enable_telemetry()
    monkeypatch.setattr(cli.VERBS["validate"], "run", crash)
    assert main(["--batch", "validate"]) == 1
    assert [(e["target"], e["exit_code"]) for e in _lines()] == [("validate", 1)]
