"""The window marker (issue 21; the rules are psot.window_colours'): each machine's windows in its domain's
trust colour, on i3 or sway.

Neither WM can match a window by the machine it comes from in its config on Debian 12 (sway 1.7 has no such
criterion; i3 4.22's `machine` crashes i3, i3 issue #5616), so the marker does it per window: it listens to the
WM's window events (the i3 IPC protocol, which sway speaks too: $I3SOCK / $SWAYSOCK), finds the process at the
other end of each new window's connection (sway's tree gives its pid; for i3, the X server's X-Resource
extension, $DISPLAY), the container that process runs in or relays for (window_origin: /proc, never what the
window says of itself), and sends that machine's command for that one window (`[con_id=N] title_format ...`).
Windows already open when it starts are marked first; any other window is left as it is.
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
from .window_origin import container_of
from .xauth import cookie

IPC_MAGIC = b"i3-ipc"
RUN_COMMAND, SUBSCRIBE, GET_TREE = 0, 2, 4
LOCAL_CLIENT_PID = 2  # X-Resource's ClientIdMask for the client's local pid
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

    def subscribe(self, names: Iterable[str]) -> None:
        reply = self.request(SUBSCRIBE, json.dumps(list(names)))
        if not reply.get("success"):
            raise MarkerFailed(f"the window manager refused the subscription: {reply}")

    def events(self) -> Iterator[dict[str, Any]]:
        """The events this connection subscribed to, until the WM closes it."""
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
    """A connection to the X server of local socket `path` (display `number`): with the display's cookie from
    $XAUTHORITY when it has one there (an Xorg started with -auth), else none (Xvfb, sway's Xwayland, which let
    in their own user)."""

    def __init__(self, path: Path, number: str = "") -> None:
        auth = cookie(number or path.name.lstrip("X"))
        name, secret = auth or (b"", b"")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.sock.connect(str(path))
            setup = struct.pack("<BxHHHHxx", ord("l"), 11, 0, len(name), len(secret)) + _pad(name) + _pad(secret)
            self.sock.sendall(setup)
            status, _, _, _, length = struct.unpack("<BBHHH", _read_exact(self.sock, 8))
            body = _read_exact(self.sock, length * 4)
        except OSError as exc:
            self.sock.close()
            raise MarkerFailed(f"cannot reach the X server at {path}: {exc.strerror}") from None
        if status != 1:
            self.sock.close()
            raise MarkerFailed(f"the X server at {path} refused the marker: {body[:80].decode(errors='replace')}")
        self._xres: int | None = None

    def close(self) -> None:
        self.sock.close()

    def _reply(self) -> bytes | None:
        """The next reply (its extra data included); None for an error (a window closed meanwhile)."""
        while True:
            head = _read_exact(self.sock, 32)
            if head[0] == 0:
                return None
            if head[0] == 1:
                return head + _read_exact(self.sock, struct.unpack_from("<I", head, 4)[0] * 4)

    def _xres_opcode(self) -> int | None:
        if self._xres is None:
            name = b"X-Resource"
            self.sock.sendall(struct.pack("<BxHHxx", 98, 2 + (len(name) + 3) // 4, len(name)) + _pad(name))
            reply = self._reply()
            self._xres = reply[9] if reply is not None and reply[8] else 0
        return self._xres or None

    def client_pid(self, window: int) -> int | None:
        """The pid of the client that made `window` (X-Resource's QueryClientIds, LocalClientPID), as the server
        saw it on its socket; None when unknown."""
        opcode = self._xres_opcode()
        if opcode is None:
            return None
        self.sock.sendall(struct.pack("<BBHIII", opcode, 4, 4, 1, window, LOCAL_CLIENT_PID))
        reply = self._reply()
        if reply is None:
            return None
        count, at = struct.unpack_from("<I", reply, 8)[0], 32
        for _ in range(count):
            _, mask, size = struct.unpack_from("<III", reply, at)
            if mask == LOCAL_CLIENT_PID and size == 4:
                return int(struct.unpack_from("<I", reply, at + 12)[0])
            at += 12 + size
        return None


def _pad(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % 4)


def origin(node: dict[str, Any], x11: X11Reader, proc: Path = Path("/proc")) -> tuple[str, str] | None:
    """(project, instance) a window comes from: by the pid sway gives, else the X server's answer."""
    pid = node.get("pid")
    if not isinstance(pid, int) or pid <= 0:
        window = node.get("window")
        pid = x11.client_pid(window) if isinstance(window, int) else None
    return container_of(pid, proc) if pid else None


def mark(ipc: WmIpc, node: dict[str, Any], rules: dict[tuple[str, str], WindowRule], x11: X11Reader) -> str | None:
    """Give one window its domain's command when it comes from a machine of the infra; that machine's name."""
    rule = rules.get(origin(node, x11) or ("", ""))
    if rule is not None:
        ipc.request(RUN_COMMAND, f"[con_id={int(node['id'])}] {rule.command}")
    return rule.machine if rule is not None else None


def _windows(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    if node.get("window") is not None or node.get("shell") is not None:  # an X11 window, or any sway view
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
    window (the infra may have changed since); `on_mark(title, machine)` reports each window seen."""
    commands, x11 = WmIpc(ipc_path), X11Reader(x11_socket(display))
    events = WmIpc(ipc_path)
    seen: set[object] = set()

    def once(node: dict[str, Any]) -> None:
        # a window opened between the subscription and the tree's reading comes both ways
        if node.get("id") not in seen:
            seen.add(node.get("id"))
            _report(on_mark, node, mark(commands, node, _by_instance(rules()), x11))

    try:
        events.subscribe(["window"])  # before the tree is read: no window falls between the two
        for node in _windows(commands.request(GET_TREE)):
            once(node)
        for event in events.events():
            if event.get("change") == "new" and isinstance(event.get("container"), dict):
                once(event["container"])
    except (ConnectionEnded, BrokenPipeError, ConnectionResetError):
        return  # the session ended: the WM or its X server went away mid-conversation
    finally:
        commands.close()
        events.close()
        x11.close()


def _by_instance(rules: list[WindowRule]) -> dict[tuple[str, str], WindowRule]:
    return {(rule.project, rule.instance): rule for rule in rules}


def _report(on_mark: Callable[[str, str | None], None] | None, node: dict[str, Any], machine: str | None) -> None:
    if on_mark is not None:
        on_mark(str(node.get("name") or ""), machine)
