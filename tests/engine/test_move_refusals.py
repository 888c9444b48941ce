"""`move` on a single daemon: every way it is refused, each before anything changes (the container keeps
running where it is, as the incus CLI shows)."""

from __future__ import annotations

import json

import jsonschema
import pytest

from anklume_tui import cli
from tests.cli.test_json_contract import ROOT
from tests.engine.incus_helpers import isolate_host
from tests.engine.move_helpers import machine_made, status

pytestmark = pytest.mark.incus


def test_move_is_refused_without_yes_for_an_unknown_machine_another_remote_and_off_a_cluster(
    incusd, tmp_path, monkeypatch, capsys
):
    isolate_host(tmp_path, monkeypatch)
    infra = str(machine_made(incusd, tmp_path))

    def move(*argv: str) -> tuple[int, str, str]:
        code = cli.main(["--batch", "move", *argv, "--infra", infra, "--incus", incusd.url])
        out, err = capsys.readouterr()
        return code, out, err

    code, _, err = move("pro-dev", "--to", "member2")
    assert code == 4 and "re-run with --yes" in err
    code, _, err = move("pro-web", "--to", "member2", "--yes")
    assert code == 2 and "unknown machine 'pro-web': the infra declares pro-dev" in err
    code, _, err = move("pro-dev", "--to", "other:", "--yes")
    assert code == 4 and "to remote 'other'" in err and "incus move SOURCE:pro-dev other:pro-dev --project pro" in err
    code, out, err = move("pro-dev", "--to", "member2", "--yes", "--json")
    assert code == 4
    assert f"cannot move pro/pro-dev to member 'member2': the Incus at {incusd.url} is not a cluster" in err
    document = json.loads(out)
    jsonschema.validate(document, json.loads((ROOT / "anklume_tui" / "schemas" / "move.json").read_text()))
    assert (document["moved"], document["target"], document["instance"]) == (False, "member2", "pro-dev")
    assert "is not a cluster" in document["error"]
    assert status(incusd) == "RUNNING"  # not stopped by any refusal
