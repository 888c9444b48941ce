"""Incus 6.0 sets a bridge up or down by listing the host's interfaces, then asking `ip` about each: one
that vanishes in between fails the request ("Failed to delete bridge children interfaces: ... does not
exist"). Apply meets it when a container of one domain starts while another domain's bridge is made. Here
real interfaces come and go in the daemon's network namespace (a veth pair made and deleted in a loop) while
bridges are created and deleted; the incus CLI reads back what stands."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from anklume_tui.engine.incus.client import IncusClient
from tests.incusd_helpers import ThrowawayIncus

pytestmark = pytest.mark.anyio

BRIDGES = [f"brchurn{i}" for i in range(8)]


@pytest.fixture
def interfaces_coming_and_going(incusd: ThrowawayIncus) -> Iterator[None]:
    loop = "while :; do ip link add {0}a type veth peer name {0}b; ip link del {0}a; done"
    churners = [
        subprocess.Popen(
            ["nsenter", f"--net=/proc/{incusd.pid}/ns/net", "--", "sh", "-c", loop.format(f"vq{i}")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for i in range(1)  # one is enough to meet the race on most requests; two made it meet it nine times in a row
    ]
    try:
        yield
    finally:
        for churner in churners:
            churner.kill()
            churner.wait()


def bridges_standing(incusd: ThrowawayIncus) -> list[str]:
    names = incusd.incus("network", "list", "--format=csv", "--columns=n").stdout.split()
    return sorted(n for n in names if n.startswith("brchurn"))


async def test_bridges_are_made_and_removed_while_host_interfaces_come_and_go(
    incus_client: IncusClient, incusd: ThrowawayIncus, interfaces_coming_and_going
):
    for i, name in enumerate(BRIDGES):
        await incus_client.create_network(name, config={"ipv4.address": f"10.77.{i}.1/24", "ipv6.address": "none"})
    assert bridges_standing(incusd) == BRIDGES
    for name in BRIDGES:
        await incus_client.patch_network(name, config={"ipv4.dhcp": "false"})
    for name in BRIDGES:
        await incus_client.delete_network(name)
    assert bridges_standing(incusd) == []
