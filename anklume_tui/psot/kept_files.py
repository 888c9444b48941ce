"""Files the PSOT keeps from one run to the next in the caller's state folder (the check cache, the tree
records): written atomically and private to the user, never synced to disk (one lost or cut short in a crash is
ignored, and the work it spared is done again)."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path


def keep(entry: Path, data: bytes) -> None:
    """`data` at `entry`: a temporary file renamed over it, in folders made 0700, the file 0600."""
    missing = [folder for folder in (entry.parent, *entry.parent.parents) if not folder.exists()]
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):
            folder.mkdir(mode=0o700)
    temp = entry.with_name(f".{entry.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temp, entry)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
