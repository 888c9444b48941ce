"""status reads Incus in as many requests for 30 machines as for 6 (issue 17): instances come with their state
and snapshots in one listing across projects, never one request per machine. Counted at the transport, on the
real daemon; the report's values are checked against `incus list`, not our client."""

from __future__ import annotations

import asyncio
import json

import pytest

from anklume_tui import cli
from anklume_tui.engine.host.hostinfo import gather_host_context
from anklume_tui.engine.incus import quick_read
from anklume_tui.engine.incus.client import IncusClient
from anklume_tui.engine.incus.transport import IncusTransport
from anklume_tui.engine.reconcile.allocation import gather_allocation, prior_allocation
from anklume_tui.engine.reconcile.status import StatusListings, gather_status, read_status
from anklume_tui.psot.pipeline import run_psot
from tests.engine.incus_helpers import incus_list, isolate_host, make_domain, make_instance

DOMAINS = ("ra", "rb", "rc")


def _infra(per_domain: int) -> str:
    lines = ["project_name: count-test", "global:", '  base_subnet: "10.121"', "domains:"]
    for subnet, domain in enumerate(DOMAINS):
        lines += [f"  {domain}:", f"    subnet_id: {subnet}", "    machines:"]
        lines += [
            f"      {domain}-m{n}: {{ip: 10.121.{subnet}.{10 + n}, os_image: busybox}}" for n in range(per_domain)
        ]
    return "\n".join(lines) + "\n"


def _add_machines(incusd, start: int, stop: int) -> None:
    """Machines start..stop-1 of each domain: the first of each running, the second stopped with a snapshot."""
    for subnet, domain in enumerate(DOMAINS):
        for n in range(start, stop):
            name = f"{domain}-m{n}"
            make_instance(incusd, domain, name, ip=f"10.121.{subnet}.{10 + n}", running=n % 2 == 0, infra="count-test")
            if n % 2:
                incusd.incus("snapshot", "create", name, "first", f"--project={domain}")


async def _requests_of_status(incusd, path, per_domain: int) -> int:
    path.write_text(_infra(per_domain))
    infra = run_psot(path, gather_host_context(with_networks=False)).infra
    async with IncusClient(incusd.url) as client:
        before = client.requests
        report = await gather_status(client, infra)
        sent = client.requests - before
    listed = incus_list(incusd)
    machines = [m for d in report.domains for m in d.machines]
    assert len(machines) == 3 * per_domain
    for domain in report.domains:
        for m in domain.machines:
            real = listed[(domain.project, m.instance)]
            assert (m.state, m.snapshots) == (real["status"], len(real["snapshots"] or []))
            if m.state == "Running":
                eth0 = real["state"]["network"]["eth0"]["addresses"]
                assert m.ip in [a["address"] for a in eth0 if a["family"] == "inet"]
                assert m.ip == m.declared_ip
    assert {m.snapshots for m in machines} == {0, 1}
    return sent


@pytest.mark.anyio
async def test_status_makes_as_many_requests_for_3x10_machines_as_for_3x2(incusd, tmp_path, monkeypatch):
    isolate_host(tmp_path, monkeypatch)
    for subnet, domain in enumerate(DOMAINS):
        make_domain(incusd, domain, f"net-{domain}", f"10.121.{subnet}", infra="count-test")
    _add_machines(incusd, 0, 2)
    path = tmp_path / "infra.yml"
    small = await _requests_of_status(incusd, path, 2)
    _add_machines(incusd, 2, 10)
    large = await _requests_of_status(incusd, path, 10)
    assert small == large == 3  # projects, bridges, instances with state and snapshots


def test_the_status_verb_reads_incus_once_for_its_check_and_its_table(incusd, tmp_path, monkeypatch, capsys):
    """The whole verb, its check's stable allocation included, sends the three requests of status: the check
    is handed the bridges and instances status reads (it read them itself before, on a connection, event loop
    and thread of its own: five requests in two rounds), and what it is handed is what it would have read.
    On a local socket they are sent before the client is even imported, and the client sends nothing."""
    isolate_host(tmp_path, monkeypatch)
    monkeypatch.setenv("ANKLUME_INCUS", incusd.url)  # where the check read what was applied before
    make_domain(incusd, "va", "net-va", "10.122.0", infra="verb-count")
    make_instance(incusd, "va", "va-m0", ip="10.122.0.77", running=True, infra="verb-count")
    path = tmp_path / "infra.yml"
    path.write_text(
        "project_name: verb-count\nglobal:\n  base_subnet: '10.122'\ndomains:\n  va:\n    subnet_id: 0\n"
        "    machines:\n      va-m0: {os_image: busybox}\n      va-m1: {os_image: busybox}\n"
    )
    transports: list[IncusTransport] = []
    made = IncusTransport.__init__

    def counted(self: IncusTransport, *args, **kwargs) -> None:
        made(self, *args, **kwargs)
        transports.append(self)

    monkeypatch.setattr(IncusTransport, "__init__", counted)
    sent_first = quick_read.sent[0]
    assert cli.main(["--batch", "status", "--json", "--infra", str(path), "--incus", incusd.url]) == 0
    # on the local socket, the three go out before the client is imported (quick_read.py), and nothing else
    assert quick_read.sent[0] - sent_first == 3
    assert sum(t.requests for t in transports) == 0
    shown = json.loads(capsys.readouterr().out)
    machines = {m["name"]: m for m in shown["domains"][0]["machines"]}
    # no address declared: the check keeps the one va-m0 was given (read from Incus), so no drift
    assert (machines["va-m0"]["declared_ip"], machines["va-m0"]["drift"]) == ("10.122.0.77", "ok")
    assert machines["va-m1"]["state"] == "missing" and machines["va-m1"]["declared_ip"] != "10.122.0.77"

    async def held() -> StatusListings:
        async with IncusClient(incusd.url) as client:
            return await read_status(client)

    listings = asyncio.run(held())
    assert prior_allocation((listings.networks, listings.instances)) == gather_allocation(incusd.url)
