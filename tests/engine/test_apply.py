"""`--batch apply` / `plan` against a throwaway real Incus; every result is read back through the incus
CLI or pylxd, never only through our own client."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from anklume_tui.engine.incus.client import IncusClient
from anklume_tui.engine.reconcile.running_check import not_running
from anklume_tui.psot.context import HostContext
from anklume_tui.psot.pipeline import run_psot
from tests.engine.apply_helpers import INSTANCES, THREE_DOMAINS, batch, instances, plan_json

MANAGED = "user.anklume.managed"
INFRA = "user.anklume.infra"  # the infra's project_name


def write_infra(tmp_path, text=THREE_DOMAINS):
    path = tmp_path / "infra.yml"
    path.write_text(text)
    return path


def test_apply_builds_three_domains_tagged_and_running(incusd, tmp_path, pylxd_reader):
    infra = write_infra(tmp_path)
    result = batch(incusd, tmp_path, "apply", infra)
    assert result.returncode == 0, result.stderr
    assert "started create instance work/work-dev" in result.stderr  # progress lines on stderr
    found = instances(incusd)
    for domain, machines in INSTANCES.items():
        project = incusd.query(f"/1.0/projects/{domain}")
        assert project["config"][MANAGED] == "true" and project["config"][INFRA] == "three"
        assert project["config"]["features.images"] == "true"
        assert project["config"]["features.networks"] == "false"
        bridge = incusd.query(f"/1.0/networks/net-{domain}")
        assert bridge["config"][MANAGED] == "true" and bridge["config"][INFRA] == "three"
        assert bridge["config"]["ipv6.address"] == "none"
        net = bridge["config"]["ipv4.address"].rsplit(".", 1)[0]
        assert bridge["config"]["ipv4.address"].endswith(".254/24")
        assert bridge["config"]["ipv4.dhcp.ranges"] == f"{net}.100-{net}.249"
        profile = incusd.query(f"/1.0/profiles/default?project={domain}")
        assert profile["devices"]["eth0"]["network"] == f"net-{domain}"
        assert profile["devices"]["eth0"]["security.ipv4_filtering"] == "true"
        assert profile["devices"]["root"] == {"type": "disk", "pool": "default", "path": "/"}
        # the local image was copied into the project's own image store
        aliases = incusd.incus_json("image", "alias", "list", f"--project={domain}")
        assert "busybox" in [a["name"] for a in aliases]
        for machine in machines:
            inst = found[(domain, machine)]
            assert inst["status"] == "Running"
            assert inst["config"][MANAGED] == "true" and inst["config"][INFRA] == "three"
    work_dev = pylxd_reader("work").instances.get("work-dev")
    assert work_dev.profiles == ["default", "small"]
    assert work_dev.config["limits.memory"] == "256MiB"
    assert work_dev.config["security.protection.delete"] == "true"
    assert work_dev.config["snapshots.schedule"] == "0 3 * * *"
    assert work_dev.devices["eth0"]["ipv4.address"] == "10.110.0.1"
    assert found[("admin", "admin-ctl")]["config"]["boot.autostart.priority"] == "10"
    assert found[("work", "work-web")]["config"]["security.protection.delete"] == "false"
    volume = incusd.query("/1.0/storage-pools/default/volumes/custom/data?project=work")
    assert volume["config"][MANAGED] == "true" and volume["config"]["size"] == "100MiB"
    assert volume["config"][INFRA] == "three"
    assert found[("work", "work-web")]["devices"]["data"]["path"] == "/data"
    small = incusd.query("/1.0/profiles/small?project=work")
    assert small["config"] == {"limits.cpu": "1", MANAGED: "true", INFRA: "three"}
    journal = (tmp_path / "anklume" / "apply-journal.jsonl").read_text().splitlines()
    assert any(json.loads(line)["event"] == "done" and json.loads(line)["name"] == "lab-box" for line in journal)


def test_created_instance_holds_its_context_files(incusd, tmp_path):
    infra = write_infra(tmp_path)
    assert batch(incusd, tmp_path, "apply", infra).returncode == 0
    files = {
        name: incusd.incus("file", "pull", f"lab-box/etc/anklume/{name}", "-", "--project=lab").stdout.strip()
        for name in ("absolute_level", "relative_level", "vm_nested", "yolo")
    }
    assert files == {"absolute_level": "1", "relative_level": "1", "vm_nested": "false", "yolo": "false"}


def test_second_apply_reports_no_actions(incusd, tmp_path):
    infra = write_infra(tmp_path)
    assert batch(incusd, tmp_path, "apply", infra).returncode == 0
    second = batch(incusd, tmp_path, "apply", infra, "--json")
    assert second.returncode == 0, second.stderr
    report = json.loads(second.stdout)
    assert report["actions"] == [] and report["ok"] is True
    assert report["pre_apply_snapshot"] is None  # a no-op apply takes no snapshot
    assert report["network_backup"] is None  # nor a network-configuration backup
    assert report["not_running"] == []  # the last check: every machine runs
    assert plan_json(incusd, tmp_path, infra) == {"schema_version": 1, "actions": [], "drift": [], "orphans": []}


def test_manual_drift_shows_in_plan_and_apply_fixes_it(incusd, tmp_path):
    infra = write_infra(tmp_path)
    assert batch(incusd, tmp_path, "apply", infra).returncode == 0
    incusd.incus("config", "set", "work-dev", "limits.memory=512MiB", "--project=work")
    incusd.incus("config", "device", "remove", "work-web", "data", "--project=work")
    incusd.incus("network", "set", "net-lab", "ipv4.nat=false")
    incusd.incus("config", "set", "lab-box", "user.extra=kept", "--project=lab")  # extra keys are not drift
    incusd.incus("stop", "admin-ctl", "--project=admin", "--force")
    plan = plan_json(incusd, tmp_path, infra)
    drift = {(d["name"], d["field"]): (d["expected"], d["actual"]) for d in plan["drift"]}
    assert drift[("work-dev", "config.limits.memory")] == ("256MiB", "512MiB")
    assert drift[("work-web", "devices.data")][1] is None
    assert drift[("net-lab", "config.ipv4.nat")] == ("true", "false")
    assert drift[("admin-ctl", "status")] == ("Running", "Stopped")
    assert not any(name == "lab-box" for name, _ in drift)
    ops = [(a["op"], a["kind"], a["name"]) for a in plan["actions"]]
    assert ops == [
        ("update", "network", "net-lab"),
        ("start", "instance", "admin-ctl"),
        ("update", "instance", "work-dev"),
        ("update", "instance", "work-web"),
    ]
    fixed = batch(incusd, tmp_path, "apply", infra, "--json")
    assert fixed.returncode == 0, fixed.stderr
    report = json.loads(fixed.stdout)
    assert report["not_running"] == []
    saved = json.loads(Path(report["network_backup"]).read_text())["networks"]  # as they were before
    assert sorted(saved) == ["net-admin", "net-lab", "net-work"]
    assert saved["net-lab"]["config"]["ipv4.nat"] == "false" and saved["net-work"]["config"]["ipv4.nat"] == "true"
    assert f"network configuration saved to {report['network_backup']}" in fixed.stderr
    found = instances(incusd)
    assert found[("work", "work-dev")]["config"]["limits.memory"] == "256MiB"
    assert found[("work", "work-web")]["devices"]["data"]["source"] == "data"
    assert found[("admin", "admin-ctl")]["status"] == "Running"
    assert found[("lab", "lab-box")]["config"]["user.extra"] == "kept"
    assert incusd.query("/1.0/networks/net-lab")["config"]["ipv4.nat"] == "true"
    # the changed instances got a pre-apply snapshot, the untouched one none
    snaps = incusd.query("/1.0/instances/work-dev/snapshots?project=work&recursion=1")
    assert [s["name"] for s in snaps if s["name"].startswith("pre-apply-")]
    assert incusd.query("/1.0/instances/lab-box/snapshots?project=lab&recursion=1") == []
    history = (tmp_path / "anklume" / "pre-apply-snapshots" / "history").read_text().split()
    assert len(history) == 1
    assert plan_json(incusd, tmp_path, infra)["actions"] == []


def test_prune_deletes_undeclared_managed_but_never_protected_or_untagged(incusd, tmp_path):
    infra = write_infra(tmp_path)
    assert batch(incusd, tmp_path, "apply", infra).returncode == 0
    ours = ("-c", f"{MANAGED}=true", "-c", "user.anklume.infra=three")
    incusd.incus("init", "busybox", "stray", "--project=lab", *ours)
    incusd.incus("init", "busybox", "keep", "--project=lab", *ours, "-c", "security.protection.delete=true")
    incusd.incus("init", "busybox", "mine", "--project=lab")
    incusd.incus("init", "busybox", "disp-20260101-000000", "--project=lab", "--ephemeral", *ours)
    plan = plan_json(incusd, tmp_path, infra)
    assert plan["orphans"] == [
        {"project": "lab", "name": "keep", "protected": True},
        {"project": "lab", "name": "stray", "protected": False},
    ]
    assert plan["actions"] == []  # without --prune nothing is deleted
    refused = batch(incusd, tmp_path, "apply", infra, "--prune")
    assert refused.returncode == 4 and "--yes" in refused.stderr
    pruned = batch(incusd, tmp_path, "apply", infra, "--prune", "--yes", "--json")
    assert pruned.returncode == 0, pruned.stderr
    report = json.loads(pruned.stdout)
    assert [(a["op"], a["name"], a["status"]) for a in report["actions"]] == [("delete", "stray", "done")]
    assert report["refused"] == [{"project": "lab", "name": "keep", "protected": True}]
    left = {name for project, name in instances(incusd) if project == "lab"}
    assert left == {"lab-box", "keep", "mine", "disp-20260101-000000"}


def test_limit_only_touches_that_domain(incusd, tmp_path):
    infra = write_infra(tmp_path)
    plan = plan_json(incusd, tmp_path, infra, "--limit", "lab")
    assert {a["project"] for a in plan["actions"]} <= {"lab", "default"}
    result = batch(incusd, tmp_path, "apply", infra, "--limit", "lab")
    assert result.returncode == 0, result.stderr
    assert set(instances(incusd)) == {("lab", "lab-box")}
    projects = {p["name"] for p in incusd.incus_json("project", "list")}
    assert projects == {"default", "lab"}
    unknown = batch(incusd, tmp_path, "plan", infra, "--limit", "nope")
    assert unknown.returncode == 2 and "nope" in unknown.stderr


def test_nesting_prefix_names_every_incus_object_and_context_files(incusd, tmp_path):
    context = tmp_path / "context"
    context.mkdir()
    (context / "absolute_level").write_text("1\n")
    (context / "relative_level").write_text("1\n")
    infra = write_infra(tmp_path)
    result = batch(incusd, tmp_path, "apply", infra, "--limit", "lab", context_dir=context)
    assert result.returncode == 0, result.stderr
    assert set(instances(incusd)) == {("001-lab", "001-lab-box")}
    assert incusd.query("/1.0/networks/001-net-lab")["config"][MANAGED] == "true"
    level = incusd.incus("file", "pull", "001-lab-box/etc/anklume/absolute_level", "-", "--project=001-lab")
    relative = incusd.incus("file", "pull", "001-lab-box/etc/anklume/relative_level", "-", "--project=001-lab")
    assert (level.stdout.strip(), relative.stdout.strip()) == ("2", "2")
    again = plan_json(incusd, tmp_path, infra, "--limit", "lab", context_dir=context)
    assert again["actions"] == []


def test_the_last_check_names_each_machine_of_the_applied_domains_that_is_not_running(incusd, tmp_path):
    infra = write_infra(tmp_path)
    assert batch(incusd, tmp_path, "apply", infra).returncode == 0
    incusd.incus("stop", "admin-ctl", "--project=admin", "--force")
    checked = run_psot(infra, HostContext(skip_subnet_check=True)).infra

    async def check(limit):
        async with IncusClient(incusd.url) as client:
            return await not_running(client, checked, limit)

    assert asyncio.run(check(None)) == ["admin/admin-ctl (Stopped)"]
    assert asyncio.run(check("lab")) == []
