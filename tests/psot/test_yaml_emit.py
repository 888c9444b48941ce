"""The block-style emitter: its layout, and that every output reads back as its input."""

from __future__ import annotations

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from anklume_tui.psot.yaml_emit import emit

TRICKY = [
    "yes",
    "no",
    "on",
    "off",
    "Yes",
    "y",
    "n",
    "010",
    "0x1f",
    "1_000",
    "1:20",
    "1e3",
    ".inf",
    "null",
    "~",
    "",
    " lead",
    "trail ",
    "a: b",
    "#x",
    "x #y",
    "- x",
    "? x",
    "[a]",
    "{a}",
    "&a",
    "*a",
    "!t",
    "|",
    ">",
    "%x",
    "@x",
    "`x",
    "'q'",
    '"q"',
    "---",
    "...",
    "2024-01-01",
    "é",
    "日本",
    "a\nb",
    "a\n b",
    "\n",
    "x\ty",
    "\u2028",
    "\x85",
    "\ufeffbom",
    "=",
    "<<",
    "a" * 1100,
]
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.sampled_from(TRICKY)
    | st.text(max_size=30)
    | st.dates()
    | st.binary(max_size=80)
)
keys = st.sampled_from(TRICKY) | st.text(max_size=20) | st.integers() | st.booleans()
documents = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=25,
)


@settings(max_examples=400)
@given(documents)
def test_emitted_yaml_reads_back_as_the_input(value):
    assert yaml.safe_load(emit(value)) == value


def test_lists_are_indented_under_their_key_and_null_is_empty():
    assert emit({"key": ["a", None, 1], "none": None}) == "key:\n  - a\n  -\n  - 1\nnone:\n"


def test_mappings_inside_list_items_start_on_the_dash_line():
    assert emit({"l": [{"a": 1, "b": {"c": 2}}, [1, 2]]}) == ("l:\n  - a: 1\n    b:\n      c: 2\n  - - 1\n    - 2\n")


def test_empty_collections_are_written_inline():
    assert emit({"m": {}, "l": []}) == "m: {}\nl: []\n"


def test_insertion_order_is_kept():
    assert emit({"z": 1, "a": 2}) == "z: 1\na: 2\n"


def test_scalars_that_would_read_as_another_type_are_quoted():
    assert emit({"a": "yes", "b": "010", "c": "1:20", "d": "", "e": " x"}) == (
        "a: 'yes'\nb: '010'\nc: '1:20'\nd: ''\ne: ' x'\n"
    )


def test_multiline_strings_stay_on_one_line():
    assert emit({"a": ["x\ny"]}) == 'a:\n  - "x\\ny"\n'


def test_unicode_is_kept():
    assert emit({"é": "日本"}) == "é: 日本\n"
