"""GPU: nvidia-smi parsing on fixtures, processes mapped to instances through cgroups, gpu devices matched
to GPUs, and a plain answer on a machine without a GPU."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from anklume_tui.cli import main
from anklume_tui.engine.host.gpu import (
    NO_GPU,
    NvidiaSnapshot,
    build_report,
    gather_gpu_report,
    gpu_devices,
    instance_of_cgroup,
    parse_gpus,
    parse_processes,
    processes_in_project,
    query_nvidia_smi,
)
from anklume_tui.engine.incus.models import Instance

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "nvidia-smi"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def snapshot(case: str) -> NvidiaSnapshot:
    return NvidiaSnapshot(parse_gpus(fixture(f"{case}-gpus.csv")), parse_processes(fixture(f"{case}-apps.csv")))


def fake_smi(tmp_path: Path, case: str) -> Path:
    """An nvidia-smi on PATH that prints the fixtures of `case`."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    smi = bin_dir / "nvidia-smi"
    smi.write_text(
        "#!/bin/sh\n"
        f'case "$1" in --query-gpu=*) cat {FIXTURES}/{case}-gpus.csv ;; *) cat {FIXTURES}/{case}-apps.csv ;; esac\n'
    )
    smi.chmod(0o755)
    return smi


def fake_proc(tmp_path: Path, cgroups: dict[int, str]) -> Path:
    for pid, text in cgroups.items():
        (tmp_path / "proc" / str(pid)).mkdir(parents=True)
        (tmp_path / "proc" / str(pid) / "cgroup").write_text(text)
    return tmp_path / "proc"


def test_single_gpu_gives_its_vram_and_processes():
    (gpu,) = parse_gpus(fixture("single-gpus.csv"))
    assert (gpu.index, gpu.name, gpu.memory_total_mib, gpu.memory_used_mib) == (
        0,
        "NVIDIA GeForce RTX 4090",
        24564,
        10876,
    )
    assert gpu.uuid.startswith("GPU-")
    assert [(p.pid, p.used_memory_mib) for p in parse_processes(fixture("single-apps.csv"))] == [
        (48213, 10450),
        (3310, 402),
    ]


def test_multi_gpu_lists_every_gpu_in_index_order():
    gpus = parse_gpus(fixture("multi-gpus.csv"))
    assert [g.index for g in gpus] == [0, 1, 2, 3]
    assert [g.memory_used_mib for g in gpus] == [4, 17013, 31522, 4]
    assert len(parse_processes(fixture("multi-apps.csv"))) == 3


def test_gpu_utilisation_comes_with_the_gpu_query_and_not_available_is_none():
    assert [g.utilisation_percent for g in parse_gpus(fixture("single-gpus.csv"))] == [37]
    assert [g.utilisation_percent for g in parse_gpus(fixture("multi-gpus.csv"))] == [0, 87, 96, 0]
    assert [g.utilisation_percent for g in parse_gpus(fixture("mig-gpus.csv"))] == [None, None]


def test_mig_process_memory_not_available_is_none():
    processes = parse_processes(fixture("mig-apps.csv"))
    assert [(p.pid, p.used_memory_mib) for p in processes] == [(7731, None), (7802, None)]
    assert parse_gpus(fixture("mig-list.txt")) == [] and parse_processes(fixture("mig-list.txt")) == []


def test_no_processes_gives_an_empty_list():
    assert parse_processes(fixture("idle-apps.csv")) == []
    assert parse_processes("No running processes found\n") == []
    report = build_report(snapshot("idle"), [], None, None)
    assert report.gpus[0].processes == [] and report.gpus[0].memory_used_mib == 1


def test_cgroup_names_the_instance_and_its_project():
    assert instance_of_cgroup("0::/lxc.payload.work-dev/system.slice/ollama.service\n") == ("default", "work-dev")
    assert instance_of_cgroup("0::/lxc.payload.ai-tools_ai-ollama/init.scope\n") == ("ai-tools", "ai-ollama")
    assert instance_of_cgroup("12:memory:/lxc.payload.pro_pro-dev\n0::/user.slice\n") == ("pro", "pro-dev")
    assert instance_of_cgroup("0::/user.slice/user-1000.slice/session-2.scope\n") is None


def test_gpu_processes_are_mapped_to_their_instances(tmp_path):
    proc = fake_proc(
        tmp_path, {120044: "0::/lxc.payload.ai-tools_ai-ollama/init.scope\n", 120101: "0::/user.slice/x.scope\n"}
    )
    report = build_report(snapshot("multi"), [], None, True, proc)
    owners = {p.pid: (p.project, p.instance) for g in report.gpus for p in g.processes}
    assert owners == {120044: ("ai-tools", "ai-ollama"), 120101: (None, None), 120102: (None, None)}
    assert report.gpus[1].processes[0].used_memory_mib == 17009


def test_the_vram_flush_kill_list_holds_only_the_projects_instances(tmp_path):
    proc = fake_proc(
        tmp_path,
        {
            120044: "0::/lxc.payload.ai-tools_ai-ollama/init.scope\n",
            120101: "0::/lxc.payload.perso_perso-dev/init.scope\n",
            120102: "0::/user.slice/x.scope\n",
        },
    )
    processes = snapshot("multi").processes
    assert processes_in_project(processes, "ai-tools", proc) == [120044]
    assert processes_in_project(processes, "pro", proc) == []


def _instance(name: str, project: str, devices: dict) -> Instance:
    return Instance.model_validate({"name": name, "project": project, "expanded_devices": devices})


def test_gpu_devices_reach_gpus_through_incus_cards():
    gpus = snapshot("multi").gpus
    resources = {
        "gpu": {
            "cards": [
                {"pci_address": f"0000:0{i}:00.0", "drm": {"id": i}, "nvidia": {"uuid": g.uuid}}
                for i, g in enumerate(gpus)
            ]
        }
    }
    instances = [
        _instance("ai-ollama", "ai-tools", {"gpu": {"type": "gpu", "pci": "0000:01:00.0"}, "root": {"type": "disk"}}),
        _instance("ai-lab", "ai-tools", {"gpu": {"type": "gpu", "id": "2"}}),
        _instance("all", "default", {"g": {"type": "gpu"}}),
    ]
    devices = gpu_devices(instances, gpus, resources)
    assert [(d.instance, d.selector, d.gpus) for d in devices] == [
        ("ai-ollama", "pci=0000:01:00.0", [1]),
        ("ai-lab", "id=2", [2]),
        ("all", "all", [0, 1, 2, 3]),
    ]
    report = build_report(snapshot("multi"), devices, resources, True)
    assert report.gpus[1].holders == ["ai-tools/ai-ollama", "default/all"]
    assert report.gpus[1].pci_address == "0000:01:00.0"


def test_without_incus_cards_a_device_id_is_taken_as_the_index():
    devices = gpu_devices([_instance("a", "p", {"gpu": {"type": "gpu", "id": "1"}})], snapshot("multi").gpus, None)
    assert devices[0].gpus == [1]


def test_fake_nvidia_smi_is_queried_for_gpus_and_processes(tmp_path):
    result = query_nvidia_smi(str(fake_smi(tmp_path, "single")))
    assert len(result.gpus) == 1 and len(result.processes) == 2


def test_a_machine_without_a_gpu_says_so_and_exits_zero(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert main(["--batch", "gpu", "--incus", f"unix://{tmp_path}/none.socket"]) == 0
    assert capsys.readouterr().out.strip() == NO_GPU
    assert main(["--batch", "gpu", "--json", "--incus", f"unix://{tmp_path}/none.socket"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["nvidia_smi"] is False and report["message"] == NO_GPU and report["gpus"] == []


def test_gpu_with_incus_unreachable_still_prints_the_gpus_and_exits_3(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", f"{fake_smi(tmp_path, 'mig').parent}{os.pathsep}/usr/bin:/bin")
    assert main(["--batch", "gpu", "--incus", f"unix://{tmp_path}/none.socket"]) == 3
    out = capsys.readouterr().out
    assert "NVIDIA A100-SXM4-40GB" in out and "VRAM 11264 MiB / 40960 MiB" in out and "pid 7731" in out


@pytest.mark.anyio
async def test_an_instance_holds_a_gpu_through_its_profile(incusd, incus_client, tmp_path):
    incusd.incus("profile", "create", "gpuprof")
    incusd.incus("profile", "device", "add", "gpuprof", "gpu", "gpu", "id=0")
    incusd.incus("init", "busybox", "ai-ollama", "-p", "default", "-p", "gpuprof")
    report = await gather_gpu_report(incus_client, str(fake_smi(tmp_path, "single")))
    assert report.incus_reachable is True
    assert [(d.project, d.instance, d.device, d.selector) for d in report.devices] == [
        ("default", "ai-ollama", "gpu", "id=0")
    ]
    # the throwaway daemon sees no NVIDIA card, so the match falls back to nothing or the index
    assert report.gpus[0].name == "NVIDIA GeForce RTX 4090"
