"""--json documents are a contract: each carries schema_version and matches its committed JSON Schema."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from anklume_tui.reports import SCHEMAS

ROOT = Path(__file__).resolve().parents[2]


def _writer():
    spec = importlib.util.spec_from_file_location("write_schemas", ROOT / "scripts" / "write-schemas.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("verb", sorted(SCHEMAS))
def test_committed_schema_matches_the_report_model(verb):
    committed = (ROOT / "anklume_tui" / "schemas" / f"{verb}.json").read_text()
    assert committed == _writer().schema_text(SCHEMAS[verb]), "run scripts/write-schemas.py"


@pytest.mark.parametrize("verb", sorted(SCHEMAS))
def test_every_schema_requires_schema_version(verb):
    schema = json.loads((ROOT / "anklume_tui" / "schemas" / f"{verb}.json").read_text())
    assert "schema_version" in schema["properties"]
