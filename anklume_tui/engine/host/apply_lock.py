"""One apply, provision or ai-switch at a time per user: `fcntl.flock` on `<state>/apply.lock` (released by the
kernel when the process dies, even on kill -9), and the apply journal `<state>/apply-journal.jsonl`."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from pathlib import Path
from typing import Any

from ...errors import Failed
from .private_files import append_private, open_private, private_folder

LOCK_FILE = "apply.lock"
JOURNAL_FILE = "apply-journal.jsonl"


class ApplyLocked(Failed):
    """Another apply, provision or ai-switch holds the lock (CLI exit code 1: the operation could not run)."""

    def __init__(self, pid: int | None) -> None:
        self.pid = pid
        super().__init__(f"another apply, provision or ai-switch is running (pid {pid if pid else 'unknown'})")


class ApplyLock:
    """`with ApplyLock(state_dir): ...` — non-blocking; raises ApplyLocked naming the holder's pid."""

    def __init__(self, state_dir: Path) -> None:
        self.path = Path(state_dir) / LOCK_FILE
        self._fd: int | None = None

    def __enter__(self) -> ApplyLock:
        private_folder(self.path.parent, root=self.path.parent)
        fd = open_private(self.path, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_pid(fd)
            os.close(fd)
            raise ApplyLocked(holder) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing releases the flock
            self._fd = None


def _read_pid(fd: int) -> int | None:
    try:
        return int(os.pread(fd, 32, 0).decode().strip() or 0) or None
    except (OSError, ValueError):
        return None


class Journal:
    """Append-only JSON lines, one per action event, flushed at once (a killed apply leaves its trace)."""

    def __init__(self, state_dir: Path, apply_id: str) -> None:
        self.path = Path(state_dir) / JOURNAL_FILE
        self.apply_id = apply_id
        private_folder(self.path.parent, root=self.path.parent)

    def write(self, event: str, **fields: Any) -> None:
        record = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "apply": self.apply_id,
            "pid": os.getpid(),
            "event": event,
            **fields,
        }
        append_private(self.path, json.dumps(record, ensure_ascii=False) + "\n")
