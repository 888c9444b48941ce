"""import-infra on a real daemon: the written infra validates and gives back the domains, machines, IPs,
types and settings Incus holds (read independently with the CLI); it never overwrites the active infra;
and for a system our apply created it re-plans to 0 actions."""

from __future__ import annotations

import asyncio
import importlib.util

import pytest
import yaml

from anklume_tui import cli
from anklume_tui.engine.host.hostinfo import gather_host_context
from anklume_tui.psot.pipeline import run_psot
from tests.engine.incus_helpers import batch, incus_list, isolate_host, make_domain, make_instance

ACTIVE = "project_name: mine\nglobal:\n  base_subnet: '10.150'\ndomains: {}\n"


@pytest.fixture(autouse=True)
def _own_host_context(tmp_path, monkeypatch):
    isolate_host(tmp_path, monkeypatch)


@pytest.fixture
def active_infra(tmp_path):
    path = tmp_path / "infra.yml"
    path.write_text(ACTIVE)
    return path


@pytest.fixture
def hand_made_system(incusd):
    """Two domains in two trust zones (10.110 trusted, 10.120 semi-trusted), made with the incus CLI."""
    make_domain(incusd, "perso", "net-perso", "10.110.0")
    make_domain(incusd, "sandbox", "net-sandbox", "10.120.1")
    make_instance(
        incusd,
        "perso",
        "perso-web",
        ip="10.110.0.5",
        running=True,
        config={
            "limits.cpu": "1",
            "boot.autostart": "true",
            "boot.autostart.priority": "10",
            "snapshots.schedule": "0 2 * * *",
            "user.note": "not imported",
        },
    )
    make_instance(incusd, "perso", "perso-tmp", ip="10.110.0.6", protected=False)
    make_instance(incusd, "sandbox", "sandbox-box", ip="10.120.1.7")
    incusd.incus("profile", "create", "gui", "--project=perso")
    incusd.incus("profile", "set", "gui", "limits.memory=1GiB", "--project=perso")
    incusd.incus("profile", "add", "perso-web", "gui", "--project=perso")


def test_imported_infra_validates_and_matches_what_incus_holds(hand_made_system, incusd, active_infra, capsys):
    code, out, err = batch(capsys, incusd, "import-infra", "--infra", str(active_infra))
    assert code == 0, err
    written = active_infra.parent / "infra.imported.yml"
    assert f"Written: {written}" in out
    assert active_infra.read_text() == ACTIVE
    text = written.read_text()
    assert text.startswith("# Imported from Incus") and "REVIEW" in text

    result = run_psot(written, gather_host_context(with_networks=False))
    assert result.valid, [f.render() for f in result.findings]
    infra = result.infra
    listed = incus_list(incusd)
    imported = {(d.project, m.instance_name): (m, d) for d in infra.domains for m in d.machines}
    assert set(imported) == {key for key in listed if key[0] != "default"}
    for key, (machine, _) in imported.items():
        real = listed[key]
        assert machine.ip == real["devices"]["eth0"]["ipv4.address"]
        assert machine.type == {"container": "lxc", "virtual-machine": "vm"}[real["type"]]
        assert machine.ephemeral == (real["config"]["security.protection.delete"] != "true")
        assert machine.image == "busybox"
    domains = {d.name: d for d in infra.domains}
    assert (domains["perso"].trust_level, domains["perso"].subnet) == ("trusted", "10.110.0.0/24")
    assert (domains["sandbox"].trust_level, domains["sandbox"].subnet) == ("semi-trusted", "10.120.1.0/24")
    assert domains["perso"].profiles == {"gui": {"config": {"limits.memory": "1GiB"}}}
    web = imported[("perso", "perso-web")][0]
    assert web.config == {"limits.cpu": "1"}
    assert (web.boot_autostart, web.boot_priority, web.snapshots_schedule) == (True, 10, "0 2 * * *")
    assert web.profiles == ["default", "gui"]


def test_import_never_overwrites_the_active_infra_nor_an_existing_file_without_yes(
    hand_made_system, incusd, active_infra, capsys
):
    code, _, err = batch(capsys, incusd, "import-infra", "--infra", str(active_infra), "-o", str(active_infra))
    assert code == 4
    assert "active infra" in err
    assert active_infra.read_text() == ACTIVE

    existing = active_infra.parent / "mine.yml"
    existing.write_text("keep me\n")
    code, _, err = batch(capsys, incusd, "import-infra", "--infra", str(active_infra), "-o", str(existing))
    assert (code, existing.read_text()) == (4, "keep me\n")
    assert "--yes" in err
    code, out, err = batch(
        capsys, incusd, "import-infra", "--infra", str(active_infra), "-o", str(existing), "--yes", "--json"
    )
    assert code == 0, err
    assert yaml.safe_load(out)["domains"] == ["perso", "sandbox"]
    assert "perso-web" in existing.read_text()


ROUND_TRIP = """\
project_name: round-trip
global:
  base_subnet: "10.140"
domains:
  alpha:
    subnet_id: 2
    description: first
    machines:
      alpha-one:
        ip: 10.140.2.10
        os_image: busybox
        config:
          limits.cpu: "1"
      alpha-two:
        ip: 10.140.2.11
        os_image: busybox
        ephemeral: true
  beta:
    subnet_id: 3
    machines:
      beta-one:
        ip: 10.140.3.10
        os_image: busybox
        boot_autostart: true
"""


@pytest.mark.skipif(
    importlib.util.find_spec("anklume_tui.engine.reconcile.plan") is None or "apply" not in cli.VERBS,
    reason="needs plan and apply (helper-6)",
)
def test_infra_imported_from_what_apply_created_replans_to_no_action(incusd, tmp_path, capsys):
    from anklume_tui.engine.incus.client import IncusClient
    from anklume_tui.engine.reconcile.plan import make_plan

    source = tmp_path / "infra.yml"
    source.write_text(ROUND_TRIP)
    code, _, err = batch(capsys, incusd, "apply", "--no-provision", "--infra", str(source))
    assert code == 0, err
    imported_path = tmp_path / "back.yml"
    code, _, err = batch(capsys, incusd, "import-infra", "--infra", str(source), "-o", str(imported_path))
    assert code == 0, err

    host = gather_host_context(with_networks=False)
    original, imported = run_psot(source, host).infra, run_psot(imported_path, host).infra
    assert imported is not None
    assert [(d.name, d.subnet) for d in imported.domains] == [(d.name, d.subnet) for d in original.domains]
    assert {(m.name, m.ip, m.type, m.ephemeral) for m in imported.machines} == {
        (m.name, m.ip, m.type, m.ephemeral) for m in original.machines
    }

    async def replan():
        async with IncusClient(incusd.url) as client:
            return await make_plan(client, imported, host=host)

    plan = asyncio.run(replan())
    assert [a.public() for a in plan.actions] == []
