"""A model's proposed fix, as a unified diff: read (never executed), checked against what may change, applied.

Only the infra's own files and files under `roles_custom/` may change; any other path refuses the whole
patch, naming it, before anything is written. Infra edits are validated by psot (every rule) before their
atomic write; role files are written atomically, inside `roles_custom/` only (symlinks resolved).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ...errors import Invalid, Refused
from ...psot.generate import write_atomic
from ...psot.infra_candidate import save, validate_candidate
from ...psot.infra_edit import read_infra_files

ROLES_CUSTOM = "roles_custom"
# A role runs in its machine, but some of Ansible reaches the controller (this host, as root): delegation and local
# actions, lookups and queries, controller plugins, host files read by include_vars/vars_files/script/fetch or an
# absolute or ../ `src`, Jinja's dunder attributes. A model's role change that adds any of them is refused: it is
# for the user to write such a change by hand, knowingly.
_HOST_REACH = re.compile(
    r"delegate_to|delegate_facts|local_action|connection\s*:|ansible_connection|\blookup\s*\(|\bquery\s*\("
    r"|\bq\s*\(|include_vars|vars_files|\bscript\s*:|\.script\b|\bfetch\s*:|\.fetch\b|add_host|__"
    r"|\bsrc\s*:\s*[\"']?(?:/|~|\.\.)"
)
_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


class PatchRefused(Refused):
    """The patch touches a file it may not, or does not apply; nothing was written."""


@dataclass
class FilePatch:
    path: str  # relative to the infra's folder
    new_file: bool = False
    hunks: list[tuple[int, list[tuple[str, str]]]] = field(default_factory=list)  # (old start, [(tag, line)])


def extract_diff(answer: str) -> str | None:
    """The first ```diff block of the answer, else the lines from the first `--- ` on; None: no diff."""
    fenced = re.search(r"```(?:diff|patch)?[ \t]*\n(.*?)```", answer, re.S)
    if fenced and "\n+++ " in "\n" + fenced.group(1):
        return fenced.group(1)
    start = answer.find("\n--- ") if not answer.startswith("--- ") else 0
    return answer[start:].lstrip("\n") if start >= 0 and "\n+++ " in answer else None


def explanation_of(answer: str) -> str:
    """The answer's words before its diff."""
    cut = re.search(r"```(?:diff|patch)|^--- ", answer, re.M)
    return (answer[: cut.start()] if cut else answer).strip()


def parse_diff(text: str) -> list[FilePatch]:
    patches: list[FilePatch] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ "):
            old, new = _path(line[4:]), _path(lines[i + 1][4:])
            patches.append(FilePatch(new if new != "/dev/null" else old, new_file=old == "/dev/null"))
            i += 2
            continue
        match = _HUNK.match(line)
        if match and patches:
            body: list[tuple[str, str]] = []
            i += 1
            while i < len(lines) and not lines[i].startswith(("@@", "--- ")):
                tag, rest = (lines[i][:1] or " "), lines[i][1:]
                if tag in " +-":
                    body.append((tag, rest))
                i += 1
            patches[-1].hunks.append((int(match.group(1)), body))
            continue
        i += 1
    if not patches or not any(p.hunks for p in patches):
        raise PatchRefused("the proposed change is not a unified diff with at least one hunk")
    return patches


def _path(text: str) -> str:
    name = text.split("\t")[0].strip()
    if name != "/dev/null" and name[:2] in ("a/", "b/"):
        name = name[2:]
    return name


def apply_hunks(old: str, hunks: list[tuple[int, list[tuple[str, str]]]], path: str) -> str:
    lines = old.splitlines()
    for start, body in reversed(sorted(hunks, key=lambda h: h[0])):
        before = [text for tag, text in body if tag in " -"]
        after = [text for tag, text in body if tag in " +"]
        at = _find(lines, before, start - 1)
        if at is None:
            raise PatchRefused(f"{path}: the hunk at line {start} does not match the file as it is; nothing written")
        lines[at : at + len(before)] = after
    return "\n".join(lines) + "\n" if lines else ""


def _find(lines: list[str], block: list[str], hint: int) -> int | None:
    if not block:
        return max(0, min(hint + 1, len(lines)))
    if lines[hint : hint + len(block)] == block:
        return hint
    found = [i for i in range(len(lines) - len(block) + 1) if lines[i : i + len(block)] == block]
    return found[0] if len(found) == 1 else None


@dataclass
class PlannedChange:
    infra: dict[Path, str | None] = field(default_factory=dict)
    roles: dict[Path, str] = field(default_factory=dict)

    @property
    def files(self) -> list[Path]:
        return [*self.infra, *self.roles]


def plan_patch(diff: str, infra: Path, tree: Path) -> PlannedChange:
    """Every file's new text, or PatchRefused naming the first path outside what may change."""
    files = read_infra_files(infra)
    tree = tree.resolve()
    infra_files = {_relative(p, tree): p for p in files.texts}
    roles_root = (tree / ROLES_CUSTOM).resolve()
    planned = PlannedChange()
    for patch in parse_diff(diff):
        rel = PurePosixPath(patch.path)
        if rel.is_absolute() or ".." in rel.parts or not rel.parts:
            raise PatchRefused(f"the patch touches {patch.path}: only paths inside the infra's folder; nothing written")
        name = str(rel)
        if name in infra_files:
            target = infra_files[name]
            planned.infra[target] = apply_hunks(files.texts[target], patch.hunks, name)
        elif rel.parts[0] == ROLES_CUSTOM and len(rel.parts) >= 3:
            _refuse_host_reach(patch, name)
            target = tree / rel
            resolved = target.resolve()
            if not resolved.is_relative_to(roles_root) or resolved == roles_root:
                raise PatchRefused(
                    f"the patch touches {patch.path}, which leads out of {ROLES_CUSTOM}/; nothing written"
                )
            old = "" if patch.new_file else _read(target, name)
            planned.roles[target] = apply_hunks(old, patch.hunks, name)
        else:
            allowed = ", ".join(sorted(infra_files))
            raise PatchRefused(
                f"the patch touches {patch.path}: only {allowed} and files under {ROLES_CUSTOM}/<role>/ may change; "
                "nothing written"
            )
    return planned


def _refuse_host_reach(patch: FilePatch, name: str) -> None:
    """PatchRefused when a role change would run on or read from the host (see _HOST_REACH)."""
    plugins = next((part for part in PurePosixPath(name).parts if part.endswith("_plugins")), None)
    if plugins:
        raise PatchRefused(f"the patch adds {name}: {plugins} run on this host, not in the machine; nothing written")
    for _, body in patch.hunks:
        for tag, line in body:
            found = _HOST_REACH.search(line) if tag == "+" else None
            if found:
                raise PatchRefused(
                    f"the patch's change to {name} reaches this host ({found.group(0).strip()!r} in "
                    f"{line.strip()!r}): a role change that runs on or reads from the host is yours to write, "
                    "knowingly; nothing written"
                )


def apply_patch(planned: PlannedChange, infra: Path, ctx) -> list[Path]:
    """Validate the infra edit with psot (refused with its first error), then write every file atomically."""
    if planned.infra:
        files = read_infra_files(infra)
        check = validate_candidate(files, planned.infra, ctx)
        if check.errors:
            first = check.errors[0].render()
            raise PatchRefused(
                f"the patched infra is not valid ({len(check.errors)} error(s)): {first}; nothing written"
            )
    for target, text in planned.roles.items():
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(target, text)
    if planned.infra:
        save(read_infra_files(infra), planned.infra, ctx)
    return planned.files


def _relative(path: Path, tree: Path) -> str:
    try:
        return str(path.resolve().relative_to(tree))
    except ValueError:
        return str(path)


def _read(target: Path, name: str) -> str:
    try:
        return target.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PatchRefused(f"the patch changes {name}, which does not exist; nothing written") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise Invalid(f"{name}: cannot read: {exc}") from None
