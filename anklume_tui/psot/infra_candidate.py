"""An edited infra before it is written: its findings, its diff, and the save that refuses what is unsafe."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .context import HostContext
from .findings import Finding, Location
from .generate import write_atomic
from .infra_edit import Changes, EditRefused, InfraFiles
from .load import load_infra
from .pipeline import check_loaded
from .yaml_bounds import UnreadableInput, read_regular_file
from .yaml_nodes import SourceMap


@dataclass(frozen=True)
class CandidateCheck:
    """The full PSOT findings of the would-be infra, and where its nodes sit (to put findings by fields)."""

    findings: list[Finding]
    source: SourceMap

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.is_error]

    def by_field(self, node: tuple[Any, ...]) -> tuple[dict[str, list[Finding]], list[Finding]]:
        """Findings about the node at path `node` by its field ("name" for the node's own key), and the rest."""
        where: dict[Location, tuple[Any, ...]] = {loc: path for path, loc in self.source.values.items()}
        where.update({loc: path for path, loc in self.source.keys.items()})  # a key names its field best
        fields: dict[str, list[Finding]] = {}
        others: list[Finding] = []
        for finding in self.findings:
            path = where.get(finding.location) if finding.location else None
            if path is not None and path[: len(node)] == node:
                field = path[len(node)] if len(path) > len(node) else "name"
                fields.setdefault(str(field), []).append(finding)
            else:
                others.append(finding)
        return fields, others


def validate_candidate(files: InfraFiles, changes: Changes, ctx: HostContext) -> CandidateCheck:
    """Every rule of SPEC §4 on the infra as it would be with `changes`, writing nothing.

    Unchanged files come from `files` too: the check is of the snapshot the edit was made from.
    """
    result = check_loaded(load_infra(files.root, {**files.texts, **changes}), ctx)
    return CandidateCheck(result.findings, result.loaded.source)


def preview(files: InfraFiles, changes: Changes) -> str:
    """The unified diff, file by file, of what saving would write."""
    parts: list[str] = []
    for file, text in changes.items():
        old = files.texts.get(file)
        parts.extend(
            difflib.unified_diff(
                (old or "").splitlines(keepends=True),
                (text or "").splitlines(keepends=True),
                fromfile=str(file) if old is not None else "/dev/null",
                tofile=str(file) if text is not None else "/dev/null",
            )
        )
    return "".join(line if line.endswith("\n") else line + "\n" for line in parts)


def save(files: InfraFiles, changes: Changes, ctx: HostContext, check: CandidateCheck | None = None) -> list[Path]:
    """Write `changes` atomically, only if the result is valid and no file changed since it was read.

    `check` is `validate_candidate(files, changes, ctx)` when the caller has it already (the form);
    without it, the changes are validated here.
    """
    errors = (check or validate_candidate(files, changes, ctx)).errors
    if errors:
        rules = ", ".join(sorted({f.rule for f in errors}))
        raise EditRefused(f"not saved: {len(errors)} error(s) [{rules}]: {errors[0].render()}")
    for file in changes:
        if _on_disk(file) != files.texts.get(file):
            raise EditRefused(f"not saved: {file} changed on disk since it was read; reload (r) and edit again")
    for file, text in changes.items():
        if text is None:
            file.unlink()
        else:
            write_atomic(file, text)
    return list(changes)


def _on_disk(file: Path) -> str | None:
    try:
        return read_regular_file(file).decode("utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, UnreadableInput) as exc:
        raise EditRefused(f"not saved: cannot read {file}: {exc}") from None
