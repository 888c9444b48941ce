"""apply when things go wrong: a concurrent apply, a killed apply, a dying daemon, impossible VMs and
unreachable image servers. Checked through the incus CLI (independent of our client)."""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import subprocess
import sys
import time

import httpx
import pytest

from anklume_tui.cli import main
from anklume_tui.engine.incus.client import IncusClient
from anklume_tui.engine.reconcile.apply import apply
from anklume_tui.psot.constants import MANAGED_KEY
from anklume_tui.psot.context import HostContext
from anklume_tui.psot.pipeline import run_psot
from anklume_tui.verbs import apply as apply_verb
from tests.engine.apply_helpers import ROOT, batch, batch_cmd, batch_env, instances, many_machines, plan_json
from tests.incusd_helpers import ThrowawayIncus, incus_installed
from tests.wait_helpers import wait_until


def write_infra(tmp_path, text):
    path = tmp_path / "infra.yml"
    path.write_text(text)
    return path


def start_apply(daemon, tmp_path, infra):
    return subprocess.Popen(
        batch_cmd("apply", infra),
        env=batch_env(daemon, tmp_path),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_line(proc: subprocess.Popen, needle: str, timeout: float = 60) -> list[str]:
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        seen.append(line)
        if needle in line:
            return seen
    raise AssertionError(f"{needle!r} never appeared in apply's progress: {seen}")


def test_a_concurrent_second_apply_is_refused_naming_the_first(incusd, tmp_path):
    infra = write_infra(tmp_path, many_machines(3, 3))
    first = start_apply(incusd, tmp_path, infra)
    try:
        wait_for_line(first, "started")
        first.send_signal(signal.SIGSTOP)  # paused mid-apply, holding the lock, however fast apply has become
        try:
            second = batch(incusd, tmp_path, "apply", infra)
        finally:
            first.send_signal(signal.SIGCONT)
        assert second.returncode == 1
        assert f"another apply, provision or ai-switch is running (pid {first.pid})" in second.stderr
    finally:
        first.communicate(timeout=300)
    assert first.returncode == 0
    assert batch(incusd, tmp_path, "apply", infra).returncode == 0  # the lock was released


def test_apply_killed_mid_run_converges_on_the_next_apply(incusd, tmp_path):
    infra = write_infra(tmp_path, many_machines(3, 3))
    first = start_apply(incusd, tmp_path, infra)
    wait_for_line(first, "done    create instance")
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    second = batch(incusd, tmp_path, "apply", infra)
    assert second.returncode == 0, second.stderr
    found = instances(incusd)
    assert len(found) == 9
    assert all(i["status"] == "Running" and i["config"]["user.anklume.managed"] == "true" for i in found.values())
    for project, name in found:
        level = incusd.incus("file", "pull", f"{name}/etc/anklume/absolute_level", "-", f"--project={project}")
        assert level.stdout.strip() == "1"
    assert plan_json(incusd, tmp_path, infra)["actions"] == []


def settled_status(http: httpx.Client, name: str) -> str | None:
    """The network's status once unchanged for a second (None: no such network), within 10 s."""
    seen: list[tuple[float, str | None]] = []  # (since when, status)

    def settled() -> bool:
        response = http.get(f"/1.0/networks/{name}")
        status = None if response.status_code == 404 else response.json()["metadata"]["status"]
        if not seen or seen[-1][1] != status:
            seen.append((time.monotonic(), status))
        return time.monotonic() - seen[-1][0] >= 1

    wait_until(settled, 10, lambda: f"network {name}'s status to hold for a second (it went {seen})", 0.1)
    return seen[-1][1]


def leave_pending_bridge(daemon: ThrowawayIncus, name: str) -> None:
    """What an apply killed during a bridge create leaves: the client hangs up, Incus keeps a Pending record.
    Hanging up too soon leaves nothing and too late a made bridge, and when depends on the machine's load:
    later hang-ups are tried until one leaves the record."""
    body = {"name": name, "type": "bridge", "config": {"ipv4.address": "10.250.0.1/24", MANAGED_KEY: "true"}}
    transport = httpx.HTTPTransport(uds=daemon.socket_path)
    with httpx.Client(transport=transport, base_url="http://incus") as http:
        for timeout in (0.02, 0.04, 0.08, 0.16, 0.32):
            with contextlib.suppress(httpx.TimeoutException):
                http.post("/1.0/networks", json=body, timeout=timeout)
            status = settled_status(http, name)
            if status == "Pending":
                return
            if status is not None:
                daemon.incus("network", "delete", name)
    pytest.fail(f"no hang-up left {name} Pending")


def test_a_bridge_left_pending_by_a_killed_apply_is_made_again(incusd, tmp_path):
    infra = write_infra(tmp_path, many_machines(1, 1))
    leave_pending_bridge(incusd, "net-d0")
    [bridge] = [a for a in plan_json(incusd, tmp_path, infra)["actions"] if a["kind"] == "network"]
    assert bridge["op"] == "create" and "Pending" in bridge["detail"]
    assert batch(incusd, tmp_path, "apply", infra).returncode == 0
    net = incusd.query("/1.0/networks/net-d0")
    assert net["status"] == "Created" and net["config"]["ipv4.address"] != "10.250.0.1/24"
    assert instances(incusd)[("d0", "d0-m00")]["status"] == "Running"


@pytest.fixture
def own_daemon():
    """A daemon of this test's own (the test kills it): the session daemon stays untouched."""
    if not incus_installed() or os.geteuid() != 0:
        pytest.skip("needs incusd and root")
    daemon = ThrowawayIncus().start()
    yield daemon
    daemon.stop()


def test_daemon_dying_mid_apply_exits_3_naming_the_object(own_daemon, tmp_path, monkeypatch, capsys):
    infra = write_infra(tmp_path, many_machines(2, 2))
    for key, value in batch_env(own_daemon, tmp_path).items():
        monkeypatch.setenv(key, value)
    killed = []
    started: set[str] = set()

    def kill_on_first_instance(event):
        print(event.line(), file=sys.stderr)
        action = getattr(event, "action", None)  # apply's events; the pipeline's phase events have none
        if event.phase == "started" and action:
            started.add(action.target)
        if event.phase == "started" and action and action.kind == "instance" and not killed:
            os.kill(own_daemon.daemon_pid, signal.SIGKILL)
            killed.append(action.name)

    monkeypatch.setattr(apply_verb, "print_event", kill_on_first_instance)
    code = main(["--batch", "apply", "--infra", str(infra), "--no-provision"])
    err = capsys.readouterr().err
    assert code == 3
    assert killed
    [message] = [line for line in err.splitlines() if line.startswith("error: Incus unreachable")]
    # Domains run side by side: when one domain's first instance starts, the other may still be creating its
    # project, image, bridge or profile. The object named is one apply had started, whichever domain it is in.
    named = re.search(r"while \w+ (\w+ [\w/.-]+):", message)
    assert named and named.group(1) in started, (message, sorted(started))
    assert message.count("(POST /1.0/") == 1, message


VM_INFRA = """\
project_name: vms
global:
  addressing: {}
  default_os_image: busybox
domains:
  lab:
    machines:
      lab-vm:
        type: vm
"""


@pytest.mark.anyio
async def test_vm_machine_is_created_as_a_virtual_machine_up_to_the_api_call(incusd, tmp_path, monkeypatch):
    """VMs cannot run on this host (no KVM / vhost_vsock, and the busybox image is a container image):
    the test proves the create request carries type virtual-machine, and that the failure Incus answers
    with is reported naming the machine."""
    monkeypatch.setenv("ANKLUME_SKIP_HOST_SUBNET_CHECK", "1")
    result = run_psot(write_infra(tmp_path, VM_INFRA), HostContext(skip_subnet_check=True))
    assert result.valid, result.findings
    sent = []
    async with IncusClient(incusd.url) as client:
        real_call = client._t.call

        async def spy(method, path, **kw):
            if method == "POST" and path == "/1.0/instances":
                sent.append(kw["json"])
            return await real_call(method, path, **kw)

        monkeypatch.setattr(client._t, "call", spy)
        outcome = await apply(client, result.infra, state_dir=tmp_path / "state")
    assert [body["type"] for body in sent] == ["virtual-machine"]
    assert sent[0]["name"] == "lab-vm" and sent[0]["source"] == {"type": "image", "alias": "busybox"}
    failed = outcome.of("failed")
    assert len(failed) == 1 and "virtual machine" in failed[0].error and "'lab-vm'" in failed[0].error
    assert incusd.incus_json("list", "--project=lab") == []


REMOTE_INFRA = """\
project_name: remote
global:
  addressing: {}
domains:
  lab:
    machines:
      lab-deb:
        os_image: "images:debian/13"
"""


def test_remote_image_without_a_server_fails_with_a_clear_message(incusd, tmp_path):
    infra = write_infra(tmp_path, REMOTE_INFRA)
    plan = plan_json(incusd, tmp_path, infra)
    assert ("download", "image", "images:debian/13") in [(a["op"], a["kind"], a["name"]) for a in plan["actions"]]
    result = batch(incusd, tmp_path, "apply", infra)
    assert result.returncode == 1
    assert (
        "image 'images:debian/13' is not in the local cache and no image server is reachable; "
        "import it or use a local alias" in result.stdout
    )
    assert "skipped create instance lab/lab-deb" in result.stderr
    assert incusd.incus_json("list", "--project=lab") == []


def test_missing_local_image_names_it(incusd, tmp_path):
    infra = write_infra(tmp_path, REMOTE_INFRA.replace('"images:debian/13"', "nosuchimage"))
    result = batch(incusd, tmp_path, "apply", infra)
    assert result.returncode == 1
    assert "'nosuchimage'" in result.stdout


def test_unreachable_incus_exits_3(tmp_path):
    daemon = argparse.Namespace(url=f"unix://{tmp_path}/missing.socket")
    infra = write_infra(tmp_path, many_machines(1, 1))
    result = batch(daemon, tmp_path, "apply", infra)
    assert result.returncode == 3 and "Incus unreachable" in result.stderr
