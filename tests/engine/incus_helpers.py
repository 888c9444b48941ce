"""Build, with the harness's `incus` CLI, Incus objects shaped like the ones apply creates (a domain's
project, bridge and default profile; instances with the managed tag, protection and a static IP), and run
batch verbs in-process. Independent of our client, so tests can check status, flush and import against it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from anklume_tui import cli
from tests.incusd_helpers import ThrowawayIncus

MANAGED = "user.anklume.managed=true"
FEATURES = [
    "features.images=true",
    "features.profiles=true",
    "features.storage.volumes=true",
    "features.networks=false",
]
FILTERING = ["security.mac_filtering=true", "security.ipv4_filtering=true", "security.ipv6_filtering=true"]


def make_domain(
    incusd: ThrowawayIncus, project: str, bridge: str, net: str, *, tagged: bool = True, infra: str | None = None
) -> None:
    """Project (own images and profiles), bridge `<net>.254/24`, default profile with eth0 and root, busybox;
    tagged managed (and with `infra`, as that infra's: `user.anklume.infra`)."""
    tag = [MANAGED, *([f"user.anklume.infra={infra}"] if infra else [])] if tagged else []
    incusd.incus("project", "create", project, *(f"--config={c}" for c in FEATURES + tag))
    incusd.incus(
        "network",
        "create",
        bridge,
        f"ipv4.address={net}.254/24",
        "ipv4.nat=true",
        "ipv6.address=none",
        f"ipv4.dhcp.ranges={net}.100-{net}.249",
        *tag,
    )
    where = f"--project={project}"
    incusd.incus("profile", "device", "add", "default", "root", "disk", "pool=default", "path=/", where)
    incusd.incus(
        "profile", "device", "add", "default", "eth0", "nic", f"network={bridge}", "name=eth0", *FILTERING, where
    )
    incusd.forget_images(project)  # a project of that name deleted earlier (by flush) took its images along
    incusd.import_image(project, "busybox")


def make_instance(
    incusd: ThrowawayIncus,
    project: str,
    name: str,
    *,
    ip: str | None = None,
    running: bool = False,
    protected: bool = True,
    tagged: bool = True,
    infra: str | None = None,
    config: dict[str, str] | None = None,
) -> None:
    settings = {**(config or {}), "security.protection.delete": "true" if protected else "false"}
    if tagged:
        settings["user.anklume.managed"] = "true"
        if infra:
            settings["user.anklume.infra"] = infra
    where = f"--project={project}"
    incusd.incus("init", "busybox", name, where, *(f"--config={k}={v}" for k, v in settings.items()))
    if ip:
        incusd.incus("config", "device", "override", name, "eth0", f"ipv4.address={ip}", where)
    if running:
        incusd.incus("start", name, where)


def incus_list(incusd: ThrowawayIncus) -> dict[tuple[str, str], dict]:
    """`incus list --all-projects` as (project, name) → instance (with state and snapshots)."""
    found = json.loads(incusd.incus("list", "--all-projects", "--format=json").stdout)
    return {(i["project"], i["name"]): i for i in found}


def names(incusd: ThrowawayIncus, *args: str) -> set[str]:
    """Names from `incus <args> --format=json` (projects, networks, profiles...)."""
    return {o["name"] for o in json.loads(incusd.incus(*args, "--format=json").stdout)}


def batch(capsys: pytest.CaptureFixture, incusd: ThrowawayIncus, verb: str, *args: str) -> tuple[int, str, str]:
    """Run `anklume-tui --batch VERB ARGS --incus <throwaway socket>` in-process: (exit code, stdout, stderr)."""
    capsys.readouterr()
    code = cli.main(["--batch", verb, *args, "--incus", incusd.url])
    out, err = capsys.readouterr()
    return code, out, err


def isolate_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A host context of our own (no nesting prefix) and no host-subnet check: the test's infra decides."""
    context = tmp_path / "context"
    context.mkdir()
    monkeypatch.setenv("ANKLUME_CONTEXT_DIR", str(context))
    monkeypatch.setenv("ANKLUME_SKIP_HOST_SUBNET_CHECK", "1")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("ANKLUME_INFRA", raising=False)
    monkeypatch.delenv("ANKLUME_INCUS", raising=False)
    return context
