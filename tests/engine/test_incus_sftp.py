"""Several files in one SFTP session (IncusClient.write_files), read back with the incus CLI."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from pathlib import Path

import pytest

from anklume_tui.engine.incus import IncusClient, IncusError, IncusNotFound, IncusUnreachable

pytestmark = pytest.mark.anyio

FILES = {"absolute_level": "1\n", "relative_level": "2\n", "vm_nested": "false\n"}


def listing(incusd, name: str, directory: str) -> dict[str, tuple[str, str]]:
    """{file: (mode, content)} of a directory inside a running container."""
    out = incusd.incus("exec", name, "--", "sh", "-c", f"cd {directory} && for f in *; do stat -c '%n %a %u' $f; done")
    found = {}
    for line in out.stdout.splitlines():
        file_name, mode, uid = line.split()
        content = incusd.incus("exec", name, "--", "cat", f"{directory}/{file_name}").stdout
        found[file_name] = (f"{mode} {uid}", content)
    return found


async def test_files_written_into_a_stopped_container_are_there_with_their_mode_once_it_runs(incus_client, incusd):
    await incus_client.create_instance("box", image="busybox")
    await incus_client.write_files("box", "default", "/etc/anklume", FILES)
    await incus_client.change_state("box", "default", "start")
    assert listing(incusd, "box", "/etc/anklume") == {name: ("644 0", text) for name, text in FILES.items()}
    directory = incusd.incus("exec", "box", "--", "stat", "-c", "%a %F", "/etc/anklume").stdout.strip()
    assert directory == "755 directory"


async def test_writing_again_keeps_the_directory_and_replaces_longer_content(incus_client, incusd):
    await incus_client.create_instance("box", image="busybox", start=True)
    await incus_client.write_files("box", "default", "/etc/anklume", {"yolo": "a much longer first value\n"})
    await incus_client.write_files("box", "default", "/etc/anklume", {"yolo": "no\n"}, mode=0o600)
    assert listing(incusd, "box", "/etc/anklume") == {"yolo": ("600 0", "no\n")}


async def test_a_missing_instance_is_not_found_and_named(incus_client):
    with pytest.raises(IncusNotFound, match="/1.0/instances/ghost/sftp"):
        await incus_client.write_files("ghost", "default", "/etc/anklume", FILES)


async def test_a_file_where_the_directory_should_be_is_an_error_naming_it(incus_client, incusd):
    await incus_client.create_instance("box", image="busybox")
    await incus_client.push_file("box", "default", "/etc/anklume", "not a directory\n")
    with pytest.raises(IncusError, match="cannot write /etc/anklume in default/box") as caught:
        await incus_client.write_files("box", "default", "/etc/anklume", FILES)
    assert not isinstance(caught.value, IncusUnreachable)


async def test_a_daemon_that_is_not_there_is_unreachable(tmp_path):
    async with IncusClient(f"unix://{tmp_path}/unix.socket") as client:
        with pytest.raises(IncusUnreachable, match="could not be reached"):
            await client.write_files("box", "default", "/etc/anklume", FILES)


def test_files_are_written_over_https_with_a_client_certificate(incusd):
    access = incusd.enable_https()
    incusd.incus("init", "busybox", "remote-box", "--quiet")

    async def write() -> None:
        async with IncusClient(
            access["url"], cert=access["cert"], key=access["key"], server_cert=access["server_cert"]
        ) as client:
            await client.write_files("remote-box", "default", "/etc/anklume", {"yolo": "true\n"})

    deadline = time.monotonic() + 10
    while True:  # the listener comes up shortly after the config change
        try:
            incusd.in_netns(lambda: asyncio.run(write()))
            break
        except IncusUnreachable:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    assert incusd.incus("file", "pull", "remote-box/etc/anklume/yolo", "-").stdout == "true\n"


class FlakySftpProxy:
    """Fault injection: a unix socket in front of the daemon's that answers the first `failures` SFTP upgrades
    with the 500 Incus 6.0 gives while an instance's file server is starting, then passes bytes through."""

    BUSY = json.dumps(
        {"type": "error", "error": "Failed getting instance SFTP connection: dial unix", "error_code": 500}
    )

    def __init__(self, path: Path, target: str, failures: int) -> None:
        self.path, self.target, self.failures, self.seen = path, target, failures, 0
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(str(path))
        self._server.listen()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            head = client.recv(65536)
            if b"/sftp" in head.split(b"\r\n", 1)[0]:
                self.seen += 1
                if self.seen <= self.failures:
                    body = self.BUSY.encode()
                    reply = b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: %d\r\n\r\n%s"
                    client.sendall(reply % (len(body), body))
                    client.close()
                    continue
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            upstream.connect(self.target)
            upstream.sendall(head)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        self._server.close()


async def test_a_busy_sftp_server_is_tried_again_and_the_files_arrive(incus_client, incusd, tmp_path):
    await incus_client.create_instance("box", image="busybox")
    proxy = FlakySftpProxy(tmp_path / "proxy.socket", incusd.socket_path, failures=2)
    try:
        async with IncusClient(f"unix://{proxy.path}") as client:
            await client.write_files("box", "default", "/etc/anklume", {"yolo": "true\n"})
    finally:
        proxy.close()
    assert proxy.seen == 3
    assert incusd.incus("file", "pull", "box/etc/anklume/yolo", "-").stdout == "true\n"


async def test_a_server_still_busy_after_the_retries_gets_the_files_through_the_files_api(
    incus_client, incusd, tmp_path
):
    await incus_client.create_instance("box", image="busybox")
    proxy = FlakySftpProxy(tmp_path / "proxy.socket", incusd.socket_path, failures=10)
    try:
        async with IncusClient(f"unix://{proxy.path}") as client:
            await client.write_files("box", "default", "/etc/anklume", FILES, mode=0o640)
    finally:
        proxy.close()
    assert proxy.seen == 4  # the session was tried four times
    await incus_client.change_state("box", "default", "start")
    assert listing(incusd, "box", "/etc/anklume") == {name: ("640 0", text) for name, text in FILES.items()}
