"""The loader reads libyaml's events once (issue 17): values as PyYAML's safe_load gives them, every node located,
and each kind of bad input one located L3 finding, in the order the former two passes reported them."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from anklume_tui.psot.yaml_nodes import parse_yaml

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("text", ["a: 1\nb: !!bool maybe\n", "a: 1\nb: !!timestamp x\n", "a: 1\nb: !!int x\n"])
def test_a_value_not_of_its_explicit_tag_is_one_l3_at_its_node(text):
    parsed = parse_yaml(text, "f.yml")
    assert parsed.data is None and [f.rule for f in parsed.findings] == ["L3"]
    assert str(parsed.findings[0].location) == "f.yml:2:4" and "invalid YAML value" in parsed.findings[0].message


@pytest.mark.parametrize(
    ("text", "where", "words"),
    [
        ("a: 1\nb: *x\n", "f.yml:2:4", "undefined alias"),
        ("a: &x 1\nb: &x 2\n", "f.yml:2:4", "duplicate anchor"),
        ("a: 1\n---\nb: 2\n", "f.yml:2:1", "single document"),
        ("a: *x\nb: [1\n", "f.yml:3:1", "flow sequence"),  # a syntax error anywhere comes before a composer error
        ("a: *x\nb: [" + "[" * 200 + "]" * 200 + "]\n", "f.yml:2:", "deeper than"),  # so does a bound
    ],
)
def test_composer_problems_are_located_and_come_after_syntax_errors_and_bounds(text, where, words):
    parsed = parse_yaml(text, "f.yml")
    assert parsed.data is None and len(parsed.findings) == 1, parsed.findings
    assert str(parsed.findings[0].location).startswith(where) and words in parsed.findings[0].message


def test_an_alias_is_built_again_and_located_at_its_anchor():
    parsed = parse_yaml("a: &x {b: [1, on]}\nc: *x\n", "f.yml")
    assert parsed.data == {"a": {"b": [1, True]}, "c": {"b": [1, True]}}
    assert parsed.data["a"] is not parsed.data["c"]  # a copy: enrichment may change one
    assert str(parsed.source.values[("c", "b", 1)]) == "f.yml:1:15"
    assert str(parsed.source.keys[("c",)]) == "f.yml:2:1"


@pytest.mark.parametrize("infra", sorted((ROOT / "examples").glob("*/infra.yml")), ids=lambda p: p.parent.name)
def test_examples_load_exactly_as_pyyaml_safe_load_reads_them(infra):
    text = infra.read_text(encoding="utf-8")
    parsed = parse_yaml(text, str(infra))
    assert parsed.findings == [] and parsed.data == yaml.safe_load(text)
    assert len(parsed.source.values) > 10
