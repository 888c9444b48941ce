"""Services between domains (issue 19), end to end on the throwaway daemon with the real host ruleset: a
provider in `tools` runs a JSON-RPC 2.0 server on a TCP port and on a unix socket; `work-dev` (domain `work`)
consumes both and gets real answers, over the auto-created narrowest policy and over the relayed socket; `lab-box`
(domain `lab`), which consumes nothing, has its packets to the port dropped (with the table deleted they pass:
the control). The consumes entries then go, apply runs again: the proxy devices, the policy's rule and the host
socket are gone, the TCP call is dropped and the socket path is gone. Flush removes this infra's relay folders.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import pytest

from tests.engine.apply_helpers import batch
from tests.wait_helpers import wait_until

PROJECT = {"tools-mcp": "tools", "work-dev": "work", "lab-box": "lab"}
ADDRESS = {"tools-mcp": "10.141.1.10", "work-dev": "10.141.2.10", "lab-box": "10.141.3.10"}
PORT = 8765
SOCKET = "/run/mcp/notes.sock"  # the provider's path
RELAYED = "/run/tools-mcp-notes.sock"  # where it appears in the consumer by default (its folder is always there)
CONSUMES = """\
        consumes:
          - tools-mcp/search
          - {service: tools-mcp/notes, uid: 0, gid: 0, mode: "0600"}
"""
INFRA = """\
project_name: svclab
global:
  base_subnet: "10.141"
  default_os_image: debian
  services_base: %(base)s
domains:
  tools:
    ephemeral: true  # unprotected: the last test flushes
    subnet_id: 1
    machines:
      tools-mcp:
        ip: 10.141.1.10
        services:
          notes: {description: Notes, protocol: mcp, socket: /run/mcp/notes.sock}
          search: {protocol: mcp, port: 8765}
  work:
    ephemeral: true
    subnet_id: 2
    machines:
      work-dev:
        ip: 10.141.2.10
%(consumes)s  lab:
    ephemeral: true
    subnet_id: 3
    machines:
      lab-box:
        ip: 10.141.3.10
        os_image: busybox
"""
# Answers every JSON-RPC 2.0 request line on both listeners with what it got and where it came in.
SERVER = """\
import json, os, socketserver, threading

class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        for line in self.rfile:
            request = json.loads(line)
            result = {"method": request["method"], "params": request["params"], "via": self.server.via}
            reply = {"jsonrpc": "2.0", "id": request["id"], "result": result}
            self.wfile.write(json.dumps(reply).encode() + b"\\n")

class TCP(socketserver.ThreadingTCPServer):
    allow_reuse_address, daemon_threads, via = True, True, "tcp"

class Unix(socketserver.ThreadingUnixStreamServer):
    daemon_threads, via = True, "unix"

os.makedirs("/run/mcp", exist_ok=True)
unix = Unix("/run/mcp/notes.sock", Handler)
threading.Thread(target=unix.serve_forever, daemon=True).start()
TCP(("0.0.0.0", 8765), Handler).serve_forever()
"""
# One JSON-RPC call from a consumer: over TCP to argv[1] or over the unix socket argv[1]; prints the reply.
CLIENT = """\
import json, socket, sys
target = sys.argv[1]
if target.startswith("/"):
    conn = socket.socket(socket.AF_UNIX)
    conn.settimeout(3)
    conn.connect(target)
else:
    conn = socket.create_connection((target, 8765), timeout=3)
conn.sendall(json.dumps({"jsonrpc": "2.0", "id": 7, "method": "notes.search", "params": ["incus"]}).encode() + b"\\n")
print(conn.makefile().readline().strip())
"""
REQUEST = '{"jsonrpc": "2.0", "id": 1, "method": "ping", "params": []}'


class ServiceLab:
    def __init__(self, daemon, tmp: Path) -> None:
        self.daemon, self.tmp = daemon, tmp
        self.base = tmp / "services"
        self.infra = tmp / "infra.yml"

    def write(self, consumes: bool) -> None:
        self.infra.write_text(INFRA % {"base": self.base, "consumes": CONSUMES if consumes else ""})

    def apply(self) -> None:
        done = batch(self.daemon, self.tmp, "apply", self.infra)
        assert done.returncode == 0, done.stderr + done.stdout

    def run(self, machine: str, *command: str):
        return self.daemon.incus("exec", machine, f"--project={PROJECT[machine]}", "--", *command, check=False)

    def push(self, source: Path, machine: str, target: str) -> None:
        self.daemon.incus(
            "file", "push", "--mode=0755", str(source), f"{machine}{target}", f"--project={PROJECT[machine]}"
        )

    def network(self, machine: str) -> None:
        """The debian test image configures no network: its address (the one Incus reserves) set by busybox."""
        ip, gateway = ADDRESS[machine], ADDRESS[machine].rsplit(".", 1)[0] + ".254"
        self.push(Path(shutil.which("busybox") or "/bin/busybox"), machine, "/usr/local/bin/busybox")
        script = f"busybox ip link set eth0 up && busybox ip addr add {ip}/24 dev eth0 && "
        script += f"busybox ip route add default via {gateway}"
        done = self.run(machine, "sh", "-c", script)
        assert done.returncode == 0, done.stderr

    def call(self, target: str):
        """work-dev's JSON-RPC call over TCP (target: the provider's address) or the unix socket (its path)."""
        return self.run("work-dev", "python3", "/root/client.py", target)

    def lab_box_reaches_the_port(self) -> bool:
        done = self.run("lab-box", "sh", "-c", f"echo '{REQUEST}' | nc -w 2 {ADDRESS['tools-mcp']} {PORT}")
        return '"result"' in done.stdout

    def devices(self, machine: str) -> dict[str, dict]:
        [found] = self.daemon.incus_json("list", f"--project={PROJECT[machine]}", machine)
        return {name: dev for name, dev in found["devices"].items() if name.startswith("svc-")}

    def table(self) -> str:
        return self.daemon.nsenter("nft", "list", "table", "inet", "anklume").stdout


@pytest.fixture(scope="module")
def lab(incus_daemon, debian_image, tmp_path_factory):
    """Applied with both grants, the provider's server started, the debian machines on the network; the
    module's tests run in order on it (the last ones take the grants away and flush)."""
    tmp = tmp_path_factory.mktemp("services")
    lab = ServiceLab(incus_daemon, tmp)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("ANKLUME_NFT_NETNS", f"/proc/{incus_daemon.pid}/ns/net")
        (tmp / "server.py").write_text(SERVER)
        (tmp / "client.py").write_text(CLIENT)
        try:
            lab.write(consumes=True)
            lab.apply()
            for machine in ("tools-mcp", "work-dev"):
                lab.network(machine)
            lab.push(tmp / "server.py", "tools-mcp", "/root/server.py")
            lab.push(tmp / "client.py", "work-dev", "/root/client.py")
            start = "setsid python3 /root/server.py >/root/server.log 2>&1 </dev/null &"
            assert lab.run("tools-mcp", "sh", "-c", start).returncode == 0
            wait_until(
                lambda: lab.run("tools-mcp", "test", "-S", SOCKET).returncode == 0, 10, "the provider's server", 0.1
            )
            yield lab
        finally:
            incus_daemon.nsenter("nft", "delete", "table", "inet", "anklume", check=False)
            incus_daemon.reset()


def test_the_consumer_calls_the_tcp_service_through_the_narrowest_policy(lab):
    reply = lab.call(ADDRESS["tools-mcp"])
    assert reply.returncode == 0, reply.stderr
    assert json.loads(reply.stdout) == {
        "jsonrpc": "2.0",
        "id": 7,
        "result": {"method": "notes.search", "params": ["incus"], "via": "tcp"},
    }
    rule = f"ip saddr {ADDRESS['work-dev']} ip daddr {ADDRESS['tools-mcp']} tcp dport {PORT} accept"
    assert rule in lab.table()


def test_a_machine_that_consumes_nothing_is_dropped_at_the_port(lab):
    assert not lab.lab_box_reaches_the_port()
    lab.daemon.nsenter("nft", "delete", "table", "inet", "anklume")
    try:  # the control: without the table, lab-box gets an answer, so the drop above was the ruleset's
        wait_until(lab.lab_box_reaches_the_port, 10, "lab-box's answer with the table deleted", 0.2)
    finally:
        loaded = batch(lab.daemon, lab.tmp, "nftables", lab.infra)
        assert loaded.returncode == 0, loaded.stderr
    assert not lab.lab_box_reaches_the_port()


def test_the_consumer_calls_the_socket_service_through_the_relay(lab):
    reply = lab.call(RELAYED)
    assert reply.returncode == 0, reply.stderr
    assert json.loads(reply.stdout)["result"] == {"method": "notes.search", "params": ["incus"], "via": "unix"}
    mode = lab.run("work-dev", "stat", "-c", "%a %u %g", RELAYED).stdout.split()
    assert mode == ["600", "0", "0"]
    folder = lab.base / "tools" / "tools-mcp"
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700 and os.stat(folder).st_uid == 0
    assert stat.S_ISSOCK(os.stat(folder / "notes.sock").st_mode)
    assert set(lab.devices("tools-mcp")) == {"svc-notes"} and set(lab.devices("work-dev")) == {"svc-tools-mcp-notes"}


def test_removing_the_consumes_entries_closes_both_the_port_and_the_socket(lab):
    lab.write(consumes=False)
    lab.apply()
    assert lab.devices("work-dev") == {} and lab.devices("tools-mcp") == {}
    assert f"tcp dport {PORT}" not in lab.table()
    tcp = lab.call(ADDRESS["tools-mcp"])
    assert tcp.returncode != 0 and "timed out" in tcp.stderr, tcp.stdout + tcp.stderr
    unix = lab.call(RELAYED)
    assert unix.returncode != 0 and ("FileNotFoundError" in unix.stderr or "ConnectionRefused" in unix.stderr)
    # the provider kept running: its server still answers on its own socket (the relay is what went)
    assert lab.run("tools-mcp", "test", "-S", SOCKET).returncode == 0


def test_granted_again_the_relay_answers_and_flush_removes_this_infras_relay_folders_only(lab):
    lab.write(consumes=True)
    lab.apply()
    assert (lab.base / "tools" / "tools-mcp" / "notes.sock").exists()
    # granted again, the relay answers at once: proxy devices are attached live, the provider's server (started
    # by hand, so a restart would have ended it) kept running
    reply = lab.call(RELAYED)
    assert reply.returncode == 0 and '"via": "unix"' in reply.stdout, reply.stderr
    other = lab.base / "other-infra" / "other-mcp"
    other.mkdir(parents=True)
    (other / "keep.txt").write_text("not ours")
    done = batch(lab.daemon, lab.tmp, "flush", lab.infra, "--yes")
    assert done.returncode == 0, done.stderr + done.stdout
    assert not (lab.base / "tools").exists()
    assert (other / "keep.txt").read_text() == "not ours"
