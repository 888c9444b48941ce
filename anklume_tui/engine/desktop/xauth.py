"""The X server's cookie for the window marker: an X display started with `-auth` (a display manager's Xorg,
startx) lets in only clients that send its MIT-MAGIC-COOKIE-1 from $XAUTHORITY (~/.Xauthority by default).

The file is a list of entries, each a family (2 bytes, big-endian) then four counted strings (2-byte length):
address, display number, authorisation name, data (the format xauth(1) and libXau read and write).
"""

from __future__ import annotations

import os
import socket
import struct
from pathlib import Path

COOKIE = b"MIT-MAGIC-COOKIE-1"
FAMILY_LOCAL, FAMILY_WILD = 256, 65535


def authority_file() -> Path:
    return Path(os.environ.get("XAUTHORITY") or Path.home() / ".Xauthority")


def entries(data: bytes) -> list[tuple[int, bytes, bytes, bytes, bytes]]:
    """(family, address, number, name, data) of each whole entry; a cut entry at the end is dropped."""
    found: list[tuple[int, bytes, bytes, bytes, bytes]] = []
    at = 0
    while at + 2 <= len(data):
        family = struct.unpack_from(">H", data, at)[0]
        at += 2
        fields = []
        for _ in range(4):
            if at + 2 > len(data):
                return found
            size = struct.unpack_from(">H", data, at)[0]
            fields.append(data[at + 2 : at + 2 + size])
            at += 2 + size
        if at > len(data):
            return found
        found.append((family, fields[0], fields[1], fields[2], fields[3]))
    return found


def cookie(number: str, path: Path | None = None, hostname: str | None = None) -> tuple[bytes, bytes] | None:
    """The (name, data) to send to local display `number`; None when the file has none for it (or no file)."""
    try:
        data = (path or authority_file()).read_bytes()
    except OSError:
        return None
    host = (hostname or socket.gethostname()).encode()
    for family, address, display, name, secret in entries(data):
        local = family == FAMILY_WILD or (family == FAMILY_LOCAL and address == host)
        if local and display in (number.encode(), b"") and name == COOKIE:
            return name, secret
    return None
