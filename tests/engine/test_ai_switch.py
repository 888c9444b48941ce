"""ai-switch (SPEC §10.5) proven with packets: the old holder loses its path to ai-tools, its open connection
included, and the new one gains it; copy-file follows the holder as the ruleset does; the holder is
recorded; a dry run changes nothing; refusals, and a held apply lock, come before anything is touched; the
VRAM flush kills the GPU processes of ai-tools' instances only (nvidia-smi faked: these machines have no GPU).
busybox has no systemctl: that step says so instead of failing."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from anklume_tui import cli
from anklume_tui.engine.host import paths
from anklume_tui.engine.host.apply_lock import ApplyLock, ApplyLocked
from anklume_tui.engine.incus.client import IncusClient
from anklume_tui.engine.isolation.ai_access import NO_GPU, SwitchRefused, ai_switch
from anklume_tui.engine.isolation.enforce import enforce_isolation
from anklume_tui.engine.machines import TransferRefused, check_link, copy_file, parse_location
from tests.engine.incus_helpers import isolate_host, make_domain, make_instance
from tests.engine.nft_helpers import infra_from
from tests.engine.packet_helpers import Lab, Probe
from tests.wait_helpers import wait_until

INFRA = """\
project_name: ai-switch-test
global:
  base_subnet: "10.150"
  ai_access_policy: exclusive
  ai_access_default: perso
domains:
  ai-tools:
    subnet_id: 0
    machines:
      gpu-server: {ip: 10.150.0.1}
  perso:
    subnet_id: 1
    machines:
      perso-a: {ip: 10.150.1.1}
  pro:
    subnet_id: 2
    machines:
      pro-a: {ip: 10.150.2.1}
"""
GPU, PERSO, PRO = "10.150.0.1", "10.150.1.1", "10.150.2.1"
MACHINES = {"gpu-server": ("ai-tools", GPU), "perso-a": ("perso", PERSO), "pro-a": ("pro", PRO)}
BRIDGES = ["net-ai-tools", "net-perso", "net-pro"]


@pytest.fixture(autouse=True)
def _own_host(tmp_path, monkeypatch):
    isolate_host(tmp_path, monkeypatch)
    monkeypatch.setenv("ANKLUME_NFT_PERSIST_DIR", str(tmp_path))


@pytest.fixture(scope="module")
def lab(incus_daemon):
    for i, domain in enumerate(("ai-tools", "perso", "pro")):
        make_domain(incus_daemon, domain, f"net-{domain}", f"10.150.{i}")
    for name, (domain, ip) in MACHINES.items():
        make_instance(incus_daemon, domain, name, ip=ip, running=True, protected=False)
    lab = Lab(incus_daemon, {name: domain for name, (domain, _) in MACHINES.items()})
    lab.wait_for_addresses({name: ip for name, (_, ip) in MACHINES.items()})
    lab.listen("gpu-server", 11434)
    lab.listen("perso-a", 8080)
    try:
        yield lab
    finally:
        incus_daemon.nsenter("nft", "delete", "table", "inet", "anklume", check=False)
        incus_daemon.reset()


def netns(lab: Lab) -> str:
    return f"/proc/{lab.daemon.pid}/ns/net"


def table(lab: Lab) -> str:
    return lab.daemon.nsenter("nft", "list", "table", "inet", "anklume").stdout


def links(infra) -> dict[str, str]:
    """What copy-file says of copying from each client machine to gpu-server: the link, or `refused`."""
    found = {}
    for machine in ("perso-a", "pro-a"):
        try:
            found[machine] = check_link(infra, machine, "gpu-server").link.kind
        except TransferRefused:
            found[machine] = "refused"
    return found


async def test_switching_moves_access_open_connections_and_copy_file_to_the_new_domain(lab, tmp_path):
    infra = infra_from(INFRA, tmp_path)
    assert enforce_isolation(infra, BRIDGES, netns=netns(lab)).loaded  # the default holder, perso
    assert lab.mismatches({Probe("perso-a", GPU, 11434): True, Probe("pro-a", GPU, 11434): False}) == {}
    assert links(infra) == {"perso-a": "network-policy", "pro-a": "refused"}
    stream = lab.open_stream("perso-a", "gpu-server", GPU, 7001)
    lab.send(stream, "before")
    wait_until(lambda: lab.received(stream) == ["before"], 10, "the open connection carrying a line")

    async with IncusClient(lab.daemon.url) as client:
        result = await ai_switch(client, infra, "pro", netns=netns(lab))
    assert result.switched and result.error is None
    steps = {s.step: s for s in result.steps}
    assert steps["stop services"].outcome == "skipped" and "no systemctl" in steps["stop services"].detail
    if shutil.which("nvidia-smi") is None:
        assert (steps["flush VRAM"].outcome, steps["flush VRAM"].detail) == ("skipped", NO_GPU)
    assert steps["nftables"].outcome == "done"
    assert paths.ai_access_holder_file().read_text() == "pro\n"
    assert "- -> pro" in paths.ai_switch_log_file().read_text()

    assert (
        lab.mismatches(
            {
                Probe("pro-a", GPU, 11434): True,
                Probe("perso-a", GPU, 11434): False,
                Probe("gpu-server", PERSO, 8080): False,  # the old holder is closed in both directions
                Probe("pro-a", PERSO, 8080): False,
            }
        )
        == {}
    )
    assert "AI access override (dynamic)" in paths.isolation_ruleset_file().read_text()

    # The old holder's open connection is cut: its next line is sent again and again, never delivered.
    lab.send(stream, "after")
    wait_until(lambda: lab.retransmitting(stream), 20, "perso-a resending its unacknowledged line")
    assert lab.received(stream) == ["before"]

    # copy-file decides from the same policies as the loaded ruleset: the new holder copies, the old is refused.
    assert links(infra) == {"perso-a": "refused", "pro-a": "network-policy"}
    with pytest.raises(TransferRefused, match="ai-switch perso"):
        check_link(infra, "perso-a", "gpu-server")
    assert lab.exec("pro-a", "sh", "-c", "echo from-pro > /tmp/note").returncode == 0
    async with IncusClient(lab.daemon.url) as client:
        copied = await copy_file(client, infra, parse_location("pro-a:/tmp/note"), parse_location("gpu-server:/tmp/"))
    assert copied.destination.path == "/tmp/note"
    assert lab.exec("gpu-server", "cat", "/tmp/note").stdout == "from-pro\n"

    async with IncusClient(lab.daemon.url) as client:
        again = await ai_switch(client, infra, "pro", netns=netns(lab))
    assert not again.switched and "already holds" in again.steps[0].detail

    # The recorded holder survives a plain re-render (nftables verb, end of apply).
    listed = table(lab)
    assert enforce_isolation(infra, BRIDGES, netns=netns(lab)).changed is False
    assert table(lab) == listed


def test_dry_run_prints_the_steps_and_changes_nothing(lab, tmp_path, capsys):
    infra = infra_from(INFRA, tmp_path)
    assert enforce_isolation(infra, BRIDGES, netns=netns(lab)).loaded
    listed = table(lab)
    code = cli.main(["--batch", "ai-switch", "pro", "--dry-run", "--infra", str(tmp_path / "infra.yml")])
    out, _ = capsys.readouterr()
    assert code == 0
    assert [line.split(":")[0] for line in out.splitlines()] == [
        "stop services",
        "flush VRAM",
        "nftables",
        "restart services",
        "record",
    ]
    assert "planned" in out
    assert not paths.ai_access_holder_file().exists()
    assert table(lab) == listed
    assert lab.mismatches({Probe("perso-a", GPU, 11434): True}) == {}


@pytest.mark.parametrize(
    ("infra_text", "target", "message"),
    [
        (INFRA, "ai-tools", "cannot be given access to itself"),
        (INFRA, "nowhere", "unknown domain 'nowhere'"),
        (INFRA.replace("exclusive", "open").replace("  ai_access_default: perso\n", ""), "pro", "is 'open'"),
    ],
)
def test_refused_switches_exit_2_before_touching_anything(infra_text, target, message, tmp_path, capsys):
    (tmp_path / "infra.yml").write_text(infra_text)
    code = cli.main(["--batch", "ai-switch", target, "--infra", str(tmp_path / "infra.yml")])
    _, err = capsys.readouterr()
    assert code == 2 and message in err
    assert not paths.ai_access_holder_file().exists()


async def test_the_engine_refuses_before_contacting_incus(tmp_path):
    infra = infra_from(INFRA, tmp_path)
    with pytest.raises(SwitchRefused):
        await ai_switch(None, infra, "ai-tools")


async def test_a_switch_is_refused_while_the_apply_lock_is_held(lab, tmp_path):
    infra = infra_from(INFRA, tmp_path)
    assert enforce_isolation(infra, BRIDGES, netns=netns(lab)).loaded
    listed = table(lab)
    with ApplyLock(paths.state_dir()):
        async with IncusClient(lab.daemon.url) as client:
            with pytest.raises(ApplyLocked, match="another apply, provision or ai-switch is running"):
                await ai_switch(client, infra, "pro", netns=netns(lab))
    assert not paths.ai_access_holder_file().exists()
    assert table(lab) == listed
    assert lab.mismatches({Probe("perso-a", GPU, 11434): True, Probe("pro-a", GPU, 11434): False}) == {}


def host_pid(lab: Lab, instance: str, marker: str) -> int:
    """The host PID of the `sleep <marker>` running in `instance` (its cgroup names the instance)."""
    cgroup = f"lxc.payload.{lab.projects[instance]}_{instance}"

    def found() -> int | None:
        for proc in Path("/proc").glob("[0-9]*"):
            try:
                if (
                    proc.joinpath("cmdline").read_bytes() == f"sleep\0{marker}\0".encode()
                    and cgroup in (proc / "cgroup").read_text()
                ):
                    return int(proc.name)
            except OSError:
                continue
        return None

    return wait_until(found, 10, f"the host PID of sleep {marker} in {instance}")


def fake_nvidia_smi(tmp_path: Path, pids: list[int]) -> Path:
    """An nvidia-smi listing these PIDs as GPU compute processes (the fixture's lines, its PIDs replaced) and
    refusing a GPU reset, as a busy GPU does; any other question fails (so nothing else is read as PIDs)."""
    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "nvidia-smi" / "multi-apps.csv"
    rows = [line.split(", ") for line in fixture.read_text().splitlines()]
    apps = tmp_path / "apps.csv"
    apps.write_text("".join(f"{uuid}, {pid}, {used}\n" for (uuid, _, used), pid in zip(rows, pids, strict=True)))
    smi = tmp_path / "bin" / "nvidia-smi"
    smi.parent.mkdir()
    smi.write_text(
        "#!/bin/sh\n"
        'case "$*" in\n'
        f"  *query-compute-apps=gpu_uuid,pid,used_memory*) cat {apps} ;;\n"
        '  *gpu-reset*) echo "GPU reset not supported"; exit 3 ;;\n'
        "  *) exit 9 ;;\n"
        "esac\n"
    )
    smi.chmod(0o755)
    return smi.parent


async def test_the_vram_flush_kills_the_gpu_processes_of_ai_tools_instances_and_no_other(lab, tmp_path, monkeypatch):
    marker = "31415"
    for instance in ("gpu-server", "perso-a"):
        spawn = f"setsid sleep {marker} >/dev/null 2>&1 </dev/null &"
        assert lab.exec(instance, "sh", "-c", spawn).returncode == 0
    on_host = subprocess.Popen(["sleep", marker])
    try:
        ai_pid, other_pid = host_pid(lab, "gpu-server", marker), host_pid(lab, "perso-a", marker)
        fake = fake_nvidia_smi(tmp_path, [ai_pid, other_pid, on_host.pid])
        monkeypatch.setenv("PATH", f"{fake}:{os.environ['PATH']}")
        infra = infra_from(INFRA, tmp_path)
        async with IncusClient(lab.daemon.url) as client:
            result = await ai_switch(client, infra, "pro", netns=netns(lab))
        assert result.switched
        flushed = next(s for s in result.steps if s.step == "flush VRAM")
        assert flushed.outcome == "done" and "killed 1 GPU process(es) of project ai-tools" in flushed.detail
        assert "GPU reset not supported" in flushed.detail
        wait_until(lambda: not Path(f"/proc/{ai_pid}").exists(), 10, "the ai-tools GPU process to end")
        assert Path(f"/proc/{other_pid}").exists() and on_host.poll() is None
    finally:
        on_host.kill()
        on_host.wait()
        with contextlib.suppress(ProcessLookupError, NameError):
            os.kill(other_pid, signal.SIGKILL)
