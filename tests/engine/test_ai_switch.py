"""ai-switch (SPEC §10.5) proven with packets: the old holder loses its path to ai-tools and the new one
gains it; the holder is recorded; a dry run changes nothing; refusals come before anything is touched.
busybox has no systemctl and these machines no GPU: both steps say so instead of failing."""

from __future__ import annotations

import shutil

import pytest

from anklume_tui import cli
from anklume_tui.engine.host import paths
from anklume_tui.engine.incus.client import IncusClient
from anklume_tui.engine.isolation.ai_access import NO_GPU, SwitchRefused, ai_switch
from anklume_tui.engine.isolation.enforce import enforce
from tests.engine.incus_helpers import isolate_host, make_domain, make_instance
from tests.engine.nft_helpers import infra_from
from tests.engine.packet_helpers import Lab, Probe

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


async def test_switching_moves_access_from_the_old_domain_to_the_new_one(lab, tmp_path):
    infra = infra_from(INFRA, tmp_path)
    assert enforce(infra, BRIDGES, netns=netns(lab)).loaded  # the default holder, perso
    assert lab.mismatches({Probe("perso-a", GPU, 11434): True, Probe("pro-a", GPU, 11434): False}) == {}

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

    async with IncusClient(lab.daemon.url) as client:
        again = await ai_switch(client, infra, "pro", netns=netns(lab))
    assert not again.switched and "already holds" in again.steps[0].detail

    # The recorded holder survives a plain re-render (nftables verb, end of apply).
    listed = table(lab)
    assert enforce(infra, BRIDGES, netns=netns(lab)).changed is False
    assert table(lab) == listed


def test_dry_run_prints_the_steps_and_changes_nothing(lab, tmp_path, capsys):
    infra = infra_from(INFRA, tmp_path)
    assert enforce(infra, BRIDGES, netns=netns(lab)).loaded
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
