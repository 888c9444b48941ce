"""apply loads the host isolation ruleset once the bridges exist, before any instance starts, and again at
its end (SPEC §8.3 step 7, §9.1), also when it is interrupted; proven with packets in the throwaway daemon's
network namespace; and the firewall VM's multi-NIC profile (step 6), checked through the incus CLI up to the
VM create, which these machines cannot run (no vhost_vsock)."""

from __future__ import annotations

import asyncio
import json

import pytest

from anklume_tui.engine.incus.client import IncusClient
from anklume_tui.engine.reconcile.apply import apply
from tests.engine.apply_helpers import batch, instances, many_machines
from tests.engine.incus_helpers import isolate_host
from tests.engine.nft_helpers import infra_from
from tests.engine.packet_helpers import Lab, Probe

FIREWALL_INFRA = """\
project_name: fw
global:
  addressing: {}
  default_os_image: busybox
  firewall_mode: vm
domains:
  anklume:
    trust_level: admin
    machines:
      anklume-ctl: {}
  work:
    machines:
      work-a: {}
  lab:
    machines:
      lab-a: {}
"""


def in_daemon_netns(daemon, monkeypatch) -> str:
    netns = f"/proc/{daemon.pid}/ns/net"
    monkeypatch.setenv("ANKLUME_NFT_NETNS", netns)
    return netns


def address(found: dict, project: str, name: str) -> str:
    """The static IP apply gave it (the instance's eth0 override)."""
    return found[(project, name)]["devices"]["eth0"]["ipv4.address"]


def test_apply_loads_the_ruleset_so_domains_are_cut_off_from_each_other(incusd, tmp_path, monkeypatch):
    in_daemon_netns(incusd, monkeypatch)
    infra = tmp_path / "infra.yml"
    infra.write_text(many_machines(2, 2))
    try:
        done = batch(incusd, tmp_path, "apply", infra, "--json")
        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout)["nftables"]
        assert report["loaded"] and report["changed"] and report["bridges"] == ["net-d0", "net-d1"]
        table = incusd.nsenter("nft", "list", "table", "inet", "anklume").stdout
        assert 'iifname "net-d0" oifname "net-d0" accept' in table and 'iifname "net-d1" oifname "net-d1"' in table
        assert 'iifname "net-*" oifname "net-*" drop' in table
        lab = Lab(incusd, {"d0-m00": "d0", "d0-m01": "d0", "d1-m00": "d1"})
        found = instances(incusd)
        d0_m01, d1_m00 = address(found, "d0", "d0-m01"), address(found, "d1", "d1-m00")
        lab.wait_for_addresses({"d0-m01": d0_m01, "d1-m00": d1_m00})
        assert lab.mismatches({Probe("d0-m00", d0_m01): True, Probe("d0-m00", d1_m00): False}) == {}
        again = batch(incusd, tmp_path, "apply", infra)
        assert again.returncode == 0 and "already loaded, unchanged" in again.stderr
        incusd.nsenter("nft", "delete", "table", "inet", "anklume")
        assert lab.mismatches({Probe("d0-m00", d1_m00): True}) == {}  # the control: the table did it
        restored = batch(incusd, tmp_path, "apply", infra)
        assert restored.returncode == 0 and "ruleset for 2 bridge(s) loaded" in restored.stderr
        assert lab.mismatches({Probe("d0-m00", d1_m00): False}) == {}
    finally:
        incusd.nsenter("nft", "delete", "table", "inet", "anklume", check=False)


def test_apply_fails_with_nfts_message_when_the_ruleset_cannot_be_loaded(incusd, tmp_path, monkeypatch):
    monkeypatch.setenv("ANKLUME_NFT_NETNS", str(tmp_path / "no-such-netns"))
    infra = tmp_path / "infra.yml"
    infra.write_text(many_machines(1, 1))
    done = batch(incusd, tmp_path, "apply", infra)
    assert done.returncode == 1
    assert "the isolation ruleset was not loaded (the previous one stays)" in done.stdout
    assert "no-such-netns" in done.stdout
    assert instances(incusd)[("d0", "d0-m00")]["status"] == "Running"  # the rest of apply was done


def test_firewall_vm_mode_makes_the_multi_nic_profile_and_attaches_it_to_the_vm(incusd, tmp_path):
    infra = tmp_path / "infra.yml"
    infra.write_text(FIREWALL_INFRA)
    plan = json.loads(batch(incusd, tmp_path, "plan", infra, "--json").stdout)
    [profile] = [a for a in plan["actions"] if a["name"] == "firewall-multi-nic"]
    assert (profile["op"], profile["kind"], profile["project"]) == ("create", "profile", "anklume")
    done = batch(incusd, tmp_path, "apply", infra)
    assert done.returncode == 1  # the VM itself cannot be made here
    assert "failed  create instance anklume/anklume-firewall" in done.stderr
    profile = incusd.incus_json("profile", "list", "--project=anklume")
    nics = {p["name"]: p["devices"] for p in profile}["firewall-multi-nic"]
    assert {name: (d["network"], d["ipv4.address"]) for name, d in nics.items()} == {
        "eth0": ("net-anklume", "10.100.0.253"),
        "eth1": ("net-lab", nics["eth1"]["ipv4.address"]),
        "eth2": ("net-work", nics["eth2"]["ipv4.address"]),
    }
    assert nics["eth1"]["ipv4.address"].endswith(".253") and nics["eth2"]["ipv4.address"].endswith(".253")
    [vm] = [a for a in plan["actions"] if a["name"] == "anklume-firewall"]
    assert "virtual machine" in vm["detail"] and "profiles default, firewall-multi-nic" in vm["detail"]


async def test_the_ruleset_is_loaded_before_any_instance_starts_and_again_when_apply_is_interrupted(
    incusd, tmp_path, monkeypatch
):
    """At the first instance action, the live table already lists every new bridge; the table is then
    deleted and apply cancelled (Ctrl-C): it is back afterwards, loaded by apply on its way out."""
    isolate_host(tmp_path, monkeypatch)
    in_daemon_netns(incusd, monkeypatch)
    infra = infra_from(many_machines(2, 1), tmp_path)
    at_first_instance: list[str | None] = []
    notes: list[str] = []

    def interrupt_at_first_instance(event) -> None:
        if event.action is None:
            notes.append(event.message)
        elif event.phase == "started" and event.action.kind == "instance" and not at_first_instance:
            found = incusd.nsenter("nft", "list", "table", "inet", "anklume", check=False)
            at_first_instance.append(found.stdout if found.returncode == 0 else None)
            incusd.nsenter("nft", "delete", "table", "inet", "anklume", check=False)
            running.cancel()

    try:
        async with IncusClient(incusd.url) as client:
            running = asyncio.ensure_future(
                apply(client, infra, state_dir=tmp_path / "state", on_event=interrupt_at_first_instance)
            )
            with pytest.raises(asyncio.CancelledError):
                await running
        [table] = at_first_instance
        assert table is not None, notes
        assert 'iifname "net-d0" oifname "net-d0" accept' in table and 'iifname "net-d1" oifname "net-d1"' in table
        assert 'iifname "net-*" oifname "net-*" drop' in table
        assert any(n.endswith("(before instances start)") for n in notes), notes
        after = incusd.nsenter("nft", "list", "table", "inet", "anklume", check=False)
        assert after.returncode == 0 and 'iifname "net-*" oifname "net-*" drop' in after.stdout, notes
        assert notes[-1].startswith("nftables: isolation ruleset for 2 bridge(s) loaded"), notes
    finally:
        incusd.nsenter("nft", "delete", "table", "inet", "anklume", check=False)
