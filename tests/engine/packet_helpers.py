"""Real traffic between busybox containers of the throwaway daemon (ICMP with ping, TCP with busybox nc),
checked many at a time. Everything stays inside the daemon's private network namespace."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from tests.incusd_helpers import ThrowawayIncus
from tests.wait_helpers import wait_until


@dataclass(frozen=True)
class Probe:
    """`src` (a container) reaches `ip` (ICMP when port is None, else TCP to that port)."""

    src: str
    ip: str
    port: int | None = None

    def __str__(self) -> str:
        return f"{self.src} -> {self.ip}" + (f":{self.port}" if self.port else " (ping)")


@dataclass(frozen=True)
class Stream:
    """An open TCP connection from `src` to `dst` (`ip`:`port`): lines added to `src`'s /tmp/outbox-<port>
    travel through it into `dst`'s /tmp/inbox-<port>."""

    src: str
    dst: str
    ip: str
    port: int


def _hex_endpoint(ip: str, port: int) -> str:
    """How /proc/net/tcp writes an IPv4 endpoint: the address's bytes in host (little-endian) order."""
    return "".join(f"{int(octet):02X}" for octet in reversed(ip.split("."))) + f":{port:04X}"


class Lab:
    def __init__(self, daemon: ThrowawayIncus, projects: dict[str, str]) -> None:
        self.daemon, self.projects = daemon, projects  # instance -> project

    def exec(self, instance: str, *cmd: str):
        return self.daemon.incus("exec", instance, f"--project={self.projects[instance]}", "--", *cmd, check=False)

    def wait_for_addresses(self, expected: dict[str, str], timeout: float = 30) -> None:
        found: dict[str, list[str]] = {}

        def addressed() -> bool:
            found.clear()
            for i in self.daemon.incus_json("list", "--all-projects"):
                eth0 = ((i.get("state") or {}).get("network") or {}).get("eth0", {})
                found[i["name"]] = [a["address"] for a in eth0.get("addresses", []) if a["family"] == "inet"]
            return all(ip in found.get(name, []) for name, ip in expected.items())

        wait_until(addressed, timeout, lambda: f"the containers' addresses {expected} (they have {found})", 0.2)

    def listen(self, instance: str, *ports: int) -> None:
        """Persistent TCP listeners answering `ok`, so a closed port below means the firewall dropped it."""
        loop = " ".join(str(p) for p in ports)
        script = f"for p in {loop}; do setsid nc -ll -p $p -e echo ok >/dev/null 2>&1 </dev/null & done"
        assert self.exec(instance, "sh", "-c", script).returncode == 0

    def open_stream(self, src: str, dst: str, ip: str, port: int) -> Stream:
        """Open a long-lived connection (busybox nc; the listener's input never ends, so nothing closes it)."""
        listen = f"setsid sh -c 'sleep 100000 | nc -l -p {port} > /tmp/inbox-{port}' >/dev/null 2>&1 </dev/null &"
        assert self.exec(dst, "sh", "-c", listen).returncode == 0
        wait_until(lambda: f":{port} " in self.exec(dst, "netstat", "-ltn").stdout, 10, f"{dst} listening on {port}")
        feed = f"tail -f /tmp/outbox-{port} | nc {ip} {port}"
        connect = f": > /tmp/outbox-{port}; setsid sh -c '{feed}' >/dev/null 2>&1 </dev/null &"
        assert self.exec(src, "sh", "-c", connect).returncode == 0
        return Stream(src, dst, ip, port)

    def send(self, stream: Stream, line: str) -> None:
        assert self.exec(stream.src, "sh", "-c", f"echo {line} >> /tmp/outbox-{stream.port}").returncode == 0

    def received(self, stream: Stream) -> list[str]:
        return self.exec(stream.dst, "cat", f"/tmp/inbox-{stream.port}").stdout.split()

    def retransmitting(self, stream: Stream) -> bool:
        """Whether the source holds unacknowledged data on the connection and has sent it again (its
        /proc/net/tcp line: tx_queue above 0, retransmits above 0): what a dropped segment looks like."""
        remote = _hex_endpoint(stream.ip, stream.port)
        for line in self.exec(stream.src, "cat", "/proc/net/tcp").stdout.splitlines()[1:]:
            fields = line.split()
            if fields[2] == remote and fields[3] == "01":  # ESTABLISHED
                return int(fields[4].split(":")[0], 16) > 0 and int(fields[6], 16) > 0
        return False

    def passes(self, probe: Probe) -> bool:
        if probe.port is None:
            return self.exec(probe.src, "ping", "-c1", "-W1", probe.ip).returncode == 0
        done = self.exec(probe.src, "nc", "-w1", probe.ip, str(probe.port))
        return done.returncode == 0 and "ok" in done.stdout

    def observe(self, probes: list[Probe]) -> dict[str, bool]:
        """Every probe at once (each takes up to 1 s when dropped)."""
        with ThreadPoolExecutor(max_workers=8) as pool:
            return dict(zip(map(str, probes), pool.map(self.passes, probes), strict=True))

    def mismatches(self, wanted: dict[Probe, bool], retries: int = 2) -> dict[str, bool]:
        """The probes whose outcome differs from `wanted` (empty: all as expected). A probe that should pass
        gets `retries` more tries (a busy machine can lose a 1 s race); one that should be dropped never
        does: a single pass is a leak."""
        seen = self.observe(list(wanted))
        for _ in range(retries):
            again = [p for p, ok in wanted.items() if ok and not seen[str(p)]]
            if not again:
                break
            seen.update({k: v for k, v in self.observe(again).items() if v})
        return {str(p): seen[str(p)] for p, ok in wanted.items() if seen[str(p)] != ok}
