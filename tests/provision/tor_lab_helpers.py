"""The Tor gateway lab's probes (tests/provision/test_tor_gateway_confines_clients.py): a recorder that stands
for Tor's ports in the gateway and for a server on the outside, and the client's probes, all in Python (the
systemd test image has python3; the outside runs the host's python in a network namespace of the test's own).

Every probe carries a marker; a packet arrived when its marker is in a recorder's log. TCP lines also say where
the client was sending it (SO_ORIGINAL_DST, after the gateway's redirect)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass

from tests.incusd_helpers import ThrowawayIncus
from tests.wait_helpers import wait_until

# python3 RECORDER LOG PROTO:PORT...: appends "tcp <peer> <original destination> <first line>" or
# "udp <peer> <payload>" to LOG for every connection or datagram, for ever.
RECORDER = r"""
import socket, struct, sys, threading
log = open(sys.argv[1], "a", buffering=1)
def tcp(port):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port)); s.listen(64)
    while True:
        c, peer = s.accept()
        try:
            raw = c.getsockopt(socket.SOL_IP, 80, 16)  # SO_ORIGINAL_DST
            dst = f"{socket.inet_ntoa(raw[4:8])}:{struct.unpack('!H', raw[2:4])[0]}"
        except OSError:
            dst = "-"
        c.settimeout(3)
        try:
            data = c.recv(200).decode(errors="replace").split()
        except OSError:
            data = []
        # logged before the answer: a probe that got its "ok" finds its line written
        log.write(f"tcp {peer[0]} {dst} {' '.join(data)}\n")
        try:
            c.sendall(b"ok\n")
        except OSError:
            pass
        c.close()
def udp(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", port))
    while True:
        data, peer = s.recvfrom(4096)
        log.write(f"udp {peer[0]} {data.decode('latin-1')!r}\n")
for spec in sys.argv[2:]:
    proto, port = spec.split(":")
    threading.Thread(target=tcp if proto == "tcp" else udp, args=(int(port),)).start()
"""

# python3 -c PROBE proto ip port marker [timeout]: sends the marker; exit 0 when a TCP peer answered.
PROBE = r"""
import socket, sys
proto, ip, port, marker = sys.argv[1:5]
try:
    if proto == "tcp":
        c = socket.create_connection((ip, int(port)), timeout=2); c.sendall(marker.encode() + b"\n")
        c.settimeout(2); sys.exit(0 if c.recv(10) else 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.sendto(marker.encode(), (ip, int(port)))
except OSError as e:
    print(e); sys.exit(1)
"""


@dataclass(frozen=True)
class Send:
    """`src` sends `marker` to ip:port over proto."""

    src: str
    proto: str
    ip: str
    port: int
    marker: str


class Outside:
    """A network namespace standing for the internet: 198.51.100.1 behind a veth from the daemon's namespace
    (198.51.100.254 there), with the recorder on tcp/80 and udp/5000; and a recorder on the host itself (the
    daemon's namespace) on tcp/7000."""

    IP, PEER = "198.51.100.1", "198.51.100.254"

    def __init__(self, daemon: ThrowawayIncus, folder) -> None:
        self.daemon, self.log, self.host_log = daemon, folder / "outside.log", folder / "host.log"
        self.holder = subprocess.Popen(["unshare", "--net", "--", "sleep", "infinity"])
        self.netns = f"/proc/{self.holder.pid}/ns/net"
        wait_until(lambda: self._inside("ip", "link").returncode == 0, 10, "the outside namespace", 0.05)
        daemon.nsenter("ip", "link", "add", "ank-out0", "type", "veth", "peer", "name", "ank-out1")
        daemon.nsenter("ip", "link", "set", "ank-out1", "netns", str(self.holder.pid))
        daemon.nsenter("ip", "addr", "add", f"{self.PEER}/24", "dev", "ank-out0")
        daemon.nsenter("ip", "link", "set", "ank-out0", "up")
        for cmd in (
            ("ip", "addr", "add", f"{self.IP}/24", "dev", "ank-out1"),
            ("ip", "link", "set", "ank-out1", "up"),
            ("ip", "link", "set", "lo", "up"),
            ("ip", "route", "add", "default", "via", self.PEER),
        ):
            assert self._inside(*cmd).returncode == 0, cmd
        self.log.touch()
        self.host_log.touch()
        self.recorders = [
            subprocess.Popen(
                ["nsenter", f"--net={netns}", "--", "python3", "-c", RECORDER, str(log), *specs],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for netns, log, specs in (
                (self.netns, self.log, ("tcp:80", "udp:5000")),
                (f"/proc/{daemon.pid}/ns/net", self.host_log, ("tcp:7000",)),
            )
        ]

    def _inside(self, *cmd: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["nsenter", f"--net={self.netns}", "--", *cmd], capture_output=True, text=True)

    def seen(self) -> str:
        return self.log.read_text()

    def host_seen(self) -> str:
        return self.host_log.read_text()

    def close(self) -> None:
        for proc in (*self.recorders, self.holder):
            proc.kill()
            proc.wait()
        self.daemon.nsenter("ip", "link", "del", "ank-out0", check=False)
