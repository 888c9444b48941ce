"""User themes: `$XDG_CONFIG_HOME/anklume/themes/*.tcss`, in name order, loaded after the built-in CSS so
that they override it. Each file is parsed before it is used: one that cannot be read or parsed is left out
and named in a problem, so the app still starts, with the built-in look."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

from rich.errors import MarkupError
from rich.text import Text
from textual.css.stylesheet import Stylesheet, StylesheetError, StylesheetParseError
from textual.css.tokenizer import TokenError

from .engine.host import user_themes_dir


@dataclass(frozen=True)
class ThemeProblem:
    path: Path
    reason: str

    def render(self) -> str:
        return f"{self.path}: {self.reason}"


def user_themes(variables: dict[str, str], folder: Path | None = None) -> tuple[list[Path], list[ThemeProblem]]:
    """The theme files to load, and those left out. `variables`: the app's CSS variables ($primary, …)."""
    folder = folder or user_themes_dir()
    usable, problems = [], []
    for path in sorted(folder.glob("*.tcss")) if folder.is_dir() else []:
        reason = _why_unusable(path, variables)
        if reason is None:
            usable.append(path)
        else:
            problems.append(ThemeProblem(path, reason))
    return usable, problems


def _why_unusable(path: Path, variables: dict[str, str]) -> str | None:
    try:
        css = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return f"cannot be read ({exc.strerror if isinstance(exc, OSError) else exc.reason})"
    stylesheet = Stylesheet(variables=variables)
    stylesheet.add_source(css, read_from=(str(path), ""))
    try:
        stylesheet.parse()
    except StylesheetParseError as exc:
        token, message = next(chain.from_iterable(rule.errors for rule in exc.errors.rules))
        return _plain(f"line {(token.referenced_by or token).location[0] + 1}: {getattr(message, 'summary', message)}")
    except TokenError as exc:
        return _plain(f"line {exc.start[0]}: {exc}")
    except StylesheetError as exc:
        return _plain(str(exc))
    return None


def _plain(message: str) -> str:
    """Textual's messages carry Rich markup and line breaks: one plain line. They also quote the file's own
    text, which may not be valid markup (`[/b]`): then the message is kept as it is."""
    with contextlib.suppress(MarkupError):
        message = Text.from_markup(message).plain
    return " ".join(message.split())
