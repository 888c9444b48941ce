"""Shared helpers of the enrichment tests: real YAML text in, `Enriched` out."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

from anklume_tui.psot.context import HostContext
from anklume_tui.psot.enrich import Enriched, enrich
from anklume_tui.psot.load import load_infra

GIB = 1024**3


def enrich_yaml(tmp_path: Path, text: str, ctx: HostContext | None = None) -> Enriched:
    path = tmp_path / "infra.yml"
    path.write_text(dedent(text))
    loaded = load_infra(path)
    assert loaded.findings == [] and loaded.data is not None
    return enrich(loaded.data, loaded.source, ctx or HostContext())


def machine(enriched: Enriched, domain: str, name: str) -> dict:
    return enriched.data["domains"][domain]["machines"][name]


def rules(enriched: Enriched) -> list[str]:
    return [f.rule for f in enriched.findings]
