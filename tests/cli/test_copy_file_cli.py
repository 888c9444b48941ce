"""copy-file without Incus: locations and the connection rule are checked before Incus is reached."""

from __future__ import annotations

import json

import jsonschema
import pytest

from anklume_tui import cli
from tests.cli.test_json_contract import ROOT
from tests.engine.incus_helpers import isolate_host
from tests.engine.test_file_transfer import INFRA

NO_INCUS = ["--incus", "unix:///nonexistent/unix.socket"]  # reaching Incus would exit 3


@pytest.fixture
def infra(tmp_path, monkeypatch):
    isolate_host(tmp_path, monkeypatch)
    path = tmp_path / "infra.yml"
    path.write_text(INFRA)
    return str(path)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(["--batch", "copy-file", *argv, *NO_INCUS])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_location_without_machine_or_absolute_path_is_a_usage_error(capsys, infra):
    code, _, err = run(capsys, "alpha-a:etc/hosts", "beta-a:/tmp/x", "--infra", infra)
    assert code == 2 and "must be absolute" in err
    code, _, err = run(capsys, "nobody:/etc/hosts", "beta-a:/tmp/x", "--infra", infra)
    assert code == 2 and "unknown machine 'nobody'" in err


def test_unconnected_machines_are_refused_before_incus_with_a_json_document(capsys, infra):
    code, out, err = run(capsys, "delta-b:/etc/hosts", "beta-a:/tmp/hosts", "--infra", infra, "--json")
    assert code == 4 and "refused: no network policy or shared volume connects domain delta and domain beta" in err
    document = json.loads(out)
    jsonschema.validate(document, json.loads((ROOT / "anklume_tui" / "schemas" / "copy-file.json").read_text()))
    assert (document["copied"], document["schema_version"]) == (False, 1)


def test_connected_machines_go_on_to_incus(capsys, infra):
    code, _, err = run(capsys, "alpha-a:/etc/hosts", "beta-a:/tmp/hosts", "--infra", infra)
    assert code == 3 and "unreachable" in err
