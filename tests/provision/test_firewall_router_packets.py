"""firewall_router converged for real (issue 25): `firewall_mode: vm` with the firewall declared as a container
standing in for the VM (no KVM here), on the systemd test image (nftables from the Debian archive in the image,
systemd-networkd there). apply gives it a nic on every domain bridge (profile `firewall-multi-nic`), provisioning
runs the role with the interfaces and ruleset anklume-tui supplies, and two domains of busybox containers that
route to each other through its `.253` addresses see real packets pass or be dropped as the policies say. The
daemon's namespace has no host ruleset (apply loads it into the session's own namespace, tests/conftest.py), so
what drops a packet here is the firewall container alone: the control at the end removes its table and the same
packets pass."""

from __future__ import annotations

import time

import pytest

from tests.engine.packet_helpers import Lab, Probe
from tests.image_helpers import build_systemd_image
from tests.provision.provision_helpers import anklume, json_of, write_lab
from tests.wait_helpers import wait_until

INFRA = """\
project_name: fwpackets
global:
  addressing: {}
  default_os_image: busybox
  firewall_mode: vm
domains:
  anklume:
    trust_level: admin
    machines:
      anklume-firewall:
        description: "Stand-in for the firewall VM: a systemd container"
        type: lxc
        os_image: systemd
        ip: 10.100.0.253
        roles: [base_system, firewall_router]
  pro:
    trust_level: trusted
    machines:
      pro-a: {ip: 10.110.0.1}
  lab:
    machines:
      lab-a: {ip: 10.120.0.1}
network_policies:
  - description: "pro reaches the lab's web"
    from: pro
    to: lab
    ports: [80]
"""
PRO_A, LAB_A = "10.110.0.1", "10.120.0.1"
FW_PRO, FW_LAB = "10.110.0.253", "10.120.0.253"  # eth2 on net-pro, eth1 on net-lab (bridges sorted)
FIREWALL = "anklume-firewall"
ALLOWED_AND_DENIED = {
    Probe("pro-a", LAB_A, 80): True,  # the policy: pro -> lab tcp/80
    Probe("pro-a", LAB_A): True,  # ICMP is accepted between domains (SPEC §9.3)
    Probe("pro-a", LAB_A, 81): False,  # another port
    Probe("lab-a", PRO_A, 80): False,  # the other direction
}


@pytest.fixture(scope="module")
def systemd_image(incus_daemon):
    incus_daemon.import_image("default", "systemd", image=build_systemd_image())


@pytest.fixture
def bridged_packets_skip_the_hosts_netfilter(incus_daemon):
    """With br_netfilter's bridge-nf-call-iptables on (it is, in the daemon's namespace on the test hosts), a
    packet a machine sends to the firewall's nic on its own bridge goes through the host's netfilter as if
    routed, and Incus's `ipv4.nat` masquerade and conntrack of the bridges rewrite it: nothing routed through
    the firewall arrives (seen: the same ping passes with it off). A known gap of `firewall_mode: vm` on hosts
    with br_netfilter, left to its own fix; here it is turned off for the test and put back."""
    key = "/proc/sys/net/bridge/bridge-nf-call-iptables"
    before = incus_daemon.nsenter("cat", key, check=False).stdout.strip()
    if before:
        incus_daemon.nsenter("sh", "-c", f"echo 0 > {key}")
    yield
    if before:
        incus_daemon.nsenter("sh", "-c", f"echo {before} > {key}")


def firewall_addresses(daemon) -> dict[str, list[str]]:
    found = daemon.incus_json("list", FIREWALL, "--project=anklume")
    network = ((found[0].get("state") or {}).get("network") or {}) if found else {}
    return {
        nic: [a["address"] for a in state.get("addresses", []) if a["family"] == "inet"]
        for nic, state in network.items()
    }


def route_through_the_firewall(lab: Lab) -> None:
    """Each domain's machine reaches the other domain through the firewall's address on its own bridge."""
    for machine, other, via in (("pro-a", "10.120.0.0/24", FW_PRO), ("lab-a", "10.110.0.0/24", FW_LAB)):
        added = lab.exec(machine, "ip", "route", "replace", other, "via", via)
        assert added.returncode == 0, added.stderr


def hosts_changed(result) -> dict[str, int]:
    return {h["host"]: h["changed"] for h in json_of(result)["hosts"]}


def test_firewall_router_routes_two_domains_as_the_policies_say_and_converges_again_unchanged(
    incusd, systemd_image, bridged_packets_skip_the_hosts_netfilter, tmp_path
):
    infra = write_lab(tmp_path, incusd, INFRA, custom="anklume_offline: true\n")
    applied = anklume(incusd, tmp_path, "apply", infra, "--no-provision")
    assert applied.returncode == 0, applied.stderr + applied.stdout
    devices = incusd.query(f"/1.0/instances/{FIREWALL}?project=anklume")["expanded_devices"]
    nics = {n: d["network"] for n, d in devices.items() if d.get("type") == "nic"}
    assert nics == {"eth0": "net-anklume", "eth1": "net-lab", "eth2": "net-pro"}

    t0 = time.monotonic()
    first = anklume(incusd, tmp_path, "provision", infra, "--limit", "anklume", "--json")
    first_s = time.monotonic() - t0
    assert first.returncode == 0, first.stderr + first.stdout
    assert hosts_changed(first)[FIREWALL] > 0
    assert "changed     anklume-firewall: firewall_router : Write the firewall ruleset" in first.stderr
    wait_until(
        lambda: (
            FW_LAB in firewall_addresses(incusd).get("eth1", [])
            and FW_PRO in firewall_addresses(incusd).get("eth2", [])
        ),
        30,
        lambda: f"the firewall's addresses on its domain nics (it has {firewall_addresses(incusd)})",
        0.2,
    )
    lab = Lab(incusd, {"pro-a": "pro", "lab-a": "lab", FIREWALL: "anklume"})
    lab.wait_for_addresses({"pro-a": PRO_A, "lab-a": LAB_A})
    route_through_the_firewall(lab)
    lab.listen("lab-a", 80, 81)
    lab.listen("pro-a", 80)
    assert lab.mismatches(ALLOWED_AND_DENIED) == {}
    assert lab.exec(FIREWALL, "cat", "/proc/sys/net/ipv4/ip_forward").stdout.strip() == "1"
    for unit in ("nftables", "systemd-networkd"):
        assert lab.exec(FIREWALL, "systemctl", "is-enabled", unit).stdout.strip() == "enabled", unit

    t0 = time.monotonic()
    second = anklume(incusd, tmp_path, "provision", infra, "--limit", "anklume", "--json")
    second_s = time.monotonic() - t0
    assert second.returncode == 0, second.stderr + second.stdout
    assert hosts_changed(second) == {FIREWALL: 0}
    assert lab.mismatches(ALLOWED_AND_DENIED) == {}
    print(f"firewall_router: first converge {first_s:.1f} s, second {second_s:.1f} s")

    # The control: without the firewall's table the denied packets pass, so the route went through it.
    assert lab.exec(FIREWALL, "nft", "delete", "table", "inet", "anklume").returncode == 0
    assert lab.mismatches({Probe("pro-a", LAB_A, 81): True, Probe("lab-a", PRO_A, 80): True}) == {}
