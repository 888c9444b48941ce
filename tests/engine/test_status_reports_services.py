"""status --json says, per machine, the services it offers (and to whom) and the services it consumes (and how
they reach it), read from the infra: no request to Incus is added for them (issue 19)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from anklume_tui.engine.host.hostinfo import gather_host_context
from anklume_tui.engine.incus.client import IncusClient
from anklume_tui.engine.reconcile.status import gather_status
from anklume_tui.psot.pipeline import run_psot
from tests.engine.incus_helpers import batch, isolate_host
from tests.services.services_infra_helpers import provider_and_consumer

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "anklume_tui" / "schemas" / "status.json"
INFRA = provider_and_consumer("services-status", "10.122", os_image="busybox")


@pytest.fixture
def infra(tmp_path, monkeypatch):
    isolate_host(tmp_path, monkeypatch)
    path = tmp_path / "infra.yml"
    path.write_text(INFRA)
    return path


def test_status_json_lists_what_each_machine_offers_and_consumes(infra, incusd, capsys):
    code, out, err = batch(capsys, incusd, "status", "--json", "--infra", str(infra))
    assert code == 0, err
    report = json.loads(out)
    jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text())).validate(report)
    machines = {m["name"]: m for d in report["domains"] for m in d["machines"]}
    assert machines["tools-mcp"]["offers"] == [
        {
            "name": "notes",
            "protocol": "mcp",
            "port": None,
            "socket": "/run/mcp/notes.sock",
            "description": "Notes [bold]over[/] MCP",
            "consumers": ["work-dev"],
        },
        {
            "name": "search",
            "protocol": "tcp",
            "port": 8765,
            "socket": None,
            "description": "",
            "consumers": ["work-dev", "work-ops"],  # the domain's entry names each of its machines
        },
    ]
    assert machines["tools-mcp"]["uses"] == []
    search = {"provider": "tools-mcp", "name": "search", "protocol": "tcp", "port": 8765, "socket": None}
    assert machines["work-dev"]["uses"] == [
        {**search, "via": "policy"},
        {
            "provider": "tools-mcp",
            "name": "notes",
            "protocol": "mcp",
            "port": None,
            "socket": "/home/user/notes.sock",  # where it appears in the consumer, not the provider's path
            "via": "proxy",
        },
    ]
    assert machines["work-ops"]["uses"] == [{**search, "via": "policy"}]
    assert machines["work-dev"]["offers"] == machines["work-ops"]["offers"] == []


@pytest.mark.anyio
async def test_services_in_status_cost_no_request_to_incus(infra, incusd):
    model = run_psot(infra, gather_host_context(with_networks=False)).infra
    async with IncusClient(incusd.url) as client:
        report = await gather_status(client, model)
        assert client.requests == 3  # projects, bridges, instances with their state: as without services
    provider = report.domains[0].machines[0]
    assert [o.name for o in provider.offers] == ["notes", "search"]
