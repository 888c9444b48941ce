"""An infra with one machine, and that machine made by hand (no apply): what `move` tests need."""

from __future__ import annotations

from pathlib import Path

from tests.incusd_helpers import ThrowawayIncus

INFRA = """\
project_name: movers
global:
  nesting_prefix: false
domains:
  pro:
    subnet_id: 1
    machines:
      pro-dev: {}
      pro-web: {}  # declared, never made
"""


def machine_made(daemon: ThrowawayIncus, tmp_path: Path, *incus_args: str) -> Path:
    """Project `pro` (the default project's images and profiles) holding a running `pro-dev`; the infra's path."""
    daemon.incus("project", "create", "pro", "-c", "features.images=false", "-c", "features.profiles=false")
    daemon.incus("launch", "busybox", "pro-dev", "--project=pro", *incus_args)
    path = tmp_path / "infra.yml"
    path.write_text(INFRA)
    return path


def location(daemon: ThrowawayIncus, name: str = "pro-dev", project: str = "pro") -> tuple[str, str]:
    """(member, status) as `incus list -c nLs` shows it: the incus CLI, not our client; ("", "") while it lists
    no such instance (for a moment in the middle of a move)."""
    out = daemon.incus("list", name, f"--project={project}", "-c", "nLs", "-f", "csv").stdout.strip()
    if not out:
        return "", ""
    found, member, status = out.split(",")
    assert found == name
    return member, status


def status(daemon: ThrowawayIncus, name: str = "pro-dev", project: str = "pro") -> str:
    return daemon.incus("list", name, f"--project={project}", "-c", "s", "-f", "csv").stdout.strip()
