"""Screenshots of the headless displays as RGB pixels, saved as PNG test artefacts.

X (Xvfb): a GetImage request of our own on the root window. sway: `grim -t ppm` (binary PPM). The PNG writer
is the standard library's zlib: no imaging package is needed. Artefacts go to `$ANKLUME_TEST_ARTIFACTS`
(default `test-artifacts/` at the checkout's top, gitignored), one folder per area.
"""

from __future__ import annotations

import os
import socket
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

TOP = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Screenshot:
    width: int
    height: int
    rgb: bytes  # width * height * 3 bytes, rows top to bottom

    def pixel(self, x: int, y: int) -> tuple[int, int, int]:
        i = (y * self.width + x) * 3
        return self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]

    def count(self, colour: str, box: tuple[int, int, int, int] | None = None) -> int:
        """How many pixels are exactly `colour` (#rrggbb), in `box` (x, y, width, height) or everywhere."""
        want = bytes.fromhex(colour.lstrip("#"))
        x0, y0, w, h = box or (0, 0, self.width, self.height)
        found = 0
        for y in range(max(y0, 0), min(y0 + h, self.height)):
            row = self.rgb[(y * self.width + x0) * 3 : (y * self.width + min(x0 + w, self.width)) * 3]
            found += sum(1 for i in range(0, len(row), 3) if row[i : i + 3] == want)
        return found

    def png(self) -> bytes:
        def chunk(kind: bytes, data: bytes) -> bytes:
            return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

        stride = self.width * 3
        raw = b"".join(b"\0" + self.rgb[y * stride : (y + 1) * stride] for y in range(self.height))
        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)
        return (
            b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b"")
        )


def artifacts_dir(area: str) -> Path:
    base = Path(os.environ.get("ANKLUME_TEST_ARTIFACTS") or TOP / "test-artifacts")
    folder = base / area
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def save_png(shot: Screenshot, area: str, name: str) -> Path:
    path = artifacts_dir(area) / f"{name}.png"
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(shot.png())
    tmp.replace(path)
    return path


def _read_exact(sock: socket.socket, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            raise ConnectionError("the X server closed the connection")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def x_screenshot(socket_path: Path) -> Screenshot:
    """The root window of the X server at `socket_path`, read with a GetImage request (ZPixmap): the server's
    depth-24 pixels are 32 bits each, 0x00RRGGBB (xwd's file of an i3 screen says 24 bits a pixel with rows of
    32: not trusted here)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(str(socket_path))
        sock.sendall(struct.pack("<BxHHHHxx", ord("l"), 11, 0, 0, 0))
        status, _, _, _, length = struct.unpack("<BBHHH", _read_exact(sock, 8))
        body = _read_exact(sock, length * 4)
        if status != 1:
            raise ConnectionError(f"X setup refused: {body[:80]!r}")
        vendor_len, _, _, n_formats = struct.unpack_from("<HHBB", body, 16)
        screen = 32 + (vendor_len + 3) // 4 * 4 + 8 * n_formats
        root = struct.unpack_from("<I", body, screen)[0]
        width, height = struct.unpack_from("<HH", body, screen + 20)
        sock.sendall(struct.pack("<BBHIhhHHI", 73, 2, 5, root, 0, 0, width, height, 0xFFFFFFFF))
        header = _read_exact(sock, 32)
        if header[0] != 1:
            raise ConnectionError(f"GetImage failed: X error {header[1]}")
        depth, size = header[1], struct.unpack_from("<I", header, 4)[0] * 4
        data = _read_exact(sock, size)
    if depth != 24 or size != width * height * 4:
        raise ValueError(f"GetImage: depth {depth}, {size} bytes for {width}x{height}: not read here")
    out = bytearray(width * height * 3)
    out[0::3], out[1::3], out[2::3] = data[2::4], data[1::4], data[0::4]
    return Screenshot(width, height, bytes(out))


def ppm_screenshot(data: bytes) -> Screenshot:
    """A binary PPM (P6, maxval 255), as `grim -t ppm -` writes it."""
    fields: list[bytes] = []
    pos = 0
    while len(fields) < 4:
        while data[pos : pos + 1].isspace():
            pos += 1
        end = pos
        while not data[end : end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    if fields[0] != b"P6" or fields[3] != b"255":
        raise ValueError(f"not a P6/255 PPM: {fields!r}")
    width, height = int(fields[1]), int(fields[2])
    return Screenshot(width, height, data[pos + 1 : pos + 1 + width * height * 3])
