"""After a batch verb the `anklume-tui` process ends at once (cli.entry, issue 17): its output is flushed whole
and its exit code kept, but the interpreter does not tear its modules down one by one (no exit handler runs);
a reader that stops early costs no error message; the TUI and `--version` end as any Python program does."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.engine.incus_helpers import isolate_host

# `entry` as the console script calls it, with an exit handler that says when the interpreter tears down
ENTRY = """
import atexit, sys
atexit.register(lambda: sys.stderr.write("torn down\\n"))
from anklume_tui.cli import entry
sys.argv = ["anklume-tui", *sys.argv[1:]]
entry()
"""


def _entry(tmp_path, *argv: str, stdout=subprocess.PIPE) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", ENTRY, *argv],
        cwd=tmp_path,
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
    )


def _infra(tmp_path, domains: int, machines: int) -> None:
    lines = ["project_name: exits", "global:", "  addressing: {}", "domains:"]
    for d in range(domains):
        lines += [f"  d{d}:", "    machines:"] + [f"      d{d}m{n:03d}: {{os_image: busybox}}" for n in range(machines)]
    (tmp_path / "infra.yml").write_text("\n".join(lines) + "\n")


def test_a_batch_verb_gives_its_whole_output_and_exit_code_without_tearing_down(tmp_path, monkeypatch):
    isolate_host(tmp_path, monkeypatch)
    _infra(tmp_path, 2, 3)
    done = _entry(tmp_path, "--batch", "validate", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["valid"] is True
    assert "torn down" not in done.stderr
    _infra(tmp_path, 4, 200)  # 101 machines too many per domain: an answer well over a pipe's buffer (64 KiB)
    refused = _entry(tmp_path, "--batch", "validate", "--json")
    assert refused.returncode == 2
    assert len(refused.stdout) > 65536
    assert [e["rule"] for e in json.loads(refused.stdout)["errors"]] == ["X2"] * 4 * 101
    assert "torn down" not in refused.stderr


def test_a_reader_that_stops_early_costs_no_error_message(tmp_path, monkeypatch):
    isolate_host(tmp_path, monkeypatch)
    _infra(tmp_path, 4, 200)
    reader = subprocess.Popen(["head", "-c", "10"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    done = _entry(tmp_path, "--batch", "validate", "--json", stdout=reader.stdin)
    reader.stdin.close()
    reader.wait(30)
    assert "Exception ignored" not in done.stderr and "Traceback" not in done.stderr
    assert done.returncode == 1 and "internal error" not in done.stderr, done.stderr


def test_version_ends_as_any_python_program(tmp_path):
    done = _entry(tmp_path, "--version")
    assert done.returncode == 0 and done.stdout.startswith("anklume-tui ")
    assert "torn down" in done.stderr
