"""Shared by the backup tests: a small applied domain, a throwaway GnuPG key, and readers that use the
incus CLI and plain tools (never our own client)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.engine.apply_helpers import batch
from tests.incusd_helpers import ThrowawayIncus

KEEP = """\
project_name: keep
global:
  addressing: {}
  default_os_image: busybox
domains:
  work:
    trust_level: trusted
    machines:
      work-a:
        ephemeral: true
      work-b: {}
"""
RECIPIENT = "backup@anklume.test"


@pytest.fixture(name="gpg_key")
def gpg_key_fixture(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A keyring of the test's own (`GNUPGHOME`, passed on to the batch runs) holding one key without a
    passphrase; its recipient address."""
    if shutil.which("gpg") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("gpg is not installed (scripts/install-incus.sh installs gnupg; CI=true: these tests must run)")
        pytest.skip("gpg is not installed")
    home = Path(tempfile.mkdtemp(prefix="anklume-gnupg-"))  # short: gpg-agent's socket lives in it
    monkeypatch.setenv("GNUPGHOME", str(home))
    subprocess.run(
        ["gpg", "--batch", "--passphrase", "", "--quick-gen-key", f"Backup Test <{RECIPIENT}>", "future-default"],
        check=True,
        capture_output=True,
    )
    yield RECIPIENT
    subprocess.run(["gpgconf", "--kill", "gpg-agent"], check=False, capture_output=True)
    shutil.rmtree(home, ignore_errors=True)


def backup_json(daemon: ThrowawayIncus, state: Path, infra: Path, *args: str) -> dict:
    result = batch(daemon, state, "backup", infra, *args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def write_in(daemon: ThrowawayIncus, project: str, instance: str, path: str, text: str) -> None:
    daemon.incus("exec", instance, f"--project={project}", "--", "sh", "-c", f"echo {text} > {path}")


def read_from(daemon: ThrowawayIncus, project: str, instance: str, path: str) -> str | None:
    """A file's text through `incus file pull` (works on a stopped instance too); None when absent."""
    found = daemon.incus("file", "pull", f"{instance}{path}", "-", f"--project={project}", check=False)
    return found.stdout.strip() if found.returncode == 0 else None


def delete_instance(daemon: ThrowawayIncus, project: str, instance: str) -> None:
    daemon.incus("delete", "--force", instance, f"--project={project}")


def server_backups(daemon: ThrowawayIncus, project: str, instance: str) -> list[str]:
    return daemon.query(f"/1.0/instances/{instance}/backups?project={project}")


def volumes(daemon: ThrowawayIncus, project: str) -> list[str]:
    """Instance volumes of the project's storage (what a half-done import would leave)."""
    found = daemon.incus_json("storage", "volume", "list", "default", f"--project={project}")
    return sorted(v["name"] for v in found if v["type"] in ("container", "virtual-machine"))
