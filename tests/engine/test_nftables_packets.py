"""Isolation proven with packets (issue 5 point 2): three domains of busybox containers on three managed
bridges in the throwaway daemon's private network namespace; real ICMP and TCP show that intra-domain
traffic passes, cross-domain traffic is dropped, each policy opens exactly its port and direction, and
removing a policy closes it again; and a bridge the loaded ruleset was not built with is cut off all the same
(SPEC §9.1, issue 15 point 2)."""

from __future__ import annotations

import subprocess

import pytest

from anklume_tui.engine.isolation.enforce import enforce_isolation
from tests.engine.incus_helpers import isolate_host, make_domain, make_instance
from tests.engine.nft_helpers import infra_from
from tests.engine.packet_helpers import Lab, Probe

POLICY_DEV_TO_WORK = """\
  - description: dev-a reaches work-a on 8080
    from: dev-a
    to: work-a
    ports: [8080]
"""
INFRA = """\
project_name: packets
global:
  base_subnet: "10.130"
domains:
  work:
    subnet_id: 0
    machines:
      work-a: {ip: 10.130.0.1}
      work-b: {ip: 10.130.0.2}
  dev:
    subnet_id: 1
    machines:
      dev-a: {ip: 10.130.1.1}
  lab:
    subnet_id: 2
    machines:
      lab-a: {ip: 10.130.2.1}
network_policies:
%s  - description: lab and dev talk on 9090, both ways
    from: lab
    to: dev
    ports: [9090]
    bidirectional: true
  - description: lab-a reaches the host on 7000
    from: lab-a
    to: host
    ports: [7000]
"""
WORK_A, WORK_B, DEV_A, LAB_A = "10.130.0.1", "10.130.0.2", "10.130.1.1", "10.130.2.1"
LATE_A = "10.130.3.1"
MACHINES = {"work-a": ("work", WORK_A), "work-b": ("work", WORK_B), "dev-a": ("dev", DEV_A), "lab-a": ("lab", LAB_A)}
BRIDGES = ["net-dev", "net-lab", "net-work"]


@pytest.fixture(scope="module")
def lab(incus_daemon):
    """The three domains, their containers with listeners, and a listener on the host side (port 7000)."""
    for i, domain in enumerate(("work", "dev", "lab")):
        make_domain(incus_daemon, domain, f"net-{domain}", f"10.130.{i}")
    for name, (domain, ip) in MACHINES.items():
        make_instance(incus_daemon, domain, name, ip=ip, running=True, protected=False)
    lab = Lab(incus_daemon, {name: domain for name, (domain, _) in MACHINES.items()})
    lab.wait_for_addresses({name: ip for name, (_, ip) in MACHINES.items()})
    lab.listen("work-a", 8080, 8081)
    lab.listen("work-b", 8080)
    lab.listen("dev-a", 8080, 9090, 9091)
    lab.listen("lab-a", 9090)
    host = subprocess.Popen(
        [
            "nsenter",
            f"--net=/proc/{incus_daemon.pid}/ns/net",
            "--",
            "busybox",
            "nc",
            "-ll",
            "-p",
            "7000",
            "-e",
            "echo",
            "ok",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield lab
    finally:
        host.kill()
        host.wait()
        incus_daemon.nsenter("nft", "delete", "table", "inet", "anklume", check=False)
        incus_daemon.reset()


@pytest.fixture(autouse=True)
def _own_host(tmp_path, monkeypatch):
    isolate_host(tmp_path, monkeypatch)


def load(lab: Lab, tmp_path, with_dev_to_work: bool = True) -> None:
    infra = infra_from(INFRA % (POLICY_DEV_TO_WORK if with_dev_to_work else ""), tmp_path)
    result = enforce_isolation(infra, BRIDGES, netns=f"/proc/{lab.daemon.pid}/ns/net", persist_dir=tmp_path)
    assert result.loaded, result.error


def test_without_the_table_every_domain_reaches_every_other(lab):
    lab.daemon.nsenter("nft", "delete", "table", "inet", "anklume", check=False)
    assert (
        lab.mismatches(
            {
                Probe("work-a", DEV_A): True,
                Probe("lab-a", WORK_A): True,
                Probe("work-a", DEV_A, 8080): True,
                Probe("dev-a", WORK_A, 8081): True,
            }
        )
        == {}
    )  # the control: what the table must then stop


def test_intra_domain_passes_cross_domain_drops_and_each_policy_opens_exactly_its_port_and_direction(lab, tmp_path):
    load(lab, tmp_path)
    assert (
        lab.mismatches(
            {
                # same domain: everything
                Probe("work-a", WORK_B): True,
                Probe("work-b", WORK_A, 8080): True,
                # cross-domain without a policy: nothing
                Probe("work-a", DEV_A): False,
                Probe("lab-a", WORK_A): False,
                Probe("lab-a", WORK_A, 8080): False,
                Probe("work-a", LAB_A, 9090): False,
                # dev-a -> work-a tcp/8080: that machine, that port, that direction only
                Probe("dev-a", WORK_A, 8080): True,
                Probe("dev-a", WORK_A, 8081): False,
                Probe("dev-a", WORK_B, 8080): False,
                Probe("dev-a", WORK_A): False,
                Probe("work-a", DEV_A, 8080): False,
                # lab <-> dev tcp/9090, bidirectional
                Probe("lab-a", DEV_A, 9090): True,
                Probe("dev-a", LAB_A, 9090): True,
                Probe("lab-a", DEV_A, 9091): False,
                Probe("lab-a", DEV_A): False,
                # to the host: lab-a on 7000 only; ICMP to the gateway always
                Probe("lab-a", "10.130.2.254", 7000): True,
                Probe("dev-a", "10.130.1.254", 7000): False,
                Probe("work-a", "10.130.0.254", 7000): False,
                Probe("dev-a", "10.130.1.254"): True,
            }
        )
        == {}
    )


def test_removing_a_policy_closes_it_again_and_leaves_the_others(lab, tmp_path):
    load(lab, tmp_path)
    assert lab.mismatches({Probe("dev-a", WORK_A, 8080): True}) == {}
    load(lab, tmp_path, with_dev_to_work=False)
    assert (
        lab.mismatches(
            {
                Probe("dev-a", WORK_A, 8080): False,
                Probe("lab-a", DEV_A, 9090): True,
                Probe("work-a", WORK_B, 8080): True,
            }
        )
        == {}
    )


def test_a_bridge_the_loaded_ruleset_was_not_built_with_is_cut_off_and_opens_only_without_the_table(lab, tmp_path):
    """What a half-finished apply leaves: a new domain's bridge and a running container, the ruleset loaded
    before them. Its DHCP and ICMP to its own gateway work; every other domain and the host are cut off."""
    load(lab, tmp_path)  # built for BRIDGES only
    make_domain(lab.daemon, "late", "net-late", "10.130.3")
    make_instance(lab.daemon, "late", "late-a", ip=LATE_A, running=True, protected=False)
    lab.projects["late-a"] = "late"
    lab.wait_for_addresses({"late-a": LATE_A})  # its DHCP passed under the ruleset
    lab.listen("late-a", 8080)
    cut_off = {
        Probe("late-a", WORK_A): False,
        Probe("late-a", DEV_A, 8080): False,
        Probe("late-a", LAB_A, 9090): False,
        Probe("work-a", LATE_A): False,
        Probe("dev-a", LATE_A, 8080): False,
        Probe("late-a", "10.130.3.254", 7000): False,  # to the host
        Probe("late-a", "10.130.3.254"): True,  # ICMP to its gateway, as for every bridge of ours
    }
    assert lab.mismatches(cut_off) == {}
    assert (
        lab.exec("late-a", "udhcpc", "-i", "eth0", "-n", "-q", "-t", "3", "-T", "1", "-s", "/bin/true").returncode == 0
    )
    lab.daemon.nsenter("nft", "delete", "table", "inet", "anklume")
    opened = {
        Probe("late-a", WORK_A): True,
        Probe("dev-a", LATE_A, 8080): True,
        Probe("late-a", "10.130.3.254", 7000): True,
    }
    assert lab.mismatches(opened) == {}  # the control: the table did the cutting
