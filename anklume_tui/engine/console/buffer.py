"""The console's tmux paste buffer as one end of a clipboard transfer between domains (issue 21).

What a pane copies goes into the tmux server's buffers; the focus hooks (tmux.py) empty them and write the
newly focused domain to the last-domain file whenever focus moves to another domain's pane. So the newest
buffer holds text from that domain's panes, and nothing older: `read_console_buffer` gives it with that
domain. Content goes to and from tmux through a pipe, never through an argument or a shell.
"""

from __future__ import annotations

import contextlib
import subprocess
from dataclasses import dataclass
from pathlib import Path

import libtmux

from .tmux import _socket_args

BUFFER_NAME = "anklume-clipboard"


@dataclass(frozen=True)
class ConsoleBuffer:
    content: bytes
    domain: str | None  # the domain whose pane had focus last (None: unknown, no console hook ran)


def _tmux(server: libtmux.Server, *args: str, data: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        ["tmux", *_socket_args(server), *args], input=data, capture_output=True, check=False, timeout=30
    )


def read_console_buffer(server: libtmux.Server, last_domain_file: Path) -> ConsoleBuffer | None:
    """The newest tmux buffer and the domain it belongs to; None when the server holds no buffer."""
    done = _tmux(server, "show-buffer")
    if done.returncode != 0:
        return None
    domain = None
    with contextlib.suppress(OSError):
        domain = last_domain_file.read_text(encoding="utf-8").strip() or None
    return ConsoleBuffer(done.stdout, domain)


def load_console_buffer(server: libtmux.Server, content: bytes, domain: str, last_domain_file: Path) -> None:
    """Make `content` the newest buffer, to paste into `domain`'s panes (prefix + ]): the last-domain file names
    that domain first, so focusing one of its panes keeps the buffer and focusing another domain's purges it."""
    from ..host.private_files import write_private

    write_private(last_domain_file, domain)
    done = _tmux(server, "load-buffer", "-b", BUFFER_NAME, "-", data=content)
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip() or f"exit {done.returncode}"
        raise OSError(f"tmux load-buffer: {message}")
