"""`snapshot create|restore|delete|list` on real containers, checked with the incus CLI."""

from __future__ import annotations

import json

import pytest

from anklume_tui.engine.machines.snapshots import origin_of
from tests.engine.apply_helpers import batch
from tests.engine.lifecycle_helpers import applied, snapshot_names

pytestmark = pytest.mark.incus


def test_origin_tells_manual_pre_apply_and_scheduled_apart():
    assert origin_of("snap-20260101-101010") == "manual"
    assert origin_of("pre-apply-20260101-101010") == "pre-apply"
    assert origin_of("snap0") == "scheduled"
    assert origin_of("snap12") == "scheduled"
    assert origin_of("auto-2026-01-01", "auto-{{ creation_date|date:'2006-01-02' }}") == "scheduled"
    assert origin_of("before-upgrade", "auto-%d") == "manual"


def test_create_on_a_domain_names_it_by_date_and_skips_an_existing_name(incusd, tmp_path):
    infra = applied(incusd, tmp_path)
    first = batch(incusd, tmp_path, "snapshot", infra, "create", "work", "--json")
    assert first.returncode == 0, first.stderr
    outcomes = json.loads(first.stdout)["outcomes"]
    assert {(o["instance"], o["outcome"]) for o in outcomes} == {("work-a", "created"), ("work-b", "created")}
    name = outcomes[0]["snapshot"]
    assert name.startswith("snap-") and len(name) == len("snap-YYYYMMDD-HHMMSS")
    assert snapshot_names(incusd, "work", "work-a") == [name]
    assert snapshot_names(incusd, "throw", "throw-box") == []
    again = batch(incusd, tmp_path, "snapshot", infra, "create", "work-a", "--name", name, "--json")
    assert again.returncode == 0, again.stderr
    assert [o["outcome"] for o in json.loads(again.stdout)["outcomes"]] == ["skipped"]


def test_create_without_target_covers_every_enabled_machine(incusd, tmp_path):
    infra = applied(incusd, tmp_path)
    result = batch(incusd, tmp_path, "snapshot", infra, "create", "--name", "all-1")
    assert result.returncode == 0, result.stderr
    for project, name in [("work", "work-a"), ("work", "work-b"), ("throw", "throw-box")]:
        assert snapshot_names(incusd, project, name) == ["all-1"]


def test_restore_brings_back_a_file_and_says_the_running_machine_restarts(incusd, tmp_path):
    infra = applied(incusd, tmp_path)
    assert batch(incusd, tmp_path, "snapshot", infra, "create", "work-a", "--name", "clean").returncode == 0
    incusd.incus("exec", "work-a", "--project=work", "--", "touch", "/root/mistake")
    refused = batch(incusd, tmp_path, "snapshot", infra, "restore", "work-a", "--name", "clean")
    assert refused.returncode == 4
    result = batch(incusd, tmp_path, "snapshot", infra, "restore", "work-a", "--name", "clean", "--yes")
    assert result.returncode == 0, result.stderr
    assert "restarts it" in result.stderr
    gone = incusd.incus("exec", "work-a", "--project=work", "--", "test", "-e", "/root/mistake", check=False)
    assert gone.returncode == 1
    state = incusd.incus_json("list", "work-a", "--project=work")[0]["status"]
    assert state == "Running"


def test_restoring_a_missing_snapshot_fails_clearly_and_changes_nothing(incusd, tmp_path):
    infra = applied(incusd, tmp_path)
    assert batch(incusd, tmp_path, "snapshot", infra, "create", "work-a", "--name", "only-a").returncode == 0
    result = batch(incusd, tmp_path, "snapshot", infra, "restore", "work", "--name", "only-a", "--yes", "--json")
    assert result.returncode == 1
    assert "'only-a' does not exist on work/work-b" in result.stderr
    assert "does not exist" in json.loads(result.stdout)["error"]
    assert snapshot_names(incusd, "work", "work-a") == ["only-a"]


def test_delete_needs_yes_and_removes_the_snapshot(incusd, tmp_path):
    infra = applied(incusd, tmp_path)
    assert batch(incusd, tmp_path, "snapshot", infra, "create", "work", "--name", "tmp").returncode == 0
    assert batch(incusd, tmp_path, "snapshot", infra, "delete", "work", "--name", "tmp").returncode == 4
    assert snapshot_names(incusd, "work", "work-a") == ["tmp"]
    result = batch(incusd, tmp_path, "snapshot", infra, "delete", "work", "--name", "tmp", "--yes")
    assert result.returncode == 0, result.stderr
    assert snapshot_names(incusd, "work", "work-a") == snapshot_names(incusd, "work", "work-b") == []


def test_list_json_shows_origin_and_expiry(incusd, tmp_path):
    infra = applied(incusd, tmp_path)
    assert batch(incusd, tmp_path, "snapshot", infra, "create", "work-a", "--name", "mine").returncode == 0
    expiring = json.dumps({"name": "snap0", "expires_at": "2099-01-01T00:00:00Z"})
    incusd.incus("query", "--wait", "-X", "POST", "--data", expiring, "/1.0/instances/work-a/snapshots?project=work")
    incusd.incus("snapshot", "create", "work-a", "pre-apply-20260101-000000", "--project=work")
    result = batch(incusd, tmp_path, "snapshot", infra, "list", "work-a", "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["schema_version"] == 1
    [timeline] = doc["instances"]
    assert (timeline["project"], timeline["instance"]) == ("work", "work-a")
    by_name = {s["name"]: s for s in timeline["snapshots"]}
    assert {n: s["origin"] for n, s in by_name.items()} == {
        "mine": "manual",
        "snap0": "scheduled",
        "pre-apply-20260101-000000": "pre-apply",
    }
    assert by_name["snap0"]["expires_at"] is not None
    assert by_name["mine"]["expires_at"] is None
    assert by_name["mine"]["created_at"]


def test_unknown_target_is_a_usage_error(incusd, tmp_path):
    infra = applied(incusd, tmp_path)
    result = batch(incusd, tmp_path, "snapshot", infra, "list", "nope")
    assert result.returncode == 2
    assert "neither a declared machine" in result.stderr


def test_pre_apply_rollback_restores_the_latest_and_fails_when_none_is_held(incusd, tmp_path):
    infra = applied(incusd, tmp_path)
    none = batch(incusd, tmp_path, "snapshot", infra, "restore", "--pre-apply", "--yes")
    assert none.returncode == 1
    assert "no pre-apply snapshot recorded" in none.stderr
    changed = infra.read_text().replace("work-a: {}", "work-a:\n        config:\n          limits.memory: 128MiB")
    infra.write_text(changed)
    result = batch(incusd, tmp_path, "apply", infra, "--no-provision")
    assert result.returncode == 0, result.stderr
    [taken] = [s for s in snapshot_names(incusd, "work", "work-a") if s.startswith("pre-apply-")]
    incusd.incus("exec", "work-a", "--project=work", "--", "touch", "/root/after-apply")
    rollback = batch(incusd, tmp_path, "snapshot", infra, "restore", "--pre-apply", "--yes", "--json")
    assert rollback.returncode == 0, rollback.stderr
    outcomes = json.loads(rollback.stdout)["outcomes"]
    assert [(o["instance"], o["snapshot"]) for o in outcomes] == [("work-a", taken)]
    gone = incusd.incus("exec", "work-a", "--project=work", "--", "test", "-e", "/root/after-apply", check=False)
    assert gone.returncode == 1
    stamp = taken.removeprefix("pre-apply-")
    assert batch(incusd, tmp_path, "snapshot", infra, "restore", "--pre-apply", stamp, "--yes").returncode == 0
    wrong = batch(incusd, tmp_path, "snapshot", infra, "restore", "--pre-apply", "19990101-000000", "--yes")
    assert wrong.returncode == 1
    assert "nothing was restored" in wrong.stderr
