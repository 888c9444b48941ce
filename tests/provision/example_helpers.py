"""Shared by the example tests (issue 25): a copy of a shipped example made to run on the throwaway daemon,
applied with provisioning, then applied again.

What the copy changes, and why (each one said in the test module's docstring too):
- `images:<alias>` (the public image server) becomes `STAND_IN`, the systemd test image imported locally
  (tests/image_helpers.py): the daemon's namespace has no route out.
- `type: vm` becomes a container: the test hosts have no KVM/vhost_vsock, Incus refuses to create a VM there.
- `gpu: true` goes: the test hosts have no GPU, Incus refuses to start a container with a gpu device.
- `linux.kernel_modules` goes: Incus loads them on the host with modprobe, which the test hosts lack (and a
  test loads nothing into the host's kernel).
- `shared_volumes_base`, `persistent_data_base` and absolute shared-volume sources move under the test's own
  folder: apply makes those folders on the host, and a test writes nothing outside its own.
What the unchanged example asks Incus for there (a VM, a gpu device) is checked in its plan instead.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from anklume_tui.engine.incus.client import IncusClient
from anklume_tui.engine.reconcile import Plan, make_plan
from anklume_tui.psot.context import HostContext
from anklume_tui.psot.pipeline import run_psot
from tests.image_helpers import build_systemd_image
from tests.incusd_helpers import ThrowawayIncus
from tests.provision.provision_helpers import anklume

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
STAND_IN = "anklume-debian-systemd"
HOST_ROOT = "/srv/anklume"
# Below the managed section of group_vars/all.yml: the containers have no route out (SPEC §8.5 roles with
# downloads take their offline path).
OFFLINE_VARS = "anklume_offline: true\n"
WEB_APPS = {"open_webui": ("ghcr.io/open-webui/open-webui:main", 8080), "lobechat": ("lobehub/lobe-chat:latest", 3210)}


@dataclass
class ExampleCopy:
    infra: Path  # the copy's infra.yml or infra/ folder
    vms: list[str] = field(default_factory=list)  # machines the example declares as VMs
    gpus: list[str] = field(default_factory=list)  # machines the example gives a GPU
    modules: list[str] = field(default_factory=list)  # machines that have Incus load host kernel modules
    machines: list[str] = field(default_factory=list)


# Examples seen failing, with why. (Five more failed while fs.inotify.max_user_instances was Debian's 128:
# containers stopped at start; scripts/install-incus.sh raises it, as bootstrap does, and they pass.)
SEEN_FAILING: dict[str, str] = {}


def example_params(*names: str) -> list[Any]:
    """One test per example; those seen failing run as expected failures naming why (an XPASS says it is fixed)."""
    return [
        pytest.param(name, marks=pytest.mark.xfail(reason=SEEN_FAILING[name], strict=False))
        if name in SEEN_FAILING
        else name
        for name in names
    ]


def import_stand_in(daemon: ThrowawayIncus) -> None:
    daemon.import_image("default", STAND_IN, image=build_systemd_image())


def _adapt(data: dict[str, Any], host_root: Path, found: ExampleCopy) -> None:
    """The substitutions of the module docstring, on one file's mapping."""
    settings = data.get("global")
    if isinstance(settings, dict):
        if ":" in str(settings.get("default_os_image", "")):
            settings["default_os_image"] = STAND_IN
        settings["shared_volumes_base"] = str(host_root / "shares")
        settings["persistent_data_base"] = str(host_root / "data")
    for domain in (data.get("domains") or {}).values():
        for name, machine in ((domain or {}).get("machines") or {}).items():
            machine = machine or {}
            found.machines.append(name)
            if ":" in str(machine.get("os_image", "")):
                machine["os_image"] = STAND_IN
            if machine.get("type") == "vm":
                machine["type"] = "lxc"
                found.vms.append(name)
            if machine.pop("gpu", False):
                found.gpus.append(name)
            if (machine.get("config") or {}).pop("linux.kernel_modules", None):
                found.modules.append(name)
    for volume in (data.get("shared_volumes") or {}).values():
        source = str((volume or {}).get("source", ""))
        if source.startswith(HOST_ROOT + "/"):
            volume["source"] = str(host_root / source[len(HOST_ROOT) + 1 :])


def copy_example(name: str, dest: Path) -> ExampleCopy:
    """The example's infra (file or folder) copied into dest and adapted."""
    host_root = dest / "host-srv"
    source = EXAMPLES / name
    if (source / "infra.yml").is_file():
        files = [dest / "infra.yml"]
        shutil.copy(source / "infra.yml", files[0])
        found = ExampleCopy(files[0])
    else:
        shutil.copytree(source / "infra", dest / "infra")
        found = ExampleCopy(dest / "infra")
        files = sorted((dest / "infra").rglob("*.yml"))
    for path in files:
        data = yaml.safe_load(path.read_text()) or {}
        # the directory form's domains/*.yml map domain names to domains
        _adapt({"domains": data} if path.parent.name == "domains" else data, host_root, found)
        path.write_text(yaml.safe_dump(data, sort_keys=False))
    return found


def original(name: str) -> Path:
    source = EXAMPLES / name
    return source / "infra.yml" if (source / "infra.yml").is_file() else source / "infra"


def stand_in_vars(folder: Path) -> str:
    """What the download roles' offline paths copy from this machine instead (tests/provision/ai_roles_helpers.py):
    stand-ins for Ollama's and opencode's archives, faster-whisper's wheel and model (Debian's web stack from the
    image), and `docker save` archives of stand-in web apps under Open WebUI's and LobeChat's image names."""
    from tests.provision.ai_roles_helpers import docker_image_archive, sha256, write_stand_ins  # the AI roles' own

    made = write_stand_ins(folder)
    lines = [
        f"ollama_server_archive_file: {made['ollama']}",
        f"ollama_server_archive_checksum: {sha256(made['ollama'])}",
        f"opencode_server_archive_file: {made['opencode']}",
        f"opencode_server_archive_checksum: {sha256(made['opencode'])}",
        f"stt_server_wheelhouse: {made['wheelhouse']}",
        f"stt_server_model_files: {made['model']}",
        "stt_server_system_site_packages: true",
        "stt_server_pip_packages: [faster-whisper]",
    ]
    for role, (tag, port) in WEB_APPS.items():
        archive = docker_image_archive(folder / f"{role}.tar", tag, role, port)
        lines += [f"{role}_image: {tag}", f"{role}_image_archive: {archive}"]
    return "\n".join(lines) + "\n"


def sync_offline(daemon: ThrowawayIncus, tmp_path: Path, infra: Path) -> None:
    synced = anklume(daemon, tmp_path, "sync", infra)
    assert synced.returncode == 0, synced.stderr
    stand_ins = stand_in_vars(tmp_path / "stand-ins")
    with (tmp_path / "group_vars" / "all.yml").open("a") as all_vars:
        all_vars.write(OFFLINE_VARS + stand_ins)


def planned_instances(daemon: ThrowawayIncus, name: str) -> dict[str, dict[str, Any]]:
    """What the unchanged example's plan, read from the daemon, would send Incus to create each machine."""
    loaded = run_psot(original(name), HostContext(skip_subnet_check=True))
    assert loaded.valid and loaded.infra is not None, [f.render() for f in loaded.findings]
    infra = loaded.infra

    async def plan() -> Plan:
        async with IncusClient(daemon.url) as client:
            return await make_plan(client, infra)

    actions = asyncio.run(plan()).actions
    return {a.name: a.changes for a in actions if a.kind == "instance" and a.op == "create"}


@dataclass
class Converged:
    first_s: float
    second_s: float
    hosts: list[str]
    first_log: str = ""  # Ansible's output of the first apply (provision-last.log then)


def changed_tasks(log: str) -> list[str]:
    """Each task Ansible reported as changed, as "TASK [role : name] host"."""
    found, task = [], ""
    for line in log.splitlines():
        if line.startswith("TASK ["):
            task = line.split("]")[0] + "]"
        elif line.startswith("changed:"):
            found.append(f"{task} {line}")
    return found


def apply_twice(daemon: ThrowawayIncus, tmp_path: Path, example: ExampleCopy) -> Converged:
    """apply (with provisioning) converges every machine; a second apply has no action and Ansible changes
    nothing on any host."""
    t0 = time.monotonic()
    first = anklume(daemon, tmp_path, "apply", example.infra, "--json")
    first_s = time.monotonic() - t0
    assert first.returncode == 0, first.stderr[-6000:] + first.stdout[-6000:]
    report = json.loads(first.stdout)
    assert report["ok"] is True and report["not_running"] == []
    provisioned = report["provision"]
    assert provisioned["ok"] is True and provisioned["problems"] == []
    hosts = sorted(h["host"] for h in provisioned["hosts"])
    assert hosts == sorted(example.machines)
    first_log = _log(provisioned)  # before the second run rewrites the file

    t0 = time.monotonic()
    second = anklume(daemon, tmp_path, "apply", example.infra, "--json")
    second_s = time.monotonic() - t0
    assert second.returncode == 0, second.stderr[-6000:] + second.stdout[-6000:]
    again = json.loads(second.stdout)
    assert again["ok"] is True and again["actions"] == [], again["actions"]
    changed = {h["host"]: h["changed"] for h in again["provision"]["hosts"]}
    assert changed == dict.fromkeys(example.machines, 0), (changed, changed_tasks(_log(again["provision"])))
    return Converged(first_s, second_s, hosts, first_log)


def _log(provisioned: dict[str, Any]) -> str:
    """Ansible's output: the report's `log` names the file holding it (provision-last.log, rewritten each run)."""
    return Path(provisioned["log"]).read_text() if provisioned["log"] else ""


def converges(name: str, daemon: ThrowawayIncus, tmp_path: Path) -> None:
    """The plan of the unchanged example asks for its VMs and GPUs; its copy applies, provisions, and applies again
    with nothing to do."""
    copy = copy_example(name, tmp_path)
    if copy.vms or copy.gpus or copy.modules:
        planned = planned_instances(daemon, name)
        for vm in copy.vms:
            assert planned[vm]["type"] == "virtual-machine", planned[vm]
            assert {"limits.cpu", "limits.memory"} <= set(planned[vm]["config"]), planned[vm]
        for gpu in copy.gpus:
            assert planned[gpu]["devices"]["gpu"] == {"type": "gpu"}, planned[gpu]
        for machine in copy.modules:
            assert planned[machine]["config"]["linux.kernel_modules"], planned[machine]
    sync_offline(daemon, tmp_path, copy.infra)
    done = apply_twice(daemon, tmp_path, copy)
    print(f"{name}: {len(done.hosts)} machines, first apply {done.first_s:.1f} s, second {done.second_s:.1f} s")
