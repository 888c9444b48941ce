"""The TUI opened on a hostile infra (issue 15, point 7): it loads through the same bounded loader as the CLI,
so it shows one located finding instead of crashing (deep nesting overflowed the C stack) or hanging (a FIFO)."""

from __future__ import annotations

import contextlib
import os

import pytest

from anklume_tui.app import AnklumeApp
from tests.wait_helpers import until


@pytest.fixture(autouse=True)
def _quiet_host(monkeypatch):
    monkeypatch.setenv("ANKLUME_SKIP_HOST_SUBNET_CHECK", "1")
    monkeypatch.setenv("ANKLUME_CONTEXT_DIR", "/nonexistent")
    monkeypatch.setenv("ANKLUME_INCUS", "unix:///nonexistent/unix.socket")


def deep(path):
    path.write_bytes(b"project_name: " + b"[" * 50_000 + b"]" * 50_000 + b"\n")


def fifo(path):
    os.mkfifo(path)


@pytest.mark.parametrize(("make", "rule"), [(deep, "L3"), (fifo, "L1")], ids=["deep-nesting", "fifo"])
async def test_a_hostile_infra_is_shown_as_its_located_finding(tmp_path, make, rule):
    infra = tmp_path / "infra.yml"
    make(infra)
    app = AnklumeApp(infra)
    try:
        async with app.run_test(size=(140, 40)) as pilot:
            await until(pilot, lambda: getattr(app.screen, "result", None) is not None, what="the infra checked")
            await pilot.pause()
            text = "\n".join(app.screen.query_one("#findings").lines)
            assert f"{infra}:1:" in text and f"error[{rule}]" in text, text
    finally:
        with contextlib.suppress(OSError):  # a reader blocked on the FIFO (before the bounds) gets its EOF
            os.close(os.open(infra, os.O_WRONLY | os.O_NONBLOCK))
