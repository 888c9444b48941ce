"""With --json a run prints exactly one JSON document (CLI.md), also when it ends on an error before its own:
`{"schema_version", "ok": false, "error": {"kind", "message", "exit_code"}}`, matching schemas/error.json; the
line on stderr is said as always, and without --json stdout stays empty."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from anklume_tui import cli
from tests.cli.no_incus_helpers import INFRA, NO_INCUS, batch_main, infra_here

SCHEMA = json.loads((Path(cli.__file__).parent / "schemas" / "error.json").read_text())


@pytest.fixture
def infra(tmp_path, monkeypatch):
    return infra_here(tmp_path, monkeypatch)


run = batch_main


@pytest.mark.parametrize("verb", [["status"], ["plan"], ["smoke"], ["apply", "--yes"]])
def test_incus_unreachable_with_json_prints_one_error_document(infra, capsys, verb):
    code, out, err = run(capsys, *verb, "--json", *NO_INCUS)
    assert code == 3
    document = json.loads(out)
    jsonschema.validate(document, SCHEMA)
    assert document["ok"] is False and document["error"]["kind"] == "unreachable"
    assert document["error"]["exit_code"] == 3
    assert document["error"]["message"] in err  # the same words as the stderr line


def test_without_json_stdout_stays_empty(infra, capsys):
    code, out, err = run(capsys, "status", *NO_INCUS)
    assert (code, out) == (3, "")
    assert err.startswith("error: Incus unreachable")


def test_a_refusal_is_one_document_and_a_verb_that_printed_its_own_adds_none(infra, capsys):
    # a destructive verb without --yes is refused (exit 4) before anything is printed
    code, out, _ = run(capsys, "flush", "--json", *NO_INCUS)
    assert code == 4
    assert json.loads(out)["error"]["kind"] == "refused"
    # validate prints its own document (the findings), and nothing else, even when it fails
    infra.write_text(INFRA.replace("lab-one:\n", "lab-one:\n        type: toaster\n"))
    code, out, _ = run(capsys, "validate", "--json")
    assert code == 2
    document = json.loads(out)  # one document: json.loads refuses two
    assert "error" not in document and document["valid"] is False
