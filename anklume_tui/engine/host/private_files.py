"""What anklume-tui keeps in its state folder is private to its user (STYLE.md): folders 0700 and files 0600
whatever the umask, and a folder or file an older version left readable by others is tightened when next
written. The logs in there hold Ansible's full output, the bridges' configuration, the apply journal."""

from __future__ import annotations

import contextlib
import json
import os
import stat
from pathlib import Path

from . import paths

FOLDER_MODE = 0o700
FILE_MODE = 0o600


def private_folder(folder: Path, root: Path | None = None) -> Path:
    """`folder`, created when missing together with the missing folders above it (0700 each, as XDG asks).
    When it lies in `root` (default: the state folder), it and each folder up to `root` included are 0700."""
    folder = Path(folder)
    root = paths.state_dir() if root is None else Path(root)
    missing = []
    current = folder
    while not current.exists() and current.parent != current:
        missing.append(current)
        current = current.parent
    for path in reversed(missing):
        with contextlib.suppress(FileExistsError):
            path.mkdir(mode=FOLDER_MODE)
    if folder.is_relative_to(root):
        for path in (folder, *folder.parents):
            if stat.S_IMODE(path.stat().st_mode) != FOLDER_MODE:
                path.chmod(FOLDER_MODE)
            if path == root:
                break
    return folder


def open_private(path: Path, flags: int) -> int:
    """A descriptor on `path` (created when missing), which is 0600 once this returns."""
    fd = os.open(path, flags | os.O_CREAT, FILE_MODE)
    try:
        if stat.S_IMODE(os.fstat(fd).st_mode) != FILE_MODE:
            os.fchmod(fd, FILE_MODE)
    except BaseException:
        os.close(fd)
        raise
    return fd


def write_private(path: Path, text: str) -> None:
    """`write_atomic` into a private folder, the file 0600."""
    from ...psot.generate import write_atomic  # the tree writer's models and YAML: not for every verb's start

    private_folder(path.parent)
    write_atomic(path, text, mode=FILE_MODE)


def append_private(path: Path, text: str) -> None:
    """Add `text` at the end of a private file in one write on an O_APPEND descriptor: concurrent writers
    never interleave inside it, and a killed process leaves whole lines."""
    private_folder(path.parent)
    fd = open_private(path, os.O_WRONLY | os.O_APPEND)
    try:
        os.write(fd, text.encode("utf-8"))
    finally:
        os.close(fd)


def read_json_lines(path: Path) -> list[dict]:
    """The JSON objects of an append-only file written by `append_private`, one a line; a missing or unreadable
    file is none, and a line a killed writer cut short (or anything not an object) is skipped."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    records = []
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return records
