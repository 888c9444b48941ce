"""The window marker (issue 21; the rules are psot.window_colours'): each machine's windows in its domain's
trust colour, on i3 or sway.

Neither WM can match a window by the machine it comes from in its config on Debian 12 (sway 1.7 has no such
criterion; i3 4.22's `machine` crashes i3, i3 issue #5616), so the marker does it per window: it listens to the
WM's window events (the i3 IPC protocol, which sway speaks too: $I3SOCK / $SWAYSOCK), reads each new window's
WM_CLIENT_MACHINE from the X server ($DISPLAY: Xvfb or Xorg under i3, sway's Xwayland) and sends that machine's
command for that one window (`[con_id=N] title_format ...`). Windows already open when it starts are marked first.

What a window claims is what its client wrote: WM_CLIENT_MACHINE is set by the client, and X11 lets any client
of a display read and forge everything on it. A native Wayland window carries no host name and is left as it
is. Both limits are written in docs/guides/desktop.md.
"""

from __future__ import annotations

import json
import socket
import struct
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from ...errors import Failed
from ...psot.window_colours import WindowRule

IPC_MAGIC = b"i3-ipc"
RUN_COMMAND, SUBSCRIBE, GET_TREE = 0, 2, 4
WM_CLIENT_MACHINE, STRING = 36, 31
X11_SOCKETS = Path("/tmp/.X11-unix")


class MarkerFailed(Failed):
    """The window manager or its X server cannot be reached (one line for the user)."""


class ConnectionEnded(MarkerFailed):
    """The other end closed the connection (the session ends)."""


def _read_exact(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionEnded("the connection was closed")
        data += chunk
    return data


class WmIpc:
    """One connection to i3's or sway's IPC socket."""

    def __init__(self, path: str | Path) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.sock.connect(str(path))
        except OSError as exc:
            self.sock.close()
            raise MarkerFailed(f"cannot reach the window manager's IPC socket {path}: {exc.strerror}") from None

    def close(self) -> None:
        self.sock.close()

    def send(self, kind: int, payload: str = "") -> None:
        body = payload.encode()
        self.sock.sendall(IPC_MAGIC + struct.pack("<II", len(body), kind) + body)

    def receive(self) -> tuple[int, Any]:
        header = _read_exact(self.sock, 14)
        if header[:6] != IPC_MAGIC:
            raise MarkerFailed("the window manager's IPC socket answered something else than i3-ipc")
        size, kind = struct.unpack("<II", header[6:])
        return kind, json.loads(_read_exact(self.sock, size))

    def request(self, kind: int, payload: str = "") -> Any:
        self.send(kind, payload)
        return self.receive()[1]

    def events(self, names: Iterable[str]) -> Iterator[dict[str, Any]]:
        """Subscribe this connection to `names` and yield their events until the WM closes it."""
        reply = self.request(SUBSCRIBE, json.dumps(list(names)))
        if not reply.get("success"):
            raise MarkerFailed(f"the window manager refused the subscription: {reply}")
        while True:
            try:
                _, event = self.receive()
            except ConnectionEnded:
                return
            yield event


def x11_socket(display: str) -> Path:
    """The local socket of DISPLAY ':N' or ':N.S'."""
    number = display.rpartition(":")[2].split(".")[0]
    if not number.isdigit():
        raise MarkerFailed(f"DISPLAY {display!r} is not a local display")
    return X11_SOCKETS / f"X{number}"


class X11Reader:
    """A read-only connection to the X server (no authorisation sent: the marker runs as the session's user,
    whom the server sway starts lets in)."""

    def __init__(self, path: Path) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.sock.connect(str(path))
            self.sock.sendall(struct.pack("<BxHHHHxx", ord("l"), 11, 0, 0, 0))
            status, _, _, _, length = struct.unpack("<BBHHH", _read_exact(self.sock, 8))
            body = _read_exact(self.sock, length * 4)
        except OSError as exc:
            self.sock.close()
            raise MarkerFailed(f"cannot reach the X server at {path}: {exc.strerror}") from None
        if status != 1:
            self.sock.close()
            raise MarkerFailed(f"the X server at {path} refused the marker: {body[:80].decode(errors='replace')}")

    def close(self) -> None:
        self.sock.close()

    def client_machine(self, window: int) -> str | None:
        """WM_CLIENT_MACHINE of `window`; None when unset or the window is gone."""
        self.sock.sendall(struct.pack("<BBHIIIII", 20, 0, 6, window, WM_CLIENT_MACHINE, STRING, 0, 64))
        while True:
            reply = _read_exact(self.sock, 32)
            if reply[0] == 0:  # an error (BadWindow: closed meanwhile)
                return None
            if reply[0] == 1:
                break
        extra, _, _, length = struct.unpack_from("<IIII", reply, 4)
        value = _read_exact(self.sock, extra * 4)[:length]
        return value.decode("utf-8", "replace") or None


def mark(
    ipc: WmIpc, node: dict[str, Any], rules: dict[str, WindowRule], machine_of: Callable[[int], str | None]
) -> str | None:
    """Give one window its domain's command when it comes from a declared machine; the hostname it claims."""
    window = node.get("window")
    if not isinstance(window, int):
        return None
    host = machine_of(window)
    rule = rules.get(host or "")
    if rule is not None:
        ipc.request(RUN_COMMAND, f"[con_id={int(node['id'])}] {rule.command}")
    return host


def _windows(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    if node.get("window") is not None:
        yield node
    for child in node.get("nodes", []) + node.get("floating_nodes", []):
        yield from _windows(child)


def mark_windows(
    ipc_path: str | Path,
    display: str,
    rules: Callable[[], list[WindowRule]],
    on_mark: Callable[[str, str | None], None] | None = None,
) -> None:
    """Mark every window already open, then every new one, until the WM ends. `rules` is asked again at each
    window (the infra may have changed since); `on_mark(title, hostname)` reports each window seen."""
    commands, x11 = WmIpc(ipc_path), X11Reader(x11_socket(display))
    events = WmIpc(ipc_path)
    try:
        stream = events.events(["window"])
        for node in _windows(commands.request(GET_TREE)):
            _report(on_mark, node, mark(commands, node, _by_host(rules()), x11.client_machine))
        for event in stream:
            if event.get("change") == "new" and isinstance(event.get("container"), dict):
                node = event["container"]
                _report(on_mark, node, mark(commands, node, _by_host(rules()), x11.client_machine))
    finally:
        commands.close()
        events.close()
        x11.close()


def _by_host(rules: list[WindowRule]) -> dict[str, WindowRule]:
    return {rule.hostname: rule for rule in rules}


def _report(on_mark: Callable[[str, str | None], None] | None, node: dict[str, Any], host: str | None) -> None:
    if on_mark is not None and node.get("window") is not None:
        on_mark(str(node.get("name") or ""), host)
