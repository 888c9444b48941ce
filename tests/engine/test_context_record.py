"""Which instances hold their current context files (SPEC §5.6): apply records them on their project once
written, each with its `volatile.uuid`; an instance made again under the same name gets its files again; a
record that cannot be written leaves them to the next apply. Read back with the incus CLI."""

from __future__ import annotations

import json

import pytest

from anklume_tui.engine.incus.client import IncusClient
from anklume_tui.engine.incus.models import Instance, Project
from anklume_tui.engine.reconcile.apply import ApplyEvent, apply
from anklume_tui.engine.reconcile.context_record import (
    RECORD_KEY,
    UUID_KEY,
    context_stamps,
    read_record,
    updated_record,
)
from anklume_tui.engine.reconcile.desired import CONTEXT_KEY
from tests.engine.apply_helpers import THREE_DOMAINS, batch, plan_json
from tests.engine.fault_helpers import inject
from tests.engine.incus_helpers import isolate_host
from tests.engine.nft_helpers import infra_from
from tests.engine.test_apply import write_infra

STAMP = "absolute_level=1 relative_level=1 vm_nested=false yolo=false"


def box(name: str, uuid: str, **config: str) -> Instance:
    return Instance(name=name, project="lab", config={UUID_KEY: uuid, **config})


def project(record: object) -> Project:
    return Project(name="lab", config={RECORD_KEY: record if isinstance(record, str) else json.dumps(record)})


@pytest.mark.parametrize(
    "text",
    ["not json", "[1, 2]", '"a string"', '{"box": "u1"}', '{"box": ["u1"]}', '{"box": ["u1", 2]}', "{{"],
)
def test_a_record_of_another_shape_reads_as_no_record(text):
    assert read_record({RECORD_KEY: text}) == {}


def test_a_recorded_stamp_counts_only_for_the_instance_it_was_written_in():
    projects = {"lab": project({"box": ["u1", STAMP], "gone": ["u9", STAMP], "other": ["u3", STAMP]})}
    instances = {("lab", "box"): box("box", "u1"), ("lab", "other"): box("other", "u4")}
    assert context_stamps(projects, instances) == {("lab", "box"): STAMP}


def test_a_stamp_an_earlier_version_left_on_the_instance_still_counts_unless_the_project_records_one():
    projects = {"lab": project({"new": ["u2", "new stamp"]})}
    instances = {
        ("lab", "old"): box("old", "u1", **{CONTEXT_KEY: "old stamp"}),
        ("lab", "new"): box("new", "u2", **{CONTEXT_KEY: "old stamp"}),
    }
    assert context_stamps(projects, instances) == {("lab", "old"): "old stamp", ("lab", "new"): "new stamp"}


def test_the_record_gains_the_written_ones_and_drops_the_instances_gone_or_made_again():
    config = {RECORD_KEY: json.dumps({"kept": ["u1", "s1"], "gone": ["u2", "s2"], "remade": ["u3", "s3"]})}
    now = [box("kept", "u1"), box("remade", "u7"), box("new", "u8")]
    text = updated_record(config, now, {"new": "s8"})
    assert text is not None and json.loads(text) == {"kept": ["u1", "s1"], "new": ["u8", "s8"]}
    assert updated_record({RECORD_KEY: text}, now, {"new": "s8"}) is None  # unchanged: not written again
    assert updated_record({}, [], {}) == "{}"


def test_apply_records_the_files_on_the_project_and_writes_them_again_in_an_instance_made_again(incusd, tmp_path):
    infra = write_infra(tmp_path)
    first = batch(incusd, tmp_path, "apply", infra, "--limit", "lab")
    assert first.returncode == 0, first.stderr
    made = incusd.query("/1.0/instances/lab-box?project=lab")["config"]
    assert CONTEXT_KEY not in made  # one write per project, none per instance
    record = json.loads(incusd.query("/1.0/projects/lab")["config"][RECORD_KEY])
    assert record == {"lab-box": [made[UUID_KEY], record["lab-box"][1]]}
    assert record["lab-box"][1].startswith("absolute_level=1 ")
    assert plan_json(incusd, tmp_path, infra, "--limit", "lab")["actions"] == []

    incusd.incus("config", "set", "lab-box", "security.protection.delete=false", "--project=lab")
    incusd.incus("delete", "lab-box", "--force", "--project=lab")
    incusd.incus("launch", "busybox", "lab-box", "--project=lab")  # no /etc/anklume in it
    again = plan_json(incusd, tmp_path, infra, "--limit", "lab")
    assert [(a["op"], a["name"]) for a in again["actions"]] == [("update", "lab-box")]
    assert f"config.{CONTEXT_KEY}" in again["actions"][0]["detail"]
    second = batch(incusd, tmp_path, "apply", infra, "--limit", "lab")
    assert second.returncode == 0, second.stderr
    pulled = incusd.incus("file", "pull", "lab-box/etc/anklume/absolute_level", "-", "--project=lab").stdout
    assert pulled == "1\n"
    remade = incusd.query("/1.0/instances/lab-box?project=lab")["config"][UUID_KEY]
    assert remade != made[UUID_KEY]
    assert json.loads(incusd.query("/1.0/projects/lab")["config"][RECORD_KEY])["lab-box"][0] == remade
    assert plan_json(incusd, tmp_path, infra, "--limit", "lab")["actions"] == []


@pytest.mark.anyio
async def test_files_whose_record_failed_are_written_again_by_the_next_apply(incusd, tmp_path, monkeypatch):
    isolate_host(tmp_path, monkeypatch)
    monkeypatch.setenv("ANKLUME_NFT_NETNS", f"/proc/{incusd.pid}/ns/net")
    monkeypatch.setenv("ANKLUME_NFT_PERSIST_DIR", str(tmp_path / "persist"))
    (tmp_path / "persist").mkdir()
    infra = infra_from(THREE_DOMAINS, tmp_path)
    notes: list[ApplyEvent] = []
    try:
        async with IncusClient(incusd.url) as client:
            fault = inject(client, "/1.0/projects/lab", failures=1, error="not now")
            first = await apply(client, infra, limit="lab", state_dir=tmp_path / "state", on_event=notes.append)
            assert first.ok and fault.seen == 1
            assert RECORD_KEY not in incusd.query("/1.0/projects/lab")["config"]
            said = [e.message for e in notes if "could not be recorded" in e.message]
            why = "not now (GET /1.0/projects/lab, HTTP 500)"
            assert said == [
                f"the context files written could not be recorded ({why}); the next apply writes them again"
            ]
            second = await apply(client, infra, limit="lab", state_dir=tmp_path / "state")
    finally:
        incusd.nsenter("nft", "delete", "table", "inet", "anklume", check=False)
    assert second.ok
    assert [(a.op, a.name, "context" in a.changes) for a in second.plan.actions] == [("update", "lab-box", True)]
    record = json.loads(incusd.query("/1.0/projects/lab")["config"][RECORD_KEY])
    assert list(record) == ["lab-box"]
