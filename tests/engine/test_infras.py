"""Several infras on one daemon (SPEC §8.1, §8.4, §10.8): objects carry their infra's name, and plan, prune and
flush keep to their own infra's; and protection (Incus's truth values, through a profile too) is never forced:
checked through the incus CLI."""

from __future__ import annotations

import asyncio
import json

import pytest

from anklume_tui.engine.incus import connect
from anklume_tui.engine.machines.lifecycle import Refused, Target, delete_machine
from tests.engine.apply_helpers import batch, instances, plan_json

INFRA = "user.anklume.infra"
MANAGED = "user.anklume.managed"
TEMPLATE = """\
project_name: {name}
global:
  base_subnet: "{subnet}"
  default_os_image: busybox
domains:
  {domain}:
    subnet_id: 0
    profiles:
      {profile}:
        config:
          limits.cpu: "1"
    machines:
      {domain}-1:
        ephemeral: true
        profiles: [default, {profile}]
"""
LAB_A = TEMPLATE.format(name="lab-a", subnet="10.140", domain="alpha", profile="small")
LAB_B = TEMPLATE.format(name="lab-b", subnet="10.141", domain="beta", profile="tiny")


def write(tmp_path, folder: str, text: str):
    path = tmp_path / folder / "infra.yml"
    path.parent.mkdir()
    path.write_text(text)
    return path


def apply(incusd, tmp_path, infra, *args: str) -> str:
    result = batch(incusd, tmp_path, "apply", infra, *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def names(incusd, *args: str) -> set[str]:
    return {o["name"] for o in incusd.incus_json(*args)}


def project_contents(incusd, project: str) -> dict:
    """What one domain holds in Incus, read with the CLI: to compare before and after."""
    return {
        "project": incusd.query(f"/1.0/projects/{project}")["config"],
        "bridge": incusd.query(f"/1.0/networks/net-{project}")["config"],
        "profiles": {p["name"]: p["config"] for p in incusd.incus_json("profile", "list", f"--project={project}")},
        "instances": {n: (i["status"], i["config"][INFRA]) for (p, n), i in instances(incusd).items() if p == project},
        "images": sorted(i["fingerprint"] for i in incusd.incus_json("image", "list", f"--project={project}")),
    }


def test_two_infras_on_one_daemon_plan_adopt_and_flush_only_their_own_objects(incusd, tmp_path):
    lab_a, lab_b = write(tmp_path, "a", LAB_A), write(tmp_path, "b", LAB_B)
    apply(incusd, tmp_path, lab_a)
    apply(incusd, tmp_path, lab_b)
    b_objects = project_contents(incusd, "beta")
    assert b_objects["project"][INFRA] == b_objects["bridge"][INFRA] == b_objects["profiles"]["tiny"][INFRA] == "lab-b"
    assert b_objects["instances"] == {"beta-1": ("Running", "lab-b")}
    assert incusd.query("/1.0/projects/alpha")["config"][INFRA] == "lab-a"

    # The other infra's instances are not orphans of this one: its plan is empty.
    assert plan_json(incusd, tmp_path, lab_a) == {"schema_version": 1, "actions": [], "drift": [], "orphans": []}

    # Objects made before infra tags (managed, no infra) are adopted by the next apply, shown as updates.
    incusd.incus("project", "unset", "beta", INFRA)
    incusd.incus("network", "unset", "net-beta", INFRA)
    incusd.incus("profile", "unset", "tiny", INFRA, "--project=beta")
    incusd.incus("config", "unset", "beta-1", INFRA, "--project=beta")
    plan = plan_json(incusd, tmp_path, lab_b)
    assert sorted((a["op"], a["kind"], a["name"]) for a in plan["actions"]) == [
        ("update", "instance", "beta-1"),
        ("update", "network", "net-beta"),
        ("update", "profile", "tiny"),
        ("update", "project", "beta"),
    ]
    assert {(d["field"], d["expected"], d["actual"]) for d in plan["drift"]} == {(f"config.{INFRA}", "lab-b", None)}
    apply(incusd, tmp_path, lab_b)
    assert project_contents(incusd, "beta")["instances"] == {"beta-1": ("Running", "lab-b")}
    b_objects = project_contents(incusd, "beta")
    assert b_objects["project"][INFRA] == b_objects["bridge"][INFRA] == b_objects["profiles"]["tiny"][INFRA] == "lab-b"

    # flush of lab-a leaves every object of lab-b as it was.
    flushed = batch(incusd, tmp_path, "flush", lab_a, "--yes", "--json")
    assert flushed.returncode == 0, flushed.stderr
    deleted = {(o["kind"], o["project"] or o["name"]) for o in json.loads(flushed.stdout)["objects"]}
    # alpha's own copy of the image goes with its project
    assert deleted == {
        ("instance", "alpha"),
        ("profile", "alpha"),
        ("image", "alpha"),
        ("project", "alpha"),
        ("network", "net-alpha"),
    }
    assert "alpha" not in names(incusd, "project", "list") and "net-alpha" not in names(incusd, "network", "list")
    assert project_contents(incusd, "beta") == b_objects

    # --all is every managed object, whichever infra: confirmed, then both infras' objects go.
    apply(incusd, tmp_path, lab_a)
    refused = batch(incusd, tmp_path, "flush", lab_a, "--all")
    assert refused.returncode == 4 and "--yes" in refused.stderr
    assert project_contents(incusd, "beta") == b_objects
    everything = batch(incusd, tmp_path, "flush", lab_a, "--all", "--yes")
    assert everything.returncode == 0, everything.stderr
    assert instances(incusd) == {}
    assert names(incusd, "project", "list") == {"default"}
    assert not {"net-alpha", "net-beta"} & names(incusd, "network", "list")


@pytest.fixture
def locked_orphan(incusd, tmp_path):
    """lab-a applied, plus an undeclared running instance of lab-a protected only through a profile, with
    `yes`; the profile's protection is lifted afterwards so the daemon can be reset."""
    lab_a = write(tmp_path, "a", LAB_A)
    apply(incusd, tmp_path, lab_a)
    incusd.incus("profile", "create", "locked", "--project=alpha")
    tags = (f"{MANAGED}=true", f"{INFRA}=lab-a")
    incusd.incus("profile", "set", "locked", "security.protection.delete=yes", *tags, "--project=alpha")
    incusd.incus(
        "init", "busybox", "kept", "--project=alpha", "-p", "default", "-p", "locked", *(f"-c{t}" for t in tags)
    )
    incusd.incus("start", "kept", "--project=alpha")
    yield lab_a
    incusd.incus("profile", "unset", "locked", "security.protection.delete", "--project=alpha", check=False)


def test_a_machine_protected_through_a_profile_is_never_stopped_by_prune_flush_or_delete(
    locked_orphan, incusd, tmp_path
):
    def status() -> str:
        return instances(incusd)[("alpha", "kept")]["status"]

    plan = plan_json(incusd, tmp_path, locked_orphan)
    assert plan["orphans"] == [{"project": "alpha", "name": "kept", "protected": True}]

    pruned = apply(incusd, tmp_path, locked_orphan, "--prune", "--yes")
    assert "refused: alpha/kept is protected (security.protection.delete=yes through its profiles" in pruned
    assert "incus config set kept security.protection.delete=false --project=alpha" in pruned
    assert status() == "Running"

    with pytest.raises(Refused, match="through its profiles"):
        asyncio.run(delete_machine_at(incusd.url, Target("alpha", "kept")))
    assert status() == "Running"

    flushed = batch(incusd, tmp_path, "flush", locked_orphan, "--yes", "--json")
    assert flushed.returncode == 4, flushed.stderr
    outcome = {(o["kind"], o["name"]): o for o in json.loads(flushed.stdout)["objects"]}
    kept = outcome[("instance", "kept")]
    assert kept["outcome"] == "refused" and "incus config set kept security.protection.delete=false" in kept["reason"]
    assert outcome[("instance", "alpha-1")]["outcome"] == "deleted"
    assert status() == "Running"

    # The way the refusal names works: overridden on the instance, the next flush deletes it.
    incusd.incus("config", "set", "kept", "security.protection.delete=false", "--project=alpha")
    again = batch(incusd, tmp_path, "flush", locked_orphan, "--yes")
    assert again.returncode == 0, again.stderr
    assert instances(incusd) == {}


async def delete_machine_at(url: str, target: Target) -> None:
    async with connect(url) as client:
        await delete_machine(client, target)


ZONED = """\
project_name: {name}
global:
  addressing: {{}}
  default_os_image: busybox
domains:
  {domain}:
    trust_level: trusted
{subnet_id}    machines:
      {domain}-1:
        ephemeral: true
"""


def test_a_second_infra_never_takes_a_subnet_another_infras_bridge_holds(incusd, tmp_path):
    """The tests' ANKLUME_SKIP_HOST_SUBNET_CHECK=1 (set by `batch`) turns off only the check against the host's
    own interfaces: the one against Incus's bridges still refuses."""
    lab_a = write(tmp_path, "a", ZONED.format(name="lab-a", domain="alpha", subnet_id=""))
    apply(incusd, tmp_path, lab_a)
    alpha = incusd.query("/1.0/networks/net-alpha")["config"]["ipv4.address"]
    assert alpha == "10.110.0.254/24"
    before = (names(incusd, "project", "list"), names(incusd, "network", "list"), set(instances(incusd)))

    # An explicit subnet_id landing on lab-a's bridge: refused by validate and plan, located on the key.
    lab_b = write(tmp_path, "b", ZONED.format(name="lab-b", domain="beta", subnet_id="    subnet_id: 0\n"))
    for verb in ("validate", "plan"):
        refused = batch(incusd, tmp_path, verb, lab_b)
        assert refused.returncode == 2, refused.stdout + refused.stderr
        out = refused.stdout + refused.stderr
        assert f"{lab_b}:8:16: error[H1]: SUBNET CONFLICT: Domain 'beta' uses 10.110.0.0/24" in out
        assert "overlaps Incus bridge net-alpha (10.110.0.0/24)" in out
    assert batch(incusd, tmp_path, "apply", lab_b).returncode == 2
    assert (names(incusd, "project", "list"), names(incusd, "network", "list"), set(instances(incusd))) == before

    # Without subnet_id, lab-b's domain takes the next free subnet of its zone, never lab-a's.
    lab_b.write_text(ZONED.format(name="lab-b", domain="beta", subnet_id=""))
    assert batch(incusd, tmp_path, "validate", lab_b).returncode == 0
    apply(incusd, tmp_path, lab_b)
    assert incusd.query("/1.0/networks/net-beta")["config"]["ipv4.address"] == "10.110.1.254/24"
    assert incusd.query("/1.0/networks/net-alpha")["config"]["ipv4.address"] == alpha
    assert {n: i["status"] for (_, n), i in instances(incusd).items()} == {"alpha-1": "Running", "beta-1": "Running"}
    assert plan_json(incusd, tmp_path, lab_a)["actions"] == plan_json(incusd, tmp_path, lab_b)["actions"] == []
