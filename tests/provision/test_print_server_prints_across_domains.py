"""The print-server example (issue 19, Qubes' sys-print) and its roles print_server and print_client, on one lab:
the example applies with provisioning and a second apply changes nothing; a client in another domain submits a
job over IPP and its bytes land in the printer's file; a domain without a network policy for the port is dropped
(real connections, the host ruleset loaded in the daemon's network namespace); the USB printer and the LAN nic the
example declares reach the instance's config in Incus.

What the copy of the example changes (besides tests/provision/example_helpers.py's own substitutions): the
macvlan nic the example shows commented out (its parent is the host's LAN interface) is added, on a veth link made
in the daemon's network namespace (the unchanged example's plan, read from the same daemon, is checked to have no
such nic, so that it starts on any host). Below the
managed sections, as a user would: the machines are offline (`anklume_offline: true`) except print-server, which
takes the online path (apt with the test image's empty sources: the packages are pre-seeded, tests/image_helpers.py),
and print-server gets a queue `office` printing into a file (CUPS's FileDevice). No USB printer here: the usb device
is checked up to the Incus API (the container starts without the printer, as with a printer unplugged).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.incusd_helpers import ThrowawayIncus
from tests.provision.example_helpers import (
    OFFLINE_VARS,
    Converged,
    apply_twice,
    copy_example,
    import_stand_in,
    planned_instances,
)
from tests.provision.provision_helpers import anklume
from tests.wait_helpers import wait_until

PROJECT = {"anklume-instance": "anklume", "work-desk": "work", "home-laptop": "home", "print-server": "print"}
SERVER = "10.120.1.1"  # print-server's address (the example's header)
LAN, LAN_PEER = "anklume-lan0", "anklume-lan1"  # the link standing for the host's LAN interface, and its peer
PRINTED = "/var/spool/cups-out/office.prn"
SERVER_VARS = f"""\
anklume_offline: false
print_server_file_device: true
print_server_queues:
  - {{name: office, uri: "file://{PRINTED}", description: Office printer (a file)}}
"""


@dataclass
class PrintLab:
    daemon: ThrowawayIncus
    tree: Path
    infra: Path
    converged: Converged
    planned: dict

    def run(self, machine: str, *command: str):
        return self.daemon.incus("exec", machine, f"--project={PROJECT[machine]}", "--", *command, check=False)

    def out(self, machine: str, *command: str) -> str:
        done = self.run(machine, *command)
        assert done.returncode == 0, f"{command} in {machine}: {done.stderr}"
        return done.stdout

    def load_ruleset(self, infra: Path) -> None:
        loaded = anklume(self.daemon, self.tree, "nftables", infra)
        assert loaded.returncode == 0, loaded.stderr

    def ipp_reply(self, machine: str, to: str = f"{SERVER}:631") -> tuple[int, str]:
        """A plain HTTP request to CUPS's port (or `to`) from `machine`: curl's exit code (0: CUPS answered,
        whatever the status; 28: no answer within 3 s, as a dropped SYN gives; 7: refused) and curl's message."""
        done = self.run(machine, "curl", "-sS", "--max-time", "3", "-o", "/dev/null", f"http://{to}/")
        return done.returncode, done.stderr.strip()


def ran_on(log: str, task: str) -> set[str]:
    """The hosts Ansible's output shows carrying out `task` ("TASK [role : name]"), ok or changed."""
    found, inside = set(), False
    for line in log.splitlines():
        if line.startswith("TASK ["):
            inside = line.startswith(f"TASK [{task}]")
        elif inside and line.startswith(("ok: [", "changed: [")):
            found.add(line.split("[", 1)[1].split("]", 1)[0])
    return found


@pytest.fixture(scope="module")
def lab(incus_daemon, tmp_path_factory) -> Iterator[PrintLab]:
    daemon, tree, seconds = incus_daemon, tmp_path_factory.mktemp("print"), {}
    t0 = time.monotonic()
    import_stand_in(daemon)
    # a veth pair stands for the LAN (this kernel has no dummy links): macvlan works on it alike
    daemon.nsenter("ip", "link", "add", LAN, "type", "veth", "peer", "name", LAN_PEER)
    for link in (LAN, LAN_PEER):
        daemon.nsenter("ip", "link", "set", link, "up")
    try:
        copy = copy_example("print-server", tree)
        data = yaml.safe_load(copy.infra.read_text())
        lan = {"type": "nic", "nictype": "macvlan", "parent": LAN, "name": "eth1"}  # the example's, uncommented
        data["domains"]["print"]["machines"]["print-server"]["devices"]["lan"] = lan
        copy.infra.write_text(yaml.safe_dump(data, sort_keys=False))
        planned = planned_instances(daemon, "print-server")
        synced = anklume(daemon, tree, "sync", copy.infra)
        assert synced.returncode == 0, synced.stderr
        with (tree / "group_vars" / "all.yml").open("a") as all_vars:
            all_vars.write(OFFLINE_VARS)
        with (tree / "host_vars" / "print-server.yml").open("a") as server_vars:
            server_vars.write(SERVER_VARS)
        seconds["image import, sync"] = time.monotonic() - t0
        with daemon.nft_inside(tree / "nft"):
            converged = apply_twice(daemon, tree, copy)
            seconds.update({"first apply": converged.first_s, "second apply": converged.second_s})
            yield PrintLab(daemon, tree, copy.infra, converged, planned)
    finally:
        print(", ".join(f"{k}: {v:.1f} s" for k, v in seconds.items()))
        daemon.nsenter("nft", "delete", "table", "inet", "anklume", check=False)
        daemon.reset()
        daemon.nsenter("ip", "link", "del", LAN, check=False)


def test_the_example_applies_with_provisioning_and_a_second_apply_changes_nothing(lab):
    assert lab.converged.hosts == sorted(PROJECT)  # apply_twice: no action and changed=0 the second time
    # print_server took its online path (apt) on print-server; print_client its offline one on the clients
    assert ran_on(lab.converged.first_log, "print_server : Install CUPS with apt") == {"print-server"}
    assert ran_on(lab.converged.first_log, "print_client : Install CUPS's client commands with apt") == set()
    assert ran_on(lab.converged.first_log, "print_client : Send jobs to the print server") == {
        "work-desk",
        "home-laptop",
    }
    smoke = anklume(lab.daemon, lab.tree, "smoke", lab.infra, "--json")
    assert smoke.returncode == 0, smoke.stdout + smoke.stderr
    checks = {(m["machine"], c["name"]): c["ok"] for m in json.loads(smoke.stdout)["machines"] for c in m["checks"]}
    assert checks[("print-server", "CUPS answers on its port")] is True
    assert checks[("print-server", "CUPS's scheduler is running")] is True


def test_a_client_in_another_domain_prints_and_the_bytes_land_in_the_printers_file(lab):
    assert lab.out("print-server", "systemctl", "is-enabled", "cups") == "enabled\n"
    payload = f"job from work-desk {time.time_ns()}\n"
    lab.out("work-desk", "sh", "-c", f"printf '%s' '{payload}' > /root/job.txt")
    submitted = lab.out("work-desk", "lp", "-h", f"{SERVER}:631", "-d", "office", "/root/job.txt")
    assert submitted.startswith("request id is office-"), submitted
    job = submitted.split()[3]

    def printed() -> bool:
        return lab.run("print-server", "cat", PRINTED).stdout == payload

    wait_until(printed, 30, f"the job's bytes in print-server's {PRINTED}", 0.3)
    completed = lab.out("print-server", "lpstat", "-W", "completed", "-o", "office")
    assert job in completed.split(), completed
    # home-laptop prints through print_client's client.conf (no -h): the server found from the inventory
    assert lab.out("home-laptop", "cat", "/etc/cups/client.conf").endswith(f"ServerName {SERVER}:631\n")
    assert lab.out("home-laptop", "lpstat", "-r") == "scheduler is running\n"
    lab.out("home-laptop", "sh", "-c", "printf 'from home\\n' | lp -d office")
    wait_until(lambda: lab.run("print-server", "cat", PRINTED).stdout == "from home\n", 30, "home's job printed", 0.3)


def test_queues_cannot_be_administered_from_a_client(lab):
    refused = lab.run("work-desk", "lpadmin", "-h", f"{SERVER}:631", "-p", "intruder", "-E", "-v", "file:///tmp/x")
    assert refused.returncode != 0, refused.stdout
    assert "intruder" not in lab.out("print-server", "lpstat", "-v")


def test_a_domain_without_a_network_policy_for_ipp_is_dropped(lab):
    assert lab.ipp_reply("home-laptop") == (0, "")  # with its policy
    data = yaml.safe_load(lab.infra.read_text())
    data["network_policies"] = [p for p in data["network_policies"] if p["from"] != "home"]
    without = lab.tree / "without-home.yml"
    without.write_text(yaml.safe_dump(data, sort_keys=False))
    lab.load_ruleset(without)
    try:
        code, message = lab.ipp_reply("home-laptop")
        assert (code, "timed out" in message) == (28, True), message  # dropped: no answer at all, not a refusal
        assert lab.ipp_reply("work-desk") == (0, "")  # work keeps its policy
        assert lab.ipp_reply("anklume-instance")[0] == 28  # the admin domain has none either
        # one way: print-server cannot open a connection into work (refused there, were it let through)
        assert lab.ipp_reply("print-server", to="10.110.0.1:631")[0] == 28
        assert lab.ipp_reply("work-desk", to="10.110.0.1:631")[0] == 7  # the control: work-desk itself refuses
    finally:
        lab.load_ruleset(lab.infra)
    assert lab.ipp_reply("home-laptop") == (0, "")


def test_the_usb_printer_and_the_lan_nic_reach_the_instance(lab):
    devices = lab.daemon.query("/1.0/instances/print-server?project=print")["devices"]
    assert devices["usb-printer"] == {"type": "usb", "vendorid": "03f0", "productid": "0c17"}
    assert devices["lan"] == {"type": "nic", "nictype": "macvlan", "parent": LAN, "name": "eth1"}
    # the macvlan interface is in the running container, with the MAC Incus gave it on the LAN
    config = lab.daemon.query("/1.0/instances/print-server?project=print")["config"]
    assert lab.out("print-server", "cat", "/sys/class/net/eth1/address").strip() == config["volatile.lan.hwaddr"]
    # the unchanged example declares no nic whose parent a host may lack (it would not start there)
    assert "lan" not in lab.planned["print-server"]["devices"]
    assert lab.planned["print-server"]["devices"]["usb-printer"]["vendorid"] == "03f0"
