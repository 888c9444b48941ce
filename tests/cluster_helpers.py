"""A real three-member Incus cluster of throwaway daemons (tests/incusd_helpers.py), for placement tests.

Each member is a ThrowawayIncus in its own mount, network and PID namespaces. A fourth network namespace (a
`sleep` holding it) carries the test bridge `br0`; each member has a veth `eth0` on it with 10.251.0.N/24 and no
route anywhere else, so cluster traffic stays between the members and nothing leaves. The first member is
initialised (pool `default`, root disk), listens on its bridge address and is made a cluster; the others start
empty and join with a token from `incus cluster add` (the pool's member-specific `source` in their preseed).
A cluster group `edge` holds member1 alone (a `@group` placement target).

A member can be stopped and brought back (`stop_member` / `resume_member`): its namespace's first process runs
incusd in a loop that waits on a FIFO between runs, so the namespace, its address and its containers survive.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.incusd_helpers import INCUS, NAMESPACE_SETUP, ThrowawayIncus
from tests.incusd_host_helpers import alive, enter_namespaces_setup
from tests.wait_helpers import wait_until

SUBNET = "10.251.0"
PORT = 8443
MEMBERS = ("member1", "member2", "member3")
GROUP = "edge"  # a cluster group holding member1 only

# As NAMESPACE_INIT, but incusd runs in a loop: when it exits, the first process waits for a word on the FIFO
# `$1.resume` ("start" runs incusd again; anything else, or the FIFO's writer gone, ends the namespace).
MEMBER_INIT = (
    NAMESPACE_SETUP
    + """\
mkfifo "$1.resume"
set +e
while :; do
  "$0" --group root &
  wait $!
  read -r word < "$1.resume" || exit 0
  [ "$word" = start ] || exit 0
done
"""
)

JOIN_PRESEED = """\
cluster:
  enabled: true
  server_name: {name}
  server_address: {address}
  cluster_token: {token}
  member_config:
  - entity: storage-pool
    name: default
    key: source
    value: ""
"""


class ClusterMember(ThrowawayIncus):
    """A throwaway daemon whose incusd can be stopped and started again inside the same namespaces."""

    namespace_init = MEMBER_INIT

    @property
    def resume_fifo(self) -> Path:
        return self.dir / "cgroup-hold.resume"


@dataclass
class ThreeMemberCluster:
    """Three joined members; `members[0]` is where the cluster was enabled. Every member answers for the whole
    cluster (its socket, `incus` CLI, `query`), so tests mostly talk to `first`."""

    members: list[ClusterMember] = field(default_factory=list)
    names: tuple[str, ...] = MEMBERS
    timings: dict[str, float] = field(default_factory=dict)
    stopped: set[str] = field(default_factory=set)
    _fabric: subprocess.Popen | None = field(default=None, init=False)

    @property
    def first(self) -> ClusterMember:
        return self.members[0]

    def address(self, index: int) -> str:
        return f"{SUBNET}.{index + 1}"

    def member(self, name: str) -> ClusterMember:
        return self.members[self.names.index(name)]

    def start(self) -> ThreeMemberCluster:
        t0 = time.monotonic()
        try:
            self._start_fabric()
            for index in range(len(self.names)):
                member = ClusterMember().start(initialise=index == 0, with_busybox=False)
                self.members.append(member)
                self._wire(index, member)
            self.timings["daemons"] = time.monotonic() - t0
            first = self.first
            first.incus("config", "set", "core.https_address", f"{self.address(0)}:{PORT}")
            first.incus("cluster", "enable", self.names[0])
            for index, name in enumerate(self.names[1:], start=1):
                token = first.incus("cluster", "add", name, "--quiet").stdout.strip()
                preseed = JOIN_PRESEED.format(name=name, address=f"{self.address(index)}:{PORT}", token=token)
                self._join(self.members[index], preseed)
            self.timings["joined"] = time.monotonic() - t0
            first.incus("config", "set", "cluster.offline_threshold", "11")
            first.incus("cluster", "group", "create", GROUP)  # a placement target `@edge`: member1 alone
            first.incus("cluster", "group", "add", self.names[0], GROUP)
            first.import_image("default", "busybox")
        except BaseException:
            self.stop()
            raise
        self.timings["start_total"] = time.monotonic() - t0
        return self

    def _join(self, joiner: ClusterMember, preseed: str) -> None:
        """`incus admin init` itself fetches the cluster's certificate from the token's addresses: it runs in the
        joiner's network namespace, so that connection stays on the test bridge (from the host it would leave)."""
        result = subprocess.run(
            ["nsenter", f"--net=/proc/{joiner.pid}/ns/net", "--", INCUS, "admin", "init", "--preseed"],
            env=joiner.env,
            input=preseed,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if result.returncode != 0:
            raise RuntimeError(f"joining the cluster failed: {result.stderr.strip()}\n{joiner.log_tail()}")

    def _start_fabric(self) -> None:
        """The bridge's own network namespace: br0 and the members' veth ends, no uplink."""
        self._fabric = subprocess.Popen(
            ["unshare", "--net", "--", "sleep", "infinity"], preexec_fn=enter_namespaces_setup([])
        )
        host_netns = os.readlink("/proc/self/ns/net")
        netns = f"/proc/{self._fabric.pid}/ns/net"
        wait_until(lambda: os.readlink(netns) != host_netns, 10, "unshare --net to make the bridge's namespace", 0.01)
        self.fabric("ip", "link", "set", "lo", "up")
        self.fabric("ip", "link", "add", "br0", "type", "bridge")
        self.fabric("ip", "link", "set", "br0", "up")

    def fabric(self, *cmd: str) -> subprocess.CompletedProcess[str]:
        """Run a command in the bridge's network namespace."""
        assert self._fabric is not None
        return subprocess.run(
            ["nsenter", f"--net=/proc/{self._fabric.pid}/ns/net", "--", *cmd],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )

    def _wire(self, index: int, member: ClusterMember) -> None:
        port = f"veth-m{index + 1}"
        self.fabric("ip", "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", str(member.pid))
        self.fabric("ip", "link", "set", port, "master", "br0", "up")
        member.nsenter("ip", "address", "add", f"{self.address(index)}/24", "dev", "eth0")
        member.nsenter("ip", "link", "set", "eth0", "up")

    def locations(self, project: str = "default") -> dict[str, str]:
        """Instance name → member, read with the incus CLI (`incus list -c nL`), an independent reader."""
        out = self.first.incus("list", f"--project={project}", "-c", "nL", "--format=csv").stdout
        return dict(line.split(",", 1) for line in out.splitlines() if line)  # type: ignore[misc]

    def member_states(self) -> dict[str, str]:
        return {m["server_name"]: m["status"] for m in self.first.query("/1.0/cluster/members?recursion=1")}

    def stop_member(self, name: str, *, until_offline: bool = False) -> None:
        """Kill one member's incusd (its namespace and containers stay); with until_offline, wait until the
        others see it offline (heartbeats: cluster.offline_threshold, set to 11 s at start, the least allowed)."""
        member = self.member(name)
        pid = member.daemon_pid
        os.kill(pid, signal.SIGKILL)
        self.stopped.add(name)
        wait_until(lambda: not alive(pid), 10, f"{name}'s incusd to die", 0.05)
        if until_offline:
            other = next(m for m in self.members if m is not member)
            wait_until(lambda: other_sees(other, name) == "Offline", 60, f"the cluster to see {name} offline", 0.5)

    def resume_member(self, name: str) -> None:
        """Start a stopped member's incusd again; returns once the cluster sees it online."""
        member = self.member(name)
        with open(member.resume_fifo, "w") as fifo:
            fifo.write("start\n")
        self.stopped.discard(name)
        member.incus("admin", "waitready", "--timeout=60")
        wait_until(lambda: other_sees(self.first, name) == "Online", 60, f"the cluster to see {name} online", 0.2)

    def reset(self) -> None:
        """Back to just-joined: only the default project, profile and pool, the busybox image (cluster-wide)."""
        first = self.first

        def delete(inst: dict[str, Any]) -> None:
            where = f"--project={inst['project']}"
            if inst["config"].get("security.protection.delete") == "true":
                first.incus("config", "unset", inst["name"], "security.protection.delete", where)
            first.incus("delete", "--force", inst["name"], where)

        with ThreadPoolExecutor(4) as pool:  # each delete waits on its member: side by side, not one by one
            list(pool.map(delete, first.query("/1.0/instances?recursion=1&all-projects=true")))
        projects = first.query("/1.0/projects?recursion=1")
        for project in sorted(projects, key=lambda p: p["name"] == "default"):
            first._reset_project(project["name"], project.get("config") or {}, keep_images=True)

    def stop(self) -> None:
        """Kill every member's namespaces (no graceful shutdown: each would wait on the others) and the bridge."""
        for member in reversed(self.members):
            with contextlib.suppress(Exception):
                member.stop(graceful=False)
        self.members.clear()
        if self._fabric is not None:
            self._fabric.kill()
            self._fabric.wait(timeout=30)
            self._fabric = None


def other_sees(member: ThrowawayIncus, name: str) -> str:
    with contextlib.suppress(Exception):
        found: Any = member.query(f"/1.0/cluster/members/{name}")
        return str(found["status"])
    return ""


@contextlib.contextmanager
def three_member_cluster() -> Iterator[ThreeMemberCluster]:
    cluster = ThreeMemberCluster().start()
    try:
        yield cluster
    finally:
        cluster.stop()
