"""The cheap look for an `incus:` key before an infra is parsed (psot/incus_target.py) says what the pattern
with a word boundary in front (`\\bincus['"]?\\s*:`) says, for any text: it only finds it without trying the
pattern at every character."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from anklume_tui.psot.incus_target import _mentions_incus

WORD_BOUNDARY = re.compile(r"""\bincus['"]?\s*:""")
PIECES = ["incus", ":", "'", '"', " ", "\n", "\t", "_", "a", "é", "1", "-", "global:\n  ", "#"]


@given(st.lists(st.sampled_from(PIECES), max_size=12))
def test_the_look_agrees_with_the_word_boundary_pattern(pieces):
    text = "".join(pieces)
    assert _mentions_incus(text) == bool(WORD_BOUNDARY.search(text))


def test_a_key_that_merely_ends_in_incus_is_no_mention():
    assert not _mentions_incus("myincus: 1\n_incus: 2\néincus: 3\n1incus: 4\n")
    assert _mentions_incus("global:\n  incus: {}\n") and _mentions_incus('- "incus" : x') and _mentions_incus("incus:")
