"""The French pages carry the same commands and files as their English originals (issue 24): a command changed
in one language and not in the other fails here (and the English page's commands run in test_guide_commands)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.docs.guide_blocks import File, blocks, commands

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAIRS = [
    ("fr/quickstart.md", "quickstart.md"),
    ("fr/concepts.md", "concepts.md"),
    ("fr/teachers-lab.md", "guides/teachers-lab.md"),
]


@pytest.mark.parametrize(("french", "english"), PAIRS)
def test_the_french_page_has_the_commands_of_the_english_one(french, english):
    assert (DOCS / french).is_file(), f"{french} missing"
    assert commands(DOCS / french) == commands(DOCS / english)
    files = [(b.name, b.text) for b in blocks(DOCS / french) if isinstance(b, File)]
    assert files == [(b.name, b.text) for b in blocks(DOCS / english) if isinstance(b, File)]


def test_the_french_readme_has_the_readme_commands():
    root = DOCS.parent
    english = [ln for ln in (root / "README.md").read_text().splitlines() if ln.startswith("./scripts/")]
    french = [ln for ln in (root / "README_FR.md").read_text().splitlines() if ln.startswith("./scripts/")]
    assert english and french == english
