"""The GPU screen (G on the domains view): a plain sentence without a GPU, and with nvidia-smi the VRAM bars,
holders, processes and the GPU policy, against the throwaway Incus daemon."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from anklume_tui.app import AnklumeApp
from anklume_tui.engine.host import paths as state
from anklume_tui.engine.host.gpu_view import NO_GPU_AT_ALL
from anklume_tui.screens.gpu import GpuScreen
from anklume_tui.widgets.gpu_block import GpuBlock
from tests.engine.incus_helpers import isolate_host
from tests.wait_helpers import until

pytestmark = pytest.mark.incus
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "nvidia-smi"

INFRA = """\
project_name: gpus
global:
  addressing: {}
domains:
  work:
    trust_level: trusted
    machines:
      work-ai:
        os_image: busybox
"""


@pytest.fixture
def infra(incusd, tmp_path, monkeypatch):
    isolate_host(tmp_path, monkeypatch)
    path = tmp_path / "infra.yml"
    path.write_text(INFRA)
    return path


@pytest.fixture
def no_gpu_here(incusd):
    if (incusd.query("/1.0/resources").get("gpu") or {}).get("cards"):
        pytest.skip("this host has a GPU: the no-GPU sentence cannot show here")


@pytest.fixture
def fake_nvidia_smi(tmp_path, monkeypatch, incusd):
    """This machine has no NVIDIA GPU: a tiny `nvidia-smi` on PATH stands in for the hardware, printing the
    real outputs captured in tests/fixtures/nvidia-smi (case `single`, its GPU 37% busy) by the query it is
    asked. Its process 48213 is placed, through a stand-in /proc, in the cgroup Incus gives container `ai` of
    project `work`."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    smi = bin_dir / "nvidia-smi"
    smi.write_text(
        "#!/bin/sh\n"
        'case "$1" in\n'
        f"  --query-gpu=*) cat {FIXTURES}/single-gpus.csv ;;\n"
        f"  *) cat {FIXTURES}/single-apps.csv ;;\n"
        "esac\n"
    )
    smi.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    cgroup = tmp_path / "proc" / "48213"
    cgroup.mkdir(parents=True)
    (cgroup / "cgroup").write_text("0::/lxc.payload.work_ai/init.scope\n")
    monkeypatch.setattr(state, "proc_dir", lambda: tmp_path / "proc")
    # Two holders against the default exclusive policy: `ai` directly, `train` through a profile.
    incusd.incus("project", "create", "work", "-c", "features.profiles=true", "-c", "features.images=false")
    incusd.incus("profile", "device", "add", "default", "root", "disk", "pool=default", "path=/", "--project=work")
    incusd.incus("init", "busybox", "ai", "--project=work")
    incusd.incus("config", "device", "add", "ai", "gpu", "gpu", "--project=work")
    incusd.incus("profile", "create", "gpu-prof", "--project=work")
    incusd.incus("profile", "device", "add", "gpu-prof", "card", "gpu", "--project=work")
    incusd.incus("init", "busybox", "train", "--project=work", "--profile=default", "--profile=gpu-prof")


async def open_gpus(app, pilot) -> GpuScreen:
    await until(pilot, lambda: getattr(app.screen, "result", None) is not None)
    await pilot.press("G")
    await until(pilot, lambda: isinstance(app.screen, GpuScreen) and app.screen.view is not None)
    await pilot.pause()
    return app.screen


async def test_without_a_gpu_the_screen_says_so_in_a_sentence(incusd, infra, no_gpu_here):
    app = AnklumeApp(infra, incus_url=incusd.url)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_gpus(app, pilot)
        assert screen.view.sentence == NO_GPU_AT_ALL
        assert str(screen.query_one("#gpu-summary").render()) == NO_GPU_AT_ALL
        assert not screen.query(GpuBlock)
        await pilot.press("escape")
        assert not isinstance(app.screen, GpuScreen)


async def test_the_bars_show_nvidia_smi_numbers_and_the_policy_warning(incusd, infra, fake_nvidia_smi):
    app = AnklumeApp(infra, incus_url=incusd.url)
    async with app.run_test(size=(120, 34)) as pilot:
        screen = await open_gpus(app, pilot)
        (block,) = screen.query(GpuBlock)
        lines = block.plain.splitlines()
        assert lines[0].startswith("GPU 0  NVIDIA GeForce RTX 4090  utilisation 37%")
        assert lines[1].endswith("10876 MiB / 24564 MiB (44%)")
        assert lines[2] == "held by: work/ai, work/train"
        assert lines[3].split() == ["pid", "48213", "10450", "MiB", "work/ai"]
        assert lines[4].split() == ["pid", "3310", "402", "MiB", "host"]
        policy = screen.query_one("#gpu-policy")
        assert "'exclusive' but 2 instances hold a GPU (work/ai, work/train)" in str(policy.render())
        assert policy.has_class("broken")


async def test_the_screen_reads_every_two_seconds_only_while_shown(incusd, infra, no_gpu_here):
    app = AnklumeApp(infra, incus_url=incusd.url)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_gpus(app, pilot)
        await until(pilot, lambda: screen.reads >= 2, timeout=10)
        await pilot.press("question_mark")
        await pilot.pause(0.5)  # a read already on its way may still land
        hidden = screen.reads
        await pilot.pause(4.5)
        assert screen.reads == hidden
        await pilot.press("escape")
        await until(pilot, lambda: screen.reads > hidden, timeout=5)


def test_the_no_gpu_screen_looks_right(snap_compare, incusd, infra, no_gpu_here):
    app = AnklumeApp(infra, incus_url=incusd.url)
    assert snap_compare(app, terminal_size=(120, 24), run_before=lambda pilot: open_gpus(app, pilot))


def test_the_gpu_screen_with_a_gpu_looks_right(snap_compare, incusd, infra, fake_nvidia_smi):
    app = AnklumeApp(infra, incus_url=incusd.url)
    assert snap_compare(app, terminal_size=(120, 30), run_before=lambda pilot: open_gpus(app, pilot))
