"""Shared by the snapshot, disposable and golden tests: a small applied infra on the throwaway daemon."""

from __future__ import annotations

import json
from pathlib import Path

from tests.engine.apply_helpers import batch
from tests.incusd_helpers import ThrowawayIncus

TWO_DOMAINS = """\
project_name: life
global:
  addressing: {}
  default_os_image: busybox
domains:
  work:
    trust_level: trusted
    machines:
      work-a: {}
      work-b: {}
  throw:
    trust_level: disposable
    machines:
      throw-box: {}
"""


def applied(daemon: ThrowawayIncus, tmp_path: Path, text: str = TWO_DOMAINS) -> Path:
    infra = tmp_path / "infra.yml"
    infra.write_text(text)
    result = batch(daemon, tmp_path, "apply", infra, "--no-provision")
    assert result.returncode == 0, result.stderr
    return infra


def snapshot_names(daemon: ThrowawayIncus, project: str, instance: str) -> list[str]:
    """Read with the incus CLI (independent of our client)."""
    found = json.loads(daemon.incus("query", f"/1.0/instances/{instance}/snapshots?project={project}").stdout)
    return sorted(path.split("?", 1)[0].rsplit("/", 1)[-1] for path in found)


def instance_list(daemon: ThrowawayIncus) -> list[dict]:
    return daemon.incus_json("list", "--all-projects")
