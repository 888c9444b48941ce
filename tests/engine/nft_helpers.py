"""Shared by the nftables and ai-switch tests: an Infra from YAML text, and nft run only inside a private
network namespace (a fresh `unshare --net`, or the throwaway daemon's), never the host's."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from anklume_tui.psot.context import HostContext
from anklume_tui.psot.model import Infra
from anklume_tui.psot.pipeline import run_psot

needs_nft = pytest.mark.skipif(
    shutil.which("nft") is None or shutil.which("unshare") is None or os.geteuid() != 0,
    reason="nft -c in a private network namespace needs nft, unshare and root",
)

# The bridges of a work_and_dev infra.
WORK_AND_DEV_BRIDGES = ["net-dev", "net-work"]


def work_and_dev(project: str, base_subnet: str, extra: str = "") -> str:
    """An infra of two domains on `base_subnet`: work (subnet 0, work-a at .0.1) and dev (subnet 1, dev-a at
    .1.1); `extra` is more top-level YAML (network_policies, ...)."""
    return f"""\
project_name: {project}
global:
  base_subnet: "{base_subnet}"
domains:
  work:
    subnet_id: 0
    machines:
      work-a: {{ip: {base_subnet}.0.1}}
  dev:
    subnet_id: 1
    machines:
      dev-a: {{ip: {base_subnet}.1.1}}
{extra}"""


def infra_from(text: str, tmp_path: Path, level: int | None = None) -> Infra:
    """The typed infra of this YAML (nesting prefix `%03d-` when level is given)."""
    path = tmp_path / "infra.yml"
    path.write_text(text)
    result = run_psot(path, HostContext(absolute_level=level, skip_subnet_check=True))
    assert result.infra is not None, [f.render() for f in result.findings]
    return result.infra


def nft_check_in_fresh_netns(text: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """`nft -c -f` in a brand-new empty network namespace: validates against a real kernel, touches nothing."""
    path = tmp_path / "check.nft"
    path.write_text(text)
    return subprocess.run(
        ["unshare", "--net", "nft", "-c", "-f", str(path)], capture_output=True, text=True, timeout=30
    )
