"""`move` on a single daemon: every way it is refused, each before anything changes (the container keeps
running where it is, as the incus CLI shows)."""

from __future__ import annotations

import json

import jsonschema
import pytest

from anklume_tui import cli
from anklume_tui.engine.incus import MoveFailed
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
    code, _, err = move("pro-db", "--to", "member2", "--yes")
    assert code == 2 and "unknown machine 'pro-db': the infra declares pro-dev, pro-web" in err
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


async def test_a_move_incus_refuses_leaves_the_machine_running_where_it_was(incusd, incus_client):
    """Past the checks, Incus itself says no (here: a target on a daemon that is not a cluster): the machine,
    stopped for the move, is started again where it was, and the error says Incus's words and that."""
    incusd.incus("launch", "busybox", "c1")
    found = await incus_client.get_instance("c1", project="default")
    steps: list[str] = []
    with pytest.raises(MoveFailed) as refused:
        await incus_client._move(found, "member2", lambda p: steps.append(p.step))
    assert str(refused.value).startswith("Incus did not move default/c1 to member2: Target only allowed when clustered")
    assert str(refused.value).endswith("; it runs again on none")
    assert steps == ["stopping", "moving", "starting"]
    assert status(incusd, "c1", "default") == "RUNNING"
