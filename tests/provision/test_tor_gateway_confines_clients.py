"""The Tor gateway (issue 19), on one lab: examples/tor-gateway applied with provisioning (the systemd test
image stands in for images:debian/13, offline; tor comes pre-seeded in it), a second apply changing nothing,
then real packets. Apply loads the host ruleset into the daemon's namespace, where the bridges are.

The internet is a network namespace of the test's own behind a veth (198.51.100.1, tests/provision/
tor_lab_helpers.py); Tor itself has no network here, so the test stops it and puts a recorder on its TransPort
and DNSPort in the gateway: a client's TCP to any address and its DNS to any resolver arrive there, and the
client sends nothing else anywhere, also when it routes around the gateway. Controls: the gateway and the work
domain do reach the outside and the host; without the host ruleset's Tor lines, or without the gateway's table,
the same client's packets go where they should not."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.engine.packet_helpers import Lab
from tests.image_helpers import BUSYBOX
from tests.incusd_helpers import ThrowawayIncus
from tests.provision.example_helpers import OFFLINE_VARS, apply_twice, copy_example, import_stand_in
from tests.provision.provision_helpers import anklume
from tests.provision.tor_lab_helpers import PROBE, RECORDER, Outside, Send
from tests.wait_helpers import wait_until

PROJECTS = {"tor-gateway": "tor", "tor-browser": "tor", "work-desk": "work"}
GATEWAY, CLIENT, HOST, WORK, WORK_HOST = "10.140.0.1", "10.140.0.2", "10.140.0.254", "10.110.0.1", "10.110.0.254"
OUT = Outside.IP
TRANS, DNS = 9040, 5353


class TorLab(Lab):
    def __init__(self, daemon: ThrowawayIncus, folder: Path, outside: Outside) -> None:
        super().__init__(daemon, PROJECTS)
        self.folder, self.outside = folder, outside

    def busybox(self, machine: str, *args: str):
        """The host's static busybox, pushed into each machine (the systemd image has no iproute2)."""
        return self.exec(machine, "/root/busybox", *args)

    def send(self, *sends: Send) -> None:
        for s in sends:
            self.exec(s.src, "python3", "-c", PROBE, s.proto, s.ip, str(s.port), s.marker)

    def record(self, machine: str, *specs: str) -> None:
        """The recorder in a machine, in the background, logging to /root/recorded."""
        script = f"cat > /root/recorder.py <<'PY'\n{RECORDER}\nPY\n"
        script += f"setsid python3 /root/recorder.py /root/recorded {' '.join(specs)} >/dev/null 2>&1 </dev/null &"
        assert self.exec(machine, "sh", "-c", script).returncode == 0
        ports = [s.split(":")[1] for s in specs]
        wait_until(
            lambda: all(f":{p} " in self.busybox(machine, "netstat", "-lntu").stdout for p in ports),
            10,
            f"the recorder in {machine} on {specs}",
            0.1,
        )

    def recorded(self, machine: str) -> str:
        return self.exec(machine, "cat", "/root/recorded").stdout

    def dig(self, machine: str, server: str) -> int:
        return self.exec(machine, "dig", "+tries=1", "+time=1", f"@{server}", "anklume.test").returncode

    def route(self, via: str) -> None:
        assert self.busybox("tor-browser", "ip", "route", "replace", "default", "via", via).returncode == 0


@pytest.fixture(scope="module")
def lab(incus_daemon: ThrowawayIncus, tmp_path_factory):
    folder = tmp_path_factory.mktemp("tor-lab")
    import_stand_in(incus_daemon)
    copy = copy_example("tor-gateway", folder)
    synced = anklume(incus_daemon, folder, "sync", copy.infra)
    assert synced.returncode == 0, synced.stderr
    with (folder / "group_vars" / "all.yml").open("a") as all_vars:
        all_vars.write(OFFLINE_VARS)
    outside = Outside(incus_daemon, folder)
    # br_netfilter's bridge-nf-call-iptables (on in the daemon's namespace on the test hosts) sends bridged packets
    # through the host's netfilter, where Incus's ipv4.nat masquerades a client's packet to the gateway as coming
    # from the bridge's .254: the gateway's answers then go to the host, which drops them (its reverse path to
    # 198.51.100.1 is not the bridge). Fail-closed still, but no TCP through Tor: the known gap of
    # tests/provision/test_firewall_router_packets.py, off here and put back.
    key = "/proc/sys/net/bridge/bridge-nf-call-iptables"
    before = incus_daemon.nsenter("cat", key, check=False).stdout.strip()
    try:
        (folder / "persist").mkdir()
        with incus_daemon.nft_inside(folder / "persist"):
            converged = apply_twice(incus_daemon, folder, copy)
        print(f"tor-gateway: first apply {converged.first_s:.1f} s, second {converged.second_s:.1f} s")
        lab = TorLab(incus_daemon, folder, outside)
        for machine, project in PROJECTS.items():
            pushed = f"{machine}/root/busybox"
            incus_daemon.incus("file", "push", "--mode=0755", BUSYBOX, pushed, f"--project={project}")
        lab.wait_for_addresses({"tor-gateway": GATEWAY, "tor-browser": CLIENT, "work-desk": WORK})
        if before:
            incus_daemon.nsenter("sh", "-c", f"echo 0 > {key}")
        yield lab
    finally:
        if before:
            incus_daemon.nsenter("sh", "-c", f"echo {before} > {key}")
        outside.close()
        incus_daemon.nsenter("nft", "delete", "table", "inet", "anklume", check=False)
        incus_daemon.reset()


def test_the_gateway_runs_tor_on_a_configuration_tor_accepts_and_the_clients_dhcp_points_at_it(lab):
    verified = lab.exec("tor-gateway", "tor", "--verify-config", "-f", "/etc/tor/torrc")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "Configuration was valid" in verified.stdout
    torrc = lab.exec("tor-gateway", "cat", "/etc/tor/torrc").stdout
    assert f"TransPort 0.0.0.0:{TRANS}" in torrc and f"DNSPort 0.0.0.0:{DNS}" in torrc
    for unit in ("tor", "nftables"):
        enabled = lab.exec("tor-gateway", "systemctl", "is-enabled", unit)
        assert enabled.stdout.strip() == "enabled", (unit, enabled.returncode, enabled.stderr)
    assert lab.exec("tor-gateway", "systemctl", "is-active", "tor").stdout.strip() == "active"
    # The bridge's DHCP: the client's router and DNS server are the gateway; the gateway's router is the bridge.
    client_route = lab.busybox("tor-browser", "ip", "-4", "route", "show", "default").stdout
    gateway_route = lab.busybox("tor-gateway", "ip", "-4", "route", "show", "default").stdout
    assert f"default via {GATEWAY} " in client_route, client_route
    assert f"default via {HOST} " in gateway_route, gateway_route
    lease = lab.exec("tor-browser", "sh", "-c", "cat /run/systemd/netif/leases/*").stdout
    assert f"DNS={GATEWAY}" in lease, lease


def test_a_clients_tcp_to_any_address_and_dns_to_any_resolver_arrive_at_tors_ports_and_nothing_else_leaves(lab):
    assert lab.exec("tor-gateway", "systemctl", "stop", "tor").returncode == 0
    lab.record("tor-gateway", f"tcp:{TRANS}", f"udp:{DNS}")
    lab.record("work-desk", "tcp:80")
    lab.send(
        Send("tor-browser", "tcp", OUT, 80, "tcp-out"),
        Send("tor-browser", "tcp", WORK, 80, "tcp-work"),
        Send("tor-browser", "udp", OUT, 53, "dns-out"),
        Send("tor-browser", "udp", "9.9.9.9", 53, "dns-quad9"),
        Send("tor-browser", "udp", GATEWAY, 53, "dns-gateway"),
        Send("tor-browser", "udp", OUT, 5000, "udp-out"),
    )
    wait_until(lambda: "dns-gateway" in lab.recorded("tor-gateway"), 10, "the client's DNS at the gateway", 0.1)
    at_tor = lab.recorded("tor-gateway")
    assert re.search(rf"^tcp {CLIENT} {OUT}:80 tcp-out$", at_tor, re.M), at_tor
    assert re.search(rf"^tcp {CLIENT} {WORK}:80 tcp-work$", at_tor, re.M), at_tor
    for marker in ("dns-out", "dns-quad9", "dns-gateway"):
        assert re.search(rf"^udp {CLIENT} '{marker}'$", at_tor, re.M), (marker, at_tor)
    assert "udp-out" not in at_tor
    assert lab.outside.seen() == "" and lab.recorded("work-desk") == ""


def test_a_client_routing_around_the_gateway_reaches_nothing_while_the_gateway_and_other_domains_do(lab):
    # idempotent starts (a second recorder on a port fails to bind, the first goes on): the test before may not run
    lab.record("tor-gateway", f"tcp:{TRANS}", f"udp:{DNS}")
    lab.record("work-desk", "tcp:80")
    lab.route(HOST)
    try:
        lab.send(
            Send("tor-browser", "tcp", OUT, 80, "hostile-tcp-out"),
            Send("tor-browser", "udp", OUT, 5000, "hostile-udp-out"),
            Send("tor-browser", "tcp", WORK, 80, "hostile-tcp-work"),
            Send("tor-browser", "tcp", HOST, 7000, "hostile-tcp-host"),
        )
        assert lab.dig("tor-browser", HOST) == 9  # no reply from the host's DNS
        assert lab.busybox("tor-browser", "ping", "-c1", "-W1", HOST).returncode != 0
        # claiming the gateway's address does not help either (Incus's IPv4 filtering on the client's nic)
        assert lab.busybox("tor-browser", "ip", "addr", "add", f"{GATEWAY}/32", "dev", "eth0").returncode == 0
        try:
            spoof = f"echo hostile-spoof | /root/busybox nc -s {GATEWAY} -w 2 {OUT} 80"
            lab.exec("tor-browser", "sh", "-c", spoof)
        finally:
            lab.busybox("tor-browser", "ip", "addr", "del", f"{GATEWAY}/32", "dev", "eth0")
        lab.send(Send("tor-gateway", "tcp", OUT, 80, "gateway-out"), Send("work-desk", "tcp", OUT, 80, "work-out"))
        wait_until(lambda: "work-out" in lab.outside.seen(), 10, "work-desk's packet outside", 0.1)
        assert "gateway-out" in lab.outside.seen()
        assert lab.dig("work-desk", WORK_HOST) == 0  # the host's DNS answers other domains
        assert lab.busybox("work-desk", "ping", "-c1", "-W1", WORK_HOST).returncode == 0
        seen = lab.outside.seen() + lab.outside.host_seen() + lab.recorded("work-desk") + lab.recorded("tor-gateway")
        assert "hostile" not in seen, seen
    finally:
        lab.route(GATEWAY)


def test_without_the_hosts_tor_lines_or_the_gateways_table_the_same_client_packets_go_astray(lab):
    """The controls: what stopped the packets above is the host ruleset's Tor lines and the gateway's table."""
    persisted = next((lab.folder / "persist").rglob("*.nft"))
    ruleset = persisted.read_text()
    tor_lines = [line for line in ruleset.splitlines() if '"net-tor"' in line and ("!=" in line or "# Tor" in line)]
    assert len(tor_lines) == 10, ruleset
    without = "\n".join(line for line in ruleset.splitlines() if line not in tor_lines) + "\n"
    done = lab.daemon.nsenter("sh", "-c", f"nft -f - <<'NFT'\n{without}NFT\n", check=False)
    assert done.returncode == 0, done.stderr
    lab.route(HOST)
    try:
        lab.send(Send("tor-browser", "tcp", OUT, 80, "astray-tcp-out"))
        wait_until(lambda: "astray-tcp-out" in lab.outside.seen(), 10, "the client's packet outside", 0.1)
        assert lab.dig("tor-browser", HOST) == 0  # the host's DNS answers it too
        assert lab.busybox("tor-browser", "ping", "-c1", "-W1", HOST).returncode == 0
    finally:
        lab.route(GATEWAY)
    lab.record("tor-gateway", f"tcp:{TRANS}", f"udp:{DNS}")
    assert lab.exec("tor-gateway", "nft", "delete", "table", "inet", "anklume_tor").returncode == 0
    lab.send(
        Send("tor-browser", "tcp", OUT, 80, "unredirected-tcp"), Send("tor-browser", "udp", OUT, 53, "unredirected-dns")
    )
    lab.send(Send("tor-browser", "udp", GATEWAY, DNS, "direct-dns"))
    wait_until(lambda: "direct-dns" in lab.recorded("tor-gateway"), 10, "the client's direct DNS at the gateway", 0.1)
    assert "unredirected" not in lab.recorded("tor-gateway")
