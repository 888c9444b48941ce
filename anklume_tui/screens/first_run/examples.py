"""The shipped examples the first-run guide offers: each with the summary its README opens with, and how it
is copied into the user's folder (one file, or the `infra/` directory form). Read in a worker."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from ...engine.host import examples_dir
from ...errors import Refused
from ...psot.generate import write_atomic


@dataclass(frozen=True)
class Example:
    name: str
    summary: str
    source: Path  # its infra.yml, or its infra/ directory

    def target(self, folder: Path) -> Path:
        return folder / ("infra" if self.source.is_dir() else "infra.yml")


def _summary(readme: Path) -> str:
    """The README's first paragraph after its title, on one line."""
    try:
        text = readme.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    paragraph: list[str] = []
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        if not line.strip():
            if paragraph:
                break
            continue
        paragraph.append(line.strip())
    return _first_sentence(" ".join(paragraph))


def _first_sentence(text: str, limit: int = 150) -> str:
    """What fits one line of the list: the first sentence, cut at a word when longer than `limit`."""
    end = text.find(". ")
    sentence = text if end < 0 else text[: end + 1]
    if len(sentence) <= limit:
        return sentence
    return sentence[:limit].rsplit(" ", 1)[0] + "…"


def shipped_examples(folder: Path | None = None) -> list[Example]:
    found = []
    for path in sorted((folder or examples_dir()).iterdir()):
        source = path / "infra.yml" if (path / "infra.yml").is_file() else path / "infra"
        if source.exists():
            found.append(Example(path.name, _summary(path / "README.md"), source))
    return found


def copy_example(example: Example, folder: Path) -> Path:
    """Copy it into `folder`; never over an existing infra."""
    target = example.target(folder)
    for taken in (folder / "infra.yml", folder / "infra"):
        if taken.exists():
            raise Refused(f"{taken} exists: the guide never writes over an infra")
    if example.source.is_dir():
        shutil.copytree(example.source, target)
    else:
        write_atomic(target, example.source.read_text(encoding="utf-8"))
    return target
