"""status on a real daemon: one running, one stopped (drifting, with snapshots), one missing instance and a
disabled domain; every value checked against `incus list --format json`, not our client."""

from __future__ import annotations

import json

import pytest

from anklume_tui import cli
from anklume_tui.engine.host.hostinfo import gather_host_context
from anklume_tui.engine.incus.client import IncusClient
from anklume_tui.engine.reconcile.status import gather_status
from anklume_tui.psot.pipeline import run_psot
from tests.engine.incus_helpers import batch, incus_list, isolate_host, make_domain, make_instance

INFRA = """\
project_name: status-test
global:
  base_subnet: "10.120"
domains:
  work:
    subnet_id: 0
    machines:
      work-run:
        ip: 10.120.0.11
        os_image: busybox
        config:
          limits.cpu: "1"
      work-stop:
        ip: 10.120.0.12
        os_image: busybox
        config:
          limits.cpu: "1"
      work-gone:
        ip: 10.120.0.13
        os_image: busybox
  old:
    enabled: false
    subnet_id: 1
    machines:
      old-box: {}
"""
COLUMNS = ["DOMAIN", "MACHINE", "INSTANCE", "STATE", "TYPE", "IP", "PROTECTED", "SNAPSHOTS", "DRIFT"]


@pytest.fixture(autouse=True)
def _own_host_context(tmp_path, monkeypatch):
    isolate_host(tmp_path, monkeypatch)


@pytest.fixture
def small_setup(incusd, tmp_path):
    ours = {"infra": "status-test"}
    make_domain(incusd, "work", "net-work", "10.120.0", **ours)
    make_instance(incusd, "work", "work-run", ip="10.120.0.11", running=True, config={"limits.cpu": "1"}, **ours)
    make_instance(incusd, "work", "work-stop", ip="10.120.0.12", config={"limits.cpu": "2"}, **ours)
    for snapshot in ("one", "two"):
        incusd.incus("snapshot", "create", "work-stop", snapshot, "--project=work")
    path = tmp_path / "infra.yml"
    path.write_text(INFRA)
    return path


def _machines(report: dict) -> dict[str, dict]:
    return {m["name"]: m for d in report["domains"] for m in d["machines"]}


def test_status_json_reports_real_state_ip_protection_snapshots_and_drift_as_incus_list_shows(
    small_setup, incusd, capsys
):
    code, out, _ = batch(capsys, incusd, "status", "--json", "--infra", str(small_setup))
    assert code == 0
    report = json.loads(out)
    assert report["schema_version"] == 1
    machines = _machines(report)
    listed = incus_list(incusd)

    for name in ("work-run", "work-stop"):
        real = listed[("work", name)]
        mine = machines[name]
        assert mine["state"] == real["status"]
        assert mine["snapshots"] == len(real["snapshots"] or [])
        assert mine["protected"] == (real["expanded_config"]["security.protection.delete"] == "true")
        assert mine["type"] == "lxc" and real["type"] == "container"
    eth0 = listed[("work", "work-run")]["state"]["network"]["eth0"]["addresses"]
    live = [a["address"] for a in eth0 if a["family"] == "inet" and a["scope"] == "global"]
    assert [machines["work-run"]["ip"]] == live == ["10.120.0.11"]
    assert (machines["work-run"]["state"], machines["work-run"]["drift"]) == ("Running", "ok")
    assert (machines["work-stop"]["state"], machines["work-stop"]["snapshots"]) == ("Stopped", 2)
    assert machines["work-run"]["declared_ip"] == "10.120.0.11"
    # stopped: no live address; the declared one is told apart from it
    assert (machines["work-stop"]["ip"], machines["work-stop"]["declared_ip"]) == (None, "10.120.0.12")
    assert machines["work-stop"]["drift"] == "drift"
    assert "status: 'Stopped' → 'Running'" in machines["work-stop"]["differences"]
    assert any("limits.cpu" in line and "'2'" in line for line in machines["work-stop"]["differences"])
    assert ("work", "work-gone") not in listed
    assert machines["work-gone"] == {
        "name": "work-gone",
        "instance": "work-gone",
        "state": "missing",
        "type": "lxc",
        "ip": None,
        "declared_ip": "10.120.0.13",
        "protected": None,
        "snapshots": None,
        "drift": "missing",
        "differences": [],
        "offers": [],
        "uses": [],
        "location": None,
    }
    assert machines["work-run"]["location"] is None  # off a cluster, Incus's location 'none' is no member
    assert machines["old-box"]["drift"] == "disabled"
    domains = {d["name"]: d for d in report["domains"]}
    assert (domains["work"]["exists"], domains["work"]["network_exists"]) == (True, True)
    assert (domains["old"]["exists"], domains["old"]["enabled"]) == (False, False)
    assert domains["work"]["trust_level"] == "semi-trusted"


def test_status_text_is_a_table_with_one_row_per_machine(small_setup, incusd, capsys):
    code, out, _ = batch(capsys, incusd, "status", "--details", "--infra", str(small_setup))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == COLUMNS
    row = next(line for line in lines if " work-stop " in line).split()
    assert row[3:] == ["Stopped", "lxc", "10.120.0.12", "(declared)", "yes", "2", "drift"]
    running = next(line for line in lines if " work-run " in line).split()
    assert running[5:7] == ["10.120.0.11", "yes"]  # live, and what was declared: nothing to mark
    assert next(line for line in lines if " work-gone " in line).split()[5:7] == ["not", "created"]
    assert any("limits.cpu" in line for line in lines)
    assert lines[-1].startswith("2 domain(s), 4 machine(s)")


def test_a_stopped_machine_plan_would_start_is_drift_not_ok(small_setup, incusd, capsys):
    incusd.incus("config", "set", "work-stop", "limits.cpu=1", "--project=work")  # nothing else differs
    code, out, _ = batch(capsys, incusd, "status", "--json", "--infra", str(small_setup))
    assert code == 0
    stopped = _machines(json.loads(out))["work-stop"]
    assert (stopped["drift"], stopped["differences"]) == ("drift", ["status: 'Stopped' → 'Running'"])
    code, out, _ = batch(capsys, incusd, "plan", "--json", "--infra", str(small_setup))
    assert "work-stop" in {a["name"] for a in json.loads(out)["actions"]}  # plan wants it Running


@pytest.mark.anyio
async def test_status_reads_incus_in_a_bounded_number_of_requests(small_setup, incusd):
    infra = run_psot(small_setup, gather_host_context(with_networks=False)).infra
    async with IncusClient(incusd.url) as client:
        report = await gather_status(client, infra)
        # projects, bridges, and every instance with its state and snapshots
        assert client.requests == 3
    assert [d.name for d in report.domains] == ["work", "old"]


def test_status_with_incus_down_exits_3(tmp_path, capsys):
    path = tmp_path / "infra.yml"
    path.write_text(INFRA)
    code = cli.main(["--batch", "status", "--infra", str(path), "--incus", f"unix://{tmp_path}/nothing.socket"])
    assert code == 3
    assert "unreachable" in capsys.readouterr().err.lower()


def test_status_with_an_invalid_infra_exits_2(tmp_path, capsys):
    path = tmp_path / "infra.yml"
    path.write_text("project_name: x\n")
    assert cli.main(["--batch", "status", "--infra", str(path), "--incus", f"unix://{tmp_path}/none"]) == 2


def test_disposables_living_in_a_domain_are_reported_under_it_wherever_they_were_made(small_setup, incusd, capsys):
    incusd.incus("launch", "busybox", "disp-elsewhere", "--ephemeral", "--project=work")
    incusd.incus("launch", "busybox", "kept-by-hand", "--ephemeral", "--project=work")  # not a disposable's name
    code, out, _ = batch(capsys, incusd, "status", "--json", "--infra", str(small_setup))
    assert code == 0
    domains = {d["name"]: d for d in json.loads(out)["domains"]}
    assert domains["work"]["disposables"] == [{"name": "disp-elsewhere", "state": "Running", "type": "lxc"}]
    assert domains["old"]["disposables"] == []
    code, out, _ = batch(capsys, incusd, "status", "--infra", str(small_setup))
    row = next(line for line in out.splitlines() if "disp-elsewhere" in line).split()
    assert row[:5] == ["work", "(disposable)", "disp-elsewhere", "Running", "lxc"]
    assert out.splitlines()[-1].startswith("2 domain(s), 4 machine(s), 1 disposable(s)")
