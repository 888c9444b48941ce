"""Reads sent before the client is imported (engine/incus/quick_read.py, issue 17): over the local socket they
give what the client reads, and anything but a plain success gives None — never an answer of their own — so
the caller reads again through the client, which says what went wrong as every read does."""

from __future__ import annotations

import asyncio
import socket
import threading
from pathlib import Path

import pytest

from anklume_tui.engine.incus.client import IncusClient
from anklume_tui.engine.incus.quick_read import QuickReads
from anklume_tui.engine.reconcile.allocation import _read_quickly, _read_through_client
from anklume_tui.engine.reconcile.status_read import StatusListings, read_status, start_status_read
from anklume_tui.psot.stability import PriorAllocation
from tests.engine.incus_helpers import incus_list, isolate_host, make_domain, make_instance
from tests.wait_helpers import wait_until


def _addresses(instance) -> tuple[str, ...]:
    network = instance.state.network if instance.state else None
    return tuple(sorted(a.address for a in network["eth0"].addresses)) if network and "eth0" in network else ()


def _shown(listings: StatusListings) -> tuple:
    """What status shows of each listing, without the counters a running container changes between two reads."""
    instances = sorted(
        (
            i.project,
            i.name,
            i.status,
            i.type,
            tuple(sorted(i.config.items())),
            repr(sorted(i.devices.items())),
            len(i.snapshots or []),
            _addresses(i),
        )
        for i in listings.instances
    )
    projects = sorted((p.name, tuple(sorted(p.config.items()))) for p in listings.projects)
    networks = sorted((n.name, n.type, n.managed, tuple(sorted(n.config.items()))) for n in listings.networks)
    return projects, networks, instances


@pytest.mark.incus
def test_the_status_read_sent_first_equals_the_clients(incusd):
    make_domain(incusd, "qa", "net-qa", "10.123.0", infra="quick")
    make_instance(incusd, "qa", "qa-up", ip="10.123.0.10", running=True, infra="quick")
    make_instance(incusd, "qa", "qa-down", infra="quick")
    incusd.incus("snapshot", "create", "qa-down", "first", "--project=qa")

    def leased() -> bool:  # both reads then see the same address
        eth0 = (incus_list(incusd)[("qa", "qa-up")]["state"]["network"] or {}).get("eth0") or {}
        return "10.123.0.10" in [a["address"] for a in eth0.get("addresses", [])]

    wait_until(leased, what="qa-up's DHCP lease")

    answered = start_status_read(incusd.url)
    assert answered is not None
    quick = answered()
    assert quick is not None

    async def through_client() -> StatusListings:
        async with IncusClient(incusd.url) as client:
            return await read_status(client)

    slow = asyncio.run(through_client())
    assert _shown(quick) == _shown(slow)
    names = {(i.project, i.name) for i in quick.instances}
    assert {("qa", "qa-up"), ("qa", "qa-down")} <= names
    up = next(i for i in quick.instances if i.name == "qa-up")
    assert "10.123.0.10" in _addresses(up)


@pytest.mark.incus
def test_an_error_answer_gives_none(incusd):
    reads = QuickReads.start(incusd.url, ["/1.0/projects?recursion=1", "/1.0/instances/no-such-machine"])
    assert reads is not None
    assert reads.answers() is None  # the 404 of the second: the caller asks the client, which says it


def test_no_socket_or_an_https_incus_is_not_read_first(tmp_path):
    assert QuickReads.start(f"unix://{tmp_path}/none/unix.socket", ["/1.0"]) is None
    assert QuickReads.start("https://192.0.2.1:8443", ["/1.0"]) is None
    assert QuickReads.start("ftp://what", ["/1.0"]) is None  # the client says what is wrong with that URL


def _serve_once(path: Path, answer: bytes) -> threading.Thread:
    """Fault injection: a socket that answers one request with `answer`, then closes."""
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(1)

    def serve() -> None:
        connection, _ = server.accept()
        with connection:
            connection.recv(65536)
            connection.sendall(answer)
        server.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return thread


SYNC = b'{"type":"sync","status_code":200,"metadata":[]}'


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.0 200 OK\r\nContent-Length: 400\r\n\r\n" + SYNC,  # cut short: Incus went away mid-answer
        b"HTTP/1.0 500 Internal Server Error\r\n\r\n" + SYNC,
        b"HTTP/1.0 200 OK\r\n\r\n" + SYNC[:-1],  # not JSON
        b'HTTP/1.0 200 OK\r\n\r\n{"type":"async","status_code":100,"metadata":{}}',
        b'HTTP/1.0 200 OK\r\n\r\n{"type":"error","error_code":403,"error":"not allowed"}',
        b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n0\r\n\r\n",
        b"garbage without headers",
        b"",
    ],
    ids=["cut-short", "http-500", "not-json", "async", "error-document", "chunked", "no-headers", "nothing"],
)
def test_anything_but_a_plain_success_gives_none(tmp_path, answer):
    path = tmp_path / "unix.socket"
    served = _serve_once(path, answer)
    reads = QuickReads.start(f"unix://{path}", ["/1.0/projects?recursion=1"])
    assert reads is not None
    assert reads.answers() is None
    served.join(5)


def test_a_plain_success_gives_its_metadata(tmp_path):
    """The same server, with a whole answer: what the cases above refuse is all that made them fail."""
    path = tmp_path / "unix.socket"
    body = b'{"type":"sync","status_code":200,"metadata":[{"name":"x"}]}'
    served = _serve_once(path, b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
    reads = QuickReads.start(f"unix://{path}", ["/1.0/projects?recursion=1"])
    assert reads is not None
    assert reads.answers() == [[{"name": "x"}]]
    served.join(5)


@pytest.mark.incus
def test_the_allocation_read_without_the_client_equals_the_clients(incusd, tmp_path, monkeypatch):
    """What the check's stable allocation reads (validate, plan, sync), read with the standard library alone,
    is what the client reads: the bridges' subnets, each instance's eth0 address, and no cluster."""
    isolate_host(tmp_path, monkeypatch)
    make_domain(incusd, "qb", "net-qb", "10.124.0", infra="quick")
    make_instance(incusd, "qb", "qb-one", ip="10.124.0.10", infra="quick")
    make_instance(incusd, "qb", "qb-two", infra="quick")
    quick = _read_quickly(incusd.url)
    assert quick is not None
    assert quick == _read_through_client(incusd.url)
    allocation, cluster = quick
    assert allocation.bridges["net-qb"] == "10.124.0.254/24"
    assert allocation.nics == {("qb", "qb-one"): "10.124.0.10"}
    assert cluster == ((), ())


def test_no_incus_gives_the_records_alone_without_the_client(tmp_path, monkeypatch):
    isolate_host(tmp_path, monkeypatch)
    missing = f"unix://{tmp_path}/none/unix.socket"
    assert _read_quickly(missing) == _read_through_client(missing) == (PriorAllocation(records={}), None)
    assert _read_quickly("https://192.0.2.1:8443") is None  # an HTTPS Incus: through the client
