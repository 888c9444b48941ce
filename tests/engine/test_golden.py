"""`golden create|derive|publish|list` end to end on the real daemon, checked with the incus CLI."""

from __future__ import annotations

import json

import pytest

from tests.engine.apply_helpers import batch
from tests.engine.lifecycle_helpers import applied, snapshot_names

pytestmark = pytest.mark.incus


def state_of(daemon, project: str, name: str) -> dict:
    return daemon.incus_json("list", name, f"--project={project}")[0]


def has_marker(daemon, project: str, name: str) -> bool:
    found = daemon.incus("exec", name, f"--project={project}", "--", "test", "-e", "/root/golden", check=False)
    return found.returncode == 0


def test_golden_create_derive_publish_then_apply_uses_the_published_image(incusd, tmp_path):
    infra = applied(incusd, tmp_path)
    incusd.incus("exec", "work-a", "--project=work", "--", "touch", "/root/golden")
    created = batch(incusd, tmp_path, "golden", infra, "create", "work-a")
    assert created.returncode == 0, created.stderr
    assert state_of(incusd, "work", "work-a")["status"] == "Stopped"
    assert snapshot_names(incusd, "work", "work-a") == ["pristine"]
    again = batch(incusd, tmp_path, "golden", infra, "create", "work-a")  # (re)create: still one pristine
    assert again.returncode == 0, again.stderr
    assert snapshot_names(incusd, "work", "work-a") == ["pristine"]

    derived = batch(incusd, tmp_path, "golden", infra, "derive", "work-a", "work-c", "--json")
    assert derived.returncode == 0, derived.stderr
    assert json.loads(derived.stdout)["items"][0]["derived"] == "work-c"
    copy = state_of(incusd, "work", "work-c")
    assert copy["status"] == "Stopped" and copy["config"]["user.anklume.managed"] == "true"
    incusd.incus("start", "work-c", "--project=work")
    assert has_marker(incusd, "work", "work-c")
    incusd.incus("stop", "work-c", "--project=work", "--force")
    taken = batch(incusd, tmp_path, "golden", infra, "derive", "work-a", "work-c")
    assert taken.returncode == 1 and "already exists" in taken.stderr

    published = batch(incusd, tmp_path, "golden", infra, "publish", "work-a", "--alias", "golden-a", "--json")
    assert published.returncode == 0, published.stderr
    fingerprint = json.loads(published.stdout)["items"][0]["fingerprint"]
    alias = incusd.query("/1.0/images/aliases/golden-a?project=work")
    assert alias["target"] == fingerprint

    listed = batch(incusd, tmp_path, "golden", infra, "list", "--json")
    assert [(i["project"], i["instance"]) for i in json.loads(listed.stdout)["items"]] == [("work", "work-a")]

    infra.write_text(
        infra.read_text().replace("      work-b: {}\n", "      work-b: {}\n      work-g:\n        os_image: golden-a\n")
    )
    result = batch(incusd, tmp_path, "apply", infra, "--no-provision")
    assert result.returncode == 0, result.stderr
    assert state_of(incusd, "work", "work-g")["status"] == "Running"
    assert has_marker(incusd, "work", "work-g")


def test_derive_or_publish_without_pristine_fails_clearly(incusd, tmp_path):
    infra = applied(incusd, tmp_path)
    for args in (("derive", "work-b", "copy"), ("publish", "work-b")):
        result = batch(incusd, tmp_path, "golden", infra, *args)
        assert result.returncode == 1
        assert "no 'pristine' snapshot" in result.stderr
    unknown = batch(incusd, tmp_path, "golden", infra, "create", "nope")
    assert unknown.returncode == 2
