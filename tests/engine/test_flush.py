"""flush on a real daemon: refused without --yes; deletes only tagged objects of this prefix, refuses
protected instances and what they keep in use, removes only our generated files; checked with the CLI."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.engine.incus_helpers import batch, incus_list, isolate_host, make_domain, make_instance, names

INFRA = """\
project_name: flush-test
global:
  base_subnet: "10.130"
  persistent_data_base: {data}
domains:
  work:
    subnet_id: 0
    machines:
      work-keep:
        ip: 10.130.0.10
      work-tmp:
        ip: 10.130.0.11
        ephemeral: true
  lab:
    subnet_id: 1
    ephemeral: true
    machines:
      lab-a:
        ip: 10.130.1.10
        persistent_data:
          home:
            path: /home
      lab-b:
        ip: 10.130.1.11
"""


@pytest.fixture
def host_context(tmp_path, monkeypatch):
    return isolate_host(tmp_path, monkeypatch)


@pytest.fixture
def managed_system(incusd, tmp_path, capsys, host_context):
    """Two tagged domains (work holds a protected instance and a profile it uses) and untagged things
    (a project, a `net-*` bridge, instances) that flush must leave alone; plus the synced tree."""
    ours = {"infra": "flush-test"}
    make_domain(incusd, "work", "net-work", "10.130.0", **ours)
    make_domain(incusd, "lab", "net-lab", "10.130.1", **ours)
    make_instance(incusd, "work", "work-keep", ip="10.130.0.10", running=True, **ours)
    make_instance(incusd, "work", "work-tmp", ip="10.130.0.11", running=True, protected=False, **ours)
    make_instance(incusd, "lab", "lab-a", ip="10.130.1.10", running=True, protected=False, **ours)
    make_instance(incusd, "lab", "lab-b", ip="10.130.1.11", protected=False, **ours)
    tags = ("user.anklume.managed=true", "user.anklume.infra=flush-test")
    incusd.incus("profile", "create", "shared", "--project=work")
    incusd.incus("profile", "set", "shared", *tags, "--project=work")
    incusd.incus("profile", "add", "work-keep", "shared", "--project=work")
    incusd.incus("profile", "create", "extra", "--project=lab")
    incusd.incus("profile", "set", "extra", *tags, "--project=lab")
    make_domain(incusd, "mine", "net-mine", "10.131.0", tagged=False)
    make_instance(incusd, "mine", "mine-box", tagged=False, protected=False, running=True)
    make_instance(incusd, "default", "keepme", tagged=False, protected=False)

    data = tmp_path / "data"
    (data / "lab" / "lab-a" / "home").mkdir(parents=True)
    (data / "lab" / "lab-a" / "home" / "thesis.txt").write_text("precious")
    infra = tmp_path / "infra.yml"
    infra.write_text(INFRA.format(data=data))
    assert batch(capsys, incusd, "sync", "--infra", str(infra))[0] == 0
    (tmp_path / "host_vars" / "notes.yml").write_text("my_own: true\n")  # no managed marker: the user's
    with (tmp_path / "host_vars" / "lab-a.yml").open("a") as handle:
        handle.write("lab_secret_port: 8443\n")  # the user's own variable below the managed section
    return infra


def _everything(incusd, tmp_path) -> dict:
    return {
        "instances": set(incus_list(incusd)),
        "projects": names(incusd, "project", "list"),
        "networks": names(incusd, "network", "list"),
        "profiles work": names(incusd, "profile", "list", "--project=work"),
        "profiles lab": names(incusd, "profile", "list", "--project=lab"),
        "files": sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()),
    }


def test_flush_without_yes_exits_4_and_touches_nothing(managed_system, incusd, tmp_path, capsys):
    before = _everything(incusd, tmp_path)
    code, out, err = batch(capsys, incusd, "flush", "--infra", str(managed_system))
    assert code == 4
    assert "flush is destructive: re-run with --yes" in err
    assert out == ""
    assert _everything(incusd, tmp_path) == before


def image_aliases(incusd, project: str) -> dict[str, list[str]]:
    """fingerprint → aliases of a project's images (their order and use dates change as they are used)."""
    images = incusd.incus_json("image", "list", f"--project={project}")
    return {i["fingerprint"]: sorted(a["name"] for a in i["aliases"]) for i in images}


def test_flush_deletes_only_tagged_objects_refuses_protected_ones_and_keeps_user_files(
    managed_system, incusd, tmp_path, capsys
):
    default_images = image_aliases(incusd, "default")
    code, out, _ = batch(capsys, incusd, "flush", "--yes", "--json", "--infra", str(managed_system))
    assert code == 4  # something was refused
    report = json.loads(out)
    outcome = {(o["kind"], o["project"], o["name"]): o["outcome"] for o in report["objects"]}
    assert {k for k, v in outcome.items() if v == "refused"} == {
        ("instance", "work", "work-keep"),
        ("profile", "work", "shared"),
        ("project", None, "work"),
        ("network", None, "net-work"),
    }
    assert not [o for o in report["objects"] if o["outcome"] == "failed"]
    refused_instance = next(o for o in report["objects"] if o["name"] == "work-keep")
    assert "protected" in refused_instance["reason"]

    assert set(incus_list(incusd)) == {("work", "work-keep"), ("mine", "mine-box"), ("default", "keepme")}
    assert names(incusd, "project", "list") == {"default", "work", "mine"}
    assert names(incusd, "network", "list") >= {"net-work", "net-mine"}
    assert "net-lab" not in names(incusd, "network", "list")
    assert names(incusd, "profile", "list", "--project=work") == {"default", "shared"}
    assert image_aliases(incusd, "default") == default_images
    assert incus_list(incusd)[("mine", "mine-box")]["status"] == "Running"

    files = {f["path"]: f["outcome"] for f in report["files"]}
    assert files["host_vars/notes.yml"] == "kept"
    assert files["host_vars/lab-a.yml"] == "kept"
    assert files["group_vars/all.yml"] == files["inventory/work.yml"] == files["host_vars/lab-b.yml"] == "deleted"
    assert not (tmp_path / "inventory").exists() and not (tmp_path / "group_vars").exists()
    assert sorted(p.name for p in (tmp_path / "host_vars").iterdir()) == ["lab-a.yml", "notes.yml"]
    assert (tmp_path / "data" / "lab" / "lab-a" / "home" / "thesis.txt").read_text() == "precious"
    assert managed_system.exists()

    # Once the instance is no longer protected, a second flush finishes the job (exit 0).
    incusd.incus("config", "set", "work-keep", "security.protection.delete=false", "--project=work")
    code, out, err = batch(capsys, incusd, "flush", "--yes", "--infra", str(managed_system))
    assert code == 0, err
    assert "Deleted instance work/work-keep" in out
    assert set(incus_list(incusd)) == {("mine", "mine-box"), ("default", "keepme")}
    assert names(incusd, "project", "list") == {"default", "mine"}
    assert "net-work" not in names(incusd, "network", "list")
    assert "net-mine" in names(incusd, "network", "list")


def test_flush_touches_only_objects_with_this_hosts_nesting_prefix(incusd, tmp_path, capsys, host_context):
    (host_context / "absolute_level").write_text("1\n")
    make_domain(incusd, "001-lab", "001-net-lab", "10.132.0", infra="nested")
    make_instance(incusd, "001-lab", "001-lab-a", protected=False, running=True, infra="nested")
    make_domain(incusd, "lab", "net-lab", "10.132.1", infra="nested")
    make_instance(incusd, "lab", "lab-a", protected=False, infra="nested")
    infra = tmp_path / "infra.yml"
    infra.write_text("project_name: nested\nglobal:\n  base_subnet: '10.132'\ndomains:\n  lab:\n    subnet_id: 0\n")

    code, out, err = batch(capsys, incusd, "flush", "--yes", "--infra", str(infra))
    assert code == 0, err
    assert set(incus_list(incusd)) == {("lab", "lab-a")}
    assert names(incusd, "project", "list") == {"default", "lab"}
    assert "001-net-lab" not in names(incusd, "network", "list")
    assert "net-lab" in names(incusd, "network", "list")


def session_table() -> str:
    """The live isolation table, read with nft in the namespace the session's loads go to (conftest)."""
    netns = os.environ["ANKLUME_NFT_NETNS"]
    found = subprocess.run(["nsenter", f"--net={netns}", "nft", "list", "table", "inet", "anklume"], **TEXT)
    return found.stdout


TEXT = {"capture_output": True, "text": True, "check": False}


def test_flush_reloads_the_isolation_ruleset_and_each_refusal_says_how_to_go_on(
    managed_system, incusd, tmp_path, capsys
):
    incusd.incus("storage", "volume", "create", "default", "lab-data", "--project=lab")
    try:
        assert batch(capsys, incusd, "nftables", "--infra", str(managed_system))[0] == 0
        assert 'iifname "net-lab" oifname "net-lab" accept' in session_table()
        code, out, err = batch(capsys, incusd, "flush", "--yes", "--json", "--infra", str(managed_system))
        assert code == 4
        report = json.loads(out)
        # both bridges are still used (by the refused projects' profiles): both stay in the table
        assert report["isolation"]["loaded"] and report["isolation"]["bridges"] == ["net-lab", "net-work"]

        reasons = {o["name"]: o["reason"] for o in report["objects"] if o["outcome"] == "refused"}
        assert reasons["lab"] == (
            "still holds storage volumes: lab-data. To go on: delete its volumes once their data is saved or not "
            "needed (`incus storage volume delete default lab-data --project=lab`); then flush again"
        )
        assert reasons["work"].startswith("still holds instances: work-keep; profiles: shared. To go on: lift the")
        assert "`incus config set work-keep security.protection.delete=false --project=work`" in reasons["work-keep"]
        code, _, err = batch(capsys, incusd, "flush", "--yes", "--infra", str(managed_system))
        assert f"then run `anklume-tui --batch flush --yes --infra {managed_system}` again" in err

        # every command the refusals give, run as written, then the flush command: nothing is left
        for command in (reasons["lab"], reasons["work-keep"]):
            incusd.incus(*command.split("`")[1].split()[1:])
        code, _, err = batch(capsys, incusd, "flush", "--yes", "--infra", str(managed_system))
        assert code == 0, err
        assert names(incusd, "project", "list") == {"default", "mine"}
        assert "flush: isolation ruleset reloaded for the 0 bridge(s) left" in err
        table = session_table()  # the deleted bridges left the live table
        assert 'oifname "net-work" accept' not in table and 'oifname "net-lab" accept' not in table
        assert 'iifname "net-*" oifname "net-*" drop' in table
    finally:
        netns = os.environ["ANKLUME_NFT_NETNS"]
        subprocess.run(["nsenter", f"--net={netns}", "nft", "delete", "table", "inet", "anklume"], **TEXT)
