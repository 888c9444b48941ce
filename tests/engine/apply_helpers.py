"""Shared by the plan/apply tests: infra texts and running `--batch plan|apply` against a throwaway daemon."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.incusd_helpers import ThrowawayIncus

ROOT = Path(__file__).resolve().parents[2]

THREE_DOMAINS = """\
project_name: three
global:
  addressing: {}
  default_os_image: busybox
domains:
  admin:
    trust_level: admin
    machines:
      admin-ctl:
        boot_autostart: true
        boot_priority: 10
  work:
    trust_level: trusted
    profiles:
      small:
        config:
          limits.cpu: "1"
    machines:
      work-dev:
        profiles: [default, small]
        config:
          limits.memory: 256MiB
        snapshots_schedule: "0 3 * * *"
        snapshots_expiry: 7d
      work-web:
        ephemeral: true
        storage_volumes:
          data: {size: 100MiB, path: /data}
  lab:
    machines:
      lab-box: {}
"""
INSTANCES = {"admin": ["admin-ctl"], "work": ["work-dev", "work-web"], "lab": ["lab-box"]}


def many_machines(domains: int = 3, per_domain: int = 2, name: str = "bench") -> str:
    lines = [f"project_name: {name}", "global:", "  addressing: {}", "  default_os_image: busybox", "domains:"]
    for d in range(domains):
        lines += [f"  d{d}:", "    machines:"]
        lines += [f"      d{d}-m{m:02d}: {{}}" for m in range(per_domain)]
    return "\n".join(lines) + "\n"


def batch_env(daemon: ThrowawayIncus, state: Path, context_dir: Path | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("ANKLUME_INFRA", None)
    env.update(
        ANKLUME_INCUS=daemon.url,
        ANKLUME_SKIP_HOST_SUBNET_CHECK="1",
        ANKLUME_CONTEXT_DIR=str(context_dir or state / "no-context"),
        XDG_STATE_HOME=str(state),
        XDG_DATA_HOME=str(state / "data"),  # exported applications' menu entries: never the user's menu
    )
    return env


def batch_cmd(verb: str, infra: Path, *args: str) -> list[str]:
    # busybox machines have no python3 for Ansible: these tests apply without provisioning (tests/provision/).
    if verb == "apply" and "--no-provision" not in args:
        args = (*args, "--no-provision")
    return [sys.executable, "-m", "anklume_tui", "--batch", verb, "--infra", str(infra), *args]


def batch(
    daemon: ThrowawayIncus, state: Path, verb: str, infra: Path, *args: str, context_dir: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        batch_cmd(verb, infra, *args),
        env=batch_env(daemon, state, context_dir),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def plan_json(daemon: ThrowawayIncus, state: Path, infra: Path, *args: str, **kw) -> dict:
    result = batch(daemon, state, "plan", infra, "--json", *args, **kw)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def instances(daemon: ThrowawayIncus) -> dict[tuple[str, str], dict]:
    """Every instance, read with the incus CLI (independent of our client)."""
    found = daemon.incus_json("list", "--all-projects")
    return {(i["project"], i["name"]): i for i in found}
