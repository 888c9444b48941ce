"""A minimal X11 client, standard library only, run inside a test container: it opens one window with a title and
the properties Xlib's XSetWMProperties sets (WM_NAME, WM_CLASS, WM_CLIENT_MACHINE = this machine's hostname),
maps it, and keeps the connection open until the server closes it or the process is killed.

Usage: python3 x11_window.py SOCKET TITLE [MACHINE] (SOCKET: a path, or @name for an abstract socket; MACHINE: the
WM_CLIENT_MACHINE to claim instead of the hostname). Prints
"mapped 0x<id>" once the server has the window. The container's image needs no X library.
`python3 x11_window.py SOCKET --allow-local-user USER`, run by a client the server lets in, adds USER to its
access list (`xhost +si:localuser:USER`, without x11-xserver-utils) and exits.
"""

import socket
import struct
import sys

WM_CLIENT_MACHINE, STRING, WM_NAME, WM_CLASS = 36, 31, 39, 67


def pad(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % 4)


def read_exact(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise SystemExit("the X server closed the connection")
        data += chunk
    return data


def connect(path: str) -> tuple[socket.socket, int, int]:
    """Connection setup without authorisation; returns the socket, the first window id to use and the root."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect("\0" + path[1:] if path.startswith("@") else path)
    sock.sendall(struct.pack("<BxHHHHxx", ord("l"), 11, 0, 0, 0))
    status, _, _, _, length = struct.unpack("<BBHHH", read_exact(sock, 8))
    body = read_exact(sock, length * 4)
    if status != 1:
        raise SystemExit(f"X setup refused: {body[: body[0] if status == 0 else 40]!r}")
    base = struct.unpack_from("<I", body, 4)[0]
    vendor_len, _, _, n_formats = struct.unpack_from("<HHBB", body, 16)
    screen = 32 + len(pad(b"x" * vendor_len)) + 8 * n_formats
    root = struct.unpack_from("<I", body, screen)[0]
    return sock, base | 1, root


def change_property(window: int, prop: int, value: bytes) -> bytes:
    data = pad(value)
    return struct.pack("<BBHIIIBxxxI", 18, 0, 6 + len(data) // 4, window, prop, STRING, 8, len(value)) + data


def sync(sock: socket.socket) -> None:
    """GetInputFocus: its reply means every request before it was handled; an error before it fails."""
    sock.sendall(struct.pack("<BxH", 43, 1))
    while True:
        reply = read_exact(sock, 32)
        if reply[0] == 0:
            raise SystemExit(f"X error {reply[1]} on request {reply[10]}")
        if reply[0] == 1:
            return


def allow_local_user(path: str, user: str) -> None:
    sock, _, _ = connect(path)
    address = b"localuser\0" + user.encode()
    data = pad(address)
    sock.sendall(struct.pack("<BBHBxH", 109, 0, 2 + len(data) // 4, 5, len(address)) + data)  # ChangeHosts
    sync(sock)
    print(f"allowed {user}", flush=True)


def main() -> None:
    path, title = sys.argv[1], sys.argv[2]
    if title == "--allow-local-user":
        allow_local_user(path, sys.argv[3])
        return
    sock, window, root = connect(path)
    # CreateWindow: InputOutput, CopyFromParent depth and visual, a white background (CWBackPixel).
    create = struct.pack("<BBHIIhhHHHHIII", 1, 0, 9, window, root, 0, 0, 320, 200, 0, 1, 0, 0x2, 0xFFFFFF)
    machine = (sys.argv[3] if len(sys.argv) > 3 else socket.gethostname()).encode()  # what it claims to be
    requests = [
        create,
        change_property(window, WM_NAME, title.encode()),
        change_property(window, WM_CLASS, b"anklume-test\0AnklumeTest\0"),
        change_property(window, WM_CLIENT_MACHINE, machine),
        struct.pack("<BxHI", 8, 2, window),  # MapWindow
    ]
    sock.sendall(b"".join(requests))
    sync(sock)
    print(f"mapped {window:#x}", flush=True)
    while sock.recv(4096):
        pass


if __name__ == "__main__":
    main()
