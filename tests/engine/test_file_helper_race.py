"""Incus 6.0's file-helper race (canonical/lxd#18403, same code in Incus): a files-API request fails with HTTP 500
"dial unix /proc/self/fd/N/forkfile.sock: connect: no such file or directory" when another instance's idle
helper unlinked this one's socket. Too rare to provoke on demand (one request in a few hundred while 30
containers get their files), it is made two ways: its effect on the real daemon (the live helper's socket
unlinked by hand, which Incus then meets as it does after the race), and its answer injected in front of the
real daemon (the first requests to the files API get Incus's own error body, with short waits between tries).
What lands is read back with the incus CLI."""

from __future__ import annotations

import asyncio
import time

import pytest

from anklume_tui.engine.incus import files as incus_file_calls
from anklume_tui.engine.incus.client import IncusClient, IncusError
from tests.engine import fault_helpers
from tests.engine.fault_helpers import AnswersWithError
from tests.incusd_helpers import ThrowawayIncus

pytestmark = pytest.mark.anyio

RACE = "dial unix /proc/self/fd/34/forkfile.sock: connect: no such file or directory"


def inject(client: IncusClient, failures: int, error: str = RACE) -> AnswersWithError:
    """From now on, the client's next `failures` files-API requests meet the race."""
    return fault_helpers.inject(client, "/files", failures, error)


@pytest.fixture
async def stopped_box(incus_client: IncusClient) -> IncusClient:
    """A stopped container, as apply writes context files into before starting it."""
    await incus_client.create_instance("box", image="busybox", start=False)
    return incus_client


@pytest.fixture
def short_waits(monkeypatch):
    """Injected answers are not followed by an orphaned helper: no need to wait for it to exit."""
    monkeypatch.setattr(incus_file_calls, "RACE_RETRY_DELAYS", (0.05, 0.05))


def cat(incusd: ThrowawayIncus, path: str) -> str:
    return incusd.incus("file", "pull", f"box{path}", "-").stdout


async def test_pushes_after_the_helper_socket_was_lost_land_once_the_orphaned_helper_exited(stopped_box, incusd):
    await stopped_box.push_file("box", "/root/first", "helper started\n", project="default")
    (incusd.incus_dir / "run" / "box" / "forkfile.sock").unlink()  # what the race does to a live helper
    t0 = time.monotonic()
    await asyncio.gather(
        *(stopped_box.push_file("box", f"/root/{n}", f"{n}\n", project="default") for n in ("a", "b", "c"))
    )
    waited = time.monotonic() - t0
    assert [cat(incusd, f"/root/{n}") for n in ("a", "b", "c")] == ["a\n", "b\n", "c\n"]
    # One failure (once the orphan exited), one wait past it, then all three: not one failure after another.
    assert incus_file_calls.HELPER_IDLE_EXIT < waited < 2.9 * incus_file_calls.HELPER_IDLE_EXIT


async def test_a_file_push_the_race_failed_twice_lands_on_the_next_try(stopped_box, incusd, short_waits):
    fault = inject(stopped_box, failures=2)
    await stopped_box.push_file("box", "/root/note", "written\n", project="default")
    assert fault.seen == 3
    assert cat(incusd, "/root/note") == "written\n"


async def test_directory_creation_and_reads_are_tried_again_too(stopped_box, incusd, short_waits):
    faults = [inject(stopped_box, failures=1)]
    await stopped_box.make_directory("box", "/etc/anklume", project="default")
    incusd.incus("file", "push", "-", "box/etc/anklume/domain", input="work\n")
    faults.append(inject(stopped_box, failures=1))
    pulled = await stopped_box.pull_file("box", "/etc/anklume/domain", project="default")
    faults.append(inject(stopped_box, failures=1))
    head = await stopped_box.file_head("box", "/etc/anklume", project="default")
    faults.append(inject(stopped_box, failures=1))
    async with stopped_box.read_file("box", "/etc/anklume/domain", project="default") as found:
        streamed = b"".join([chunk async for chunk in found.chunks])
    assert [f.seen for f in faults] == [2, 2, 2, 2]
    assert pulled.content == streamed == b"work\n" and head is not None and head.type == "directory"


async def test_while_a_try_waits_no_other_files_request_for_that_instance_is_sent(stopped_box, short_waits):
    await stopped_box.create_instance("other", image="busybox", start=False)
    fault = inject(stopped_box, failures=1)
    await asyncio.gather(
        stopped_box.push_file("box", "/root/a", "a", project="default"),
        stopped_box.push_file("box", "/root/b", "b", project="default"),
        stopped_box.push_file("other", "/root/c", "c", project="default"),
    )
    box = [sent for sent in fault.sent if sent.startswith("box ")]
    assert box == ["box /root/a", "box /root/a", "box /root/b"]  # the try again before b, none beside it
    assert fault.sent.index("other /root/c") < 2  # another instance's request does not wait


async def test_a_race_that_persists_fails_naming_the_request_after_three_tries(stopped_box, incusd, short_waits):
    fault = inject(stopped_box, failures=10)
    with pytest.raises(IncusError) as raised:
        await stopped_box.push_file("box", "/root/note", "never\n", project="default")
    assert fault.seen == 3
    assert "forkfile.sock" in str(raised.value) and "POST /1.0/instances/box/files" in str(raised.value)
    assert incusd.incus("file", "pull", "box/root/note", "-", check=False).returncode != 0


async def test_other_server_errors_are_not_tried_again(stopped_box, short_waits):
    fault = inject(stopped_box, failures=1, error="Failed to write file: disk full")
    with pytest.raises(IncusError, match="disk full"):
        await stopped_box.push_file("box", "/root/note", "x", project="default")
    assert fault.seen == 1


async def test_a_streamed_upload_is_not_sent_twice(stopped_box, short_waits):
    async def chunks():
        yield b"streamed"

    fault = inject(stopped_box, failures=1)
    with pytest.raises(IncusError, match="forkfile.sock"):
        await stopped_box.write_file("box", "/root/big", chunks(), mode=0o644, uid=0, gid=0, project="default")
    assert fault.seen == 1
