"""A small infra in the test's own folder, and `cli.main` run in-process against an Incus that is not there."""

from __future__ import annotations

from pathlib import Path

import pytest

from anklume_tui import cli
from tests.engine.incus_helpers import isolate_host

NO_INCUS = ["--incus", "unix:///nonexistent/unix.socket"]

INFRA = """\
project_name: quiet
global:
  addressing: {}
  default_os_image: busybox
domains:
  lab:
    machines:
      lab-one:
        checks:
          - command: [hostname]
  spare:
    enabled: false
    machines:
      spare-one: {}
"""


def infra_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """INFRA as ./infra.yml of a host of the test's own (no user state, no user Incus)."""
    isolate_host(tmp_path, monkeypatch)
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "infra.yml"
    path.write_text(INFRA)
    return path


def batch_main(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """`anklume-tui --batch ARGV` in this process: its exit code, stdout and stderr."""
    code = cli.main(["--batch", *argv])
    out, err = capsys.readouterr()
    return code, out, err
