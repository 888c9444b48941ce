"""The window marker reaches an X server that wants its cookie (an Xorg started with -auth, as display managers
and startx start it): engine.desktop's X connection sends the MIT-MAGIC-COOKIE-1 $XAUTHORITY holds for the
display, and without it the server refuses the marker, which says so. A real Xvfb, started with `-auth`."""

from __future__ import annotations

import secrets
import struct
from pathlib import Path

import pytest

from anklume_tui.engine.desktop.window_marker import MarkerFailed, X11Reader
from anklume_tui.engine.desktop.xauth import COOKIE, FAMILY_LOCAL, FAMILY_WILD, cookie, entries
from tests.display_helpers import xvfb


def entry(family: int, address: bytes, number: bytes, name: bytes, data: bytes) -> bytes:
    return struct.pack(">H", family) + b"".join(struct.pack(">H", len(f)) + f for f in (address, number, name, data))


@pytest.fixture
def guarded_x(tmp_path):
    """Xvfb that lets in only the holders of a cookie: (socket, display number, authority file)."""
    authority = tmp_path / "Xauthority"
    authority.write_bytes(entry(FAMILY_WILD, b"", b"", COOKIE, secrets.token_bytes(16)))
    with xvfb(auth=authority) as server:
        yield server.socket, str(server.number), authority


def test_the_marker_is_let_in_with_the_cookie_and_refused_without(guarded_x, tmp_path, monkeypatch):
    path, number, authority = guarded_x
    monkeypatch.setenv("XAUTHORITY", str(authority))
    X11Reader(path).close()
    monkeypatch.setenv("XAUTHORITY", str(tmp_path / "none"))
    with pytest.raises(MarkerFailed, match=f"the X server at {path} refused the marker"):
        X11Reader(path)


def test_the_cookie_is_the_displays_own_on_this_host(tmp_path):
    authority = tmp_path / "Xauthority"
    authority.write_bytes(
        entry(FAMILY_LOCAL, b"elsewhere", b"0", COOKIE, b"other host")
        + entry(FAMILY_LOCAL, b"here", b"1", COOKIE, b"display 1")
        + entry(FAMILY_LOCAL, b"here", b"0", b"XDM-AUTHORIZATION-1", b"another kind")
        + entry(FAMILY_LOCAL, b"here", b"0", COOKIE, b"display 0")
        + b"\x01\x00\x00\x05cut"  # a cut entry at the end is ignored
    )
    assert cookie("0", authority, "here") == (COOKIE, b"display 0")
    assert cookie("1", authority, "here") == (COOKIE, b"display 1")
    assert cookie("2", authority, "here") is None
    assert cookie("0", Path(tmp_path / "missing"), "here") is None
    assert len(entries(authority.read_bytes())) == 4
