"""What the last sync left in the generated tree, kept so that a sync of an unchanged infra into an unchanged tree
knows it without reading the tree or importing the writer (issue 17).

After a sync, each generated file's status (device, inode, mode, size, modification and change times) is kept
in one file per output folder (the caller's folder: the state folder), beside the key of the check its
sections came from (check_cache.py: the infra's bytes, the host context, this package's code) and a digest of
those sections. A sync under the same key with the same sections, into a tree whose every file has the very
status kept and whose folders hold no other `.yml` (an orphan to report), writes nothing and reports every file
unchanged, as reading them would have; anything else is synced as before (generate.sync_files), which reads
every file and writes those whose bytes change, and is kept afresh.

A status proves a file unchanged because the kernel sets a file's change time on every change (its bytes, its
mode, a rename over it) and no call sets it back. A change made in the same clock tick as the status was taken
could leave it as it was, so a file changed less than MARGIN_NS before the status was taken (more on a file
system keeping whole milliseconds or seconds) keeps a digest of its checked text as well, and the next sync
reads it and compares that digest.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .kept_files import keep
from .yaml_bounds import UnreadableInput, read_regular_file

if TYPE_CHECKING:
    from .check_cache import Checked
    from .orphans import OrphanFile

FORMAT = "anklume-tree-record 1"
MARGIN_NS = 50_000_000  # a clock tick (1-10 ms) and the file system clock's lag behind time.time_ns, with room
COARSE_MARGIN_NS = 2_500_000_000  # file systems keeping whole milliseconds, seconds or two seconds (FAT)

Status = list[int]  # st_dev, st_ino, st_mode, st_size, st_mtime_ns, st_ctime_ns


@dataclass(frozen=True)
class TreeSync:
    """What a sync did (or, in a dry run, would do), as generate.SyncReport says it."""

    dry_run: bool
    written: list[str]
    unchanged: list[str]
    orphans: list[OrphanFile]
    deleted: list[str]
    skipped: list[str]


def record_folder(state: Path) -> Path:
    """Where the records are kept in the state folder `state`."""
    return state / "psot-trees"


def sync_checked(out_dir: Path, checked: Checked, records: Path, *, dry_run: bool, clean_orphans: bool) -> TreeSync:
    """The tree under `out_dir` brought up to date with `checked`'s files, or known to be (its record in
    `records` says so); kept afresh after a sync that reads it."""
    files = checked.files
    if files is None:
        raise ValueError("a check without its files")
    entry = records / f"{hashlib.sha256(os.fsencode(os.path.abspath(out_dir))).hexdigest()[:32]}.json"
    sections = _sections_digest(checked)
    if checked.key is not None and _unchanged(entry, out_dir, checked, sections):
        return TreeSync(dry_run, [], list(files), [], [], [])
    from .generate import sync_files  # the writer, its models and YAML: only when the tree is read

    boundary = time.time_ns()  # before any file is read or written: what changed since shows a later time
    seen: dict[str, tuple[os.stat_result, str]] | None = None if dry_run else {}
    report = sync_files(
        out_dir, files, checked.domains, checked.machines, dry_run=dry_run, clean_orphans=clean_orphans, seen=seen
    )
    if seen is not None:
        kept = [(relative, _status(seen[relative][0]), seen[relative][1]) for relative in files if relative in seen]
        with contextlib.suppress(OSError):
            if checked.key is not None and len(kept) == len(files):
                _write(entry, out_dir, checked, sections, boundary, kept)
            else:  # a symlink in the tree, or no key: read every time, as before
                entry.unlink(missing_ok=True)
    return TreeSync(report.dry_run, report.written, report.unchanged, report.orphans, report.deleted, report.skipped)


def _sections_digest(checked: Checked) -> str:
    digest = hashlib.sha256()
    for relative, body in (checked.files or {}).items():
        digest.update(f"{relative}\0{len(body)}\0{body}\0".encode("utf-8", "surrogateescape"))
    for names in (checked.domains, checked.machines):
        digest.update("\0".join(sorted(names)).encode("utf-8", "surrogateescape") + b"\0\0")
    return digest.hexdigest()


def _status(info: os.stat_result) -> Status:
    return [info.st_dev, info.st_ino, info.st_mode, info.st_size, info.st_mtime_ns, info.st_ctime_ns]


def _text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


def _recent(status: Status, boundary: int) -> bool:
    """Whether the file's last change may share a clock tick with `boundary` (a status taken then could miss
    a change made right after it)."""
    changed = status[5]
    return changed >= boundary - (COARSE_MARGIN_NS if changed % 1_000_000 == 0 else MARGIN_NS)


def _unchanged(entry: Path, out_dir: Path, checked: Checked, sections: str) -> bool:
    """Whether the record at `entry` proves every generated file as the last sync left it (and right for
    `checked`) and no orphan beside them; a recent file is read and its digest compared, then kept as checked
    now."""
    boundary = time.time_ns()  # before any status is taken
    try:
        with open(entry, "rb") as handle:
            kept = json.loads(handle.read())
        if (kept["format"], kept["out"], kept["key"], kept["sections"]) != (
            FORMAT,
            os.path.abspath(out_dir),
            checked.key,
            sections,
        ):
            return False
        recorded = kept["files"]
        if [item[0] for item in recorded] != list(checked.files or {}):  # each file once, in write order
            return False
        read_now = []
        for relative, status, digest in recorded:
            path = os.path.join(out_dir, relative)
            if _status(os.lstat(path)) != status:
                return False
            if digest is not None:  # a plain file: its status, mode included, is the one kept
                text = read_regular_file(Path(path)).decode("utf-8", "surrogateescape")
                if _text_digest(text) != digest:
                    return False
                read_now.append(relative)
    except (OSError, ValueError, KeyError, TypeError, UnreadableInput):
        return False
    if _orphan_candidates(out_dir, checked):
        return False
    if read_now:  # proven now: kept with this run's time, so the next run need not read them again
        with contextlib.suppress(OSError):
            _rewrite(entry, kept, boundary)
    return True


def _orphan_candidates(out_dir: Path, checked: Checked) -> bool:
    """Whether a folder of the tree holds a `.yml` no domain or machine accounts for: an orphan for
    psot/orphans.py to judge and report (its names, as it takes them)."""
    known = {
        "inventory": checked.domains,
        "group_vars": checked.domains | {"all"},
        "host_vars": checked.machines,
    }
    for folder, names in known.items():
        try:
            entries = os.listdir(os.path.join(out_dir, folder))
        except (FileNotFoundError, NotADirectoryError):
            continue
        if any(name.endswith(".yml") and name[:-4] not in names for name in entries):
            return True
    return False


def _entries(kept: list[tuple[str, Status, str]], boundary: int) -> Iterator[list[Any]]:
    for relative, status, text in kept:
        yield [relative, status, _text_digest(text) if _recent(status, boundary) else None]


def _write(
    entry: Path, out_dir: Path, checked: Checked, sections: str, boundary: int, kept: list[tuple[str, Status, str]]
) -> None:
    body = {
        "format": FORMAT,
        "out": os.path.abspath(out_dir),
        "key": checked.key,
        "sections": sections,
        "files": list(_entries(kept, boundary)),
    }
    _store(entry, body)


def _rewrite(entry: Path, kept: dict[str, Any], boundary: int) -> None:
    """The record `kept`, its files read and found right in this run judged recent or not against `boundary`."""
    for item in kept["files"]:
        if item[2] is not None and not _recent(item[1], boundary):
            item[2] = None
    _store(entry, kept)


def _store(entry: Path, body: dict[str, Any]) -> None:
    """Kept as kept_files keeps (atomic, private): a record lost or cut short in a crash is ignored and the tree
    read again."""
    keep(entry, json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogateescape"))
