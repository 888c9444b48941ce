"""Incus 6.0's file-helper race (canonical/lxd#18403, same code in Incus): a files-API request fails with HTTP 500
"dial unix /proc/self/fd/N/forkfile.sock: connect: no such file or directory" when another instance's idle
helper unlinked this one's socket. It is too rare to provoke on demand (one request in a few hundred while
30 containers get their files), so its answer is injected in front of the real daemon: the first requests to
the files API get Incus's own error body, the rest reach Incus. What lands is read back with the incus CLI."""

from __future__ import annotations

import httpx
import pytest

from anklume_tui.engine.incus import IncusClient, IncusError
from tests.incusd import ThrowawayIncus

pytestmark = pytest.mark.anyio

RACE = "dial unix /proc/self/fd/34/forkfile.sock: connect: no such file or directory"


class LosesHelperSocket(httpx.AsyncBaseTransport):
    """Answers the first `failures` files-API requests as Incus does when the race hit them (`error` its text),
    passes everything else to the real transport; counts the files-API requests it saw."""

    def __init__(self, real: httpx.AsyncBaseTransport, failures: int, error: str = RACE) -> None:
        self.real, self.failures, self.error, self.seen = real, failures, error, 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not request.url.path.endswith("/files"):
            return await self.real.handle_async_request(request)
        self.seen += 1
        if self.seen > self.failures:
            return await self.real.handle_async_request(request)
        await request.aread()
        body = {"type": "error", "error": self.error, "error_code": 500, "metadata": None}
        return httpx.Response(500, json=body, request=request)


def inject(client: IncusClient, failures: int, error: str = RACE) -> LosesHelperSocket:
    """From now on, the client's next `failures` files-API requests meet the race (replacing an earlier one)."""
    http = client._t._http
    real = http._transport.real if isinstance(http._transport, LosesHelperSocket) else http._transport
    http._transport = LosesHelperSocket(real, failures, error)
    return http._transport


@pytest.fixture
async def stopped_box(incus_client: IncusClient) -> IncusClient:
    """A stopped container, as apply writes context files into before starting it."""
    await incus_client.create_instance("box", image="busybox", start=False)
    return incus_client


def cat(incusd: ThrowawayIncus, path: str) -> str:
    return incusd.incus("file", "pull", f"box{path}", "-").stdout


async def test_a_file_push_the_race_failed_twice_lands_on_the_next_try(stopped_box, incusd):
    fault = inject(stopped_box, failures=2)
    await stopped_box.push_file("box", "default", "/root/note", "written\n")
    assert fault.seen == 3
    assert cat(incusd, "/root/note") == "written\n"


async def test_directory_creation_and_reads_are_tried_again_too(stopped_box, incusd):
    faults = [inject(stopped_box, failures=1)]
    await stopped_box.make_directory("box", "default", "/etc/anklume")
    incusd.incus("file", "push", "-", "box/etc/anklume/domain", input="work\n")
    faults.append(inject(stopped_box, failures=1))
    pulled = await stopped_box.pull_file("box", "default", "/etc/anklume/domain")
    faults.append(inject(stopped_box, failures=1))
    head = await stopped_box.file_head("box", "default", "/etc/anklume")
    assert [f.seen for f in faults] == [2, 2, 2]
    assert pulled.content == b"work\n" and head is not None and head.type == "directory"


async def test_a_race_that_persists_fails_naming_the_request_after_four_tries(stopped_box, incusd):
    fault = inject(stopped_box, failures=10)
    with pytest.raises(IncusError) as raised:
        await stopped_box.push_file("box", "default", "/root/note", "never\n")
    assert fault.seen == 4
    assert "forkfile.sock" in str(raised.value) and "POST /1.0/instances/box/files" in str(raised.value)
    assert incusd.incus("file", "pull", "box/root/note", "-", check=False).returncode != 0


async def test_other_server_errors_are_not_tried_again(stopped_box):
    fault = inject(stopped_box, failures=1, error="Failed to write file: disk full")
    with pytest.raises(IncusError, match="disk full"):
        await stopped_box.push_file("box", "default", "/root/note", "x")
    assert fault.seen == 1


async def test_a_streamed_upload_is_not_sent_twice(stopped_box):
    async def chunks():
        yield b"streamed"

    fault = inject(stopped_box, failures=1)
    with pytest.raises(IncusError, match="forkfile.sock"):
        await stopped_box.write_file("box", "default", "/root/big", chunks(), mode=0o644, uid=0, gid=0)
    assert fault.seen == 1
