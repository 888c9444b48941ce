"""IncusClient against a throwaway real Incus; results are checked through pylxd or the incus CLI."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import time
from pathlib import Path

import pylxd
import pytest

from anklume_tui.engine.incus.client import (
    IncusClient,
    IncusError,
    IncusNotFound,
    IncusUnreachable,
    IncusUrlError,
    resolve_endpoint,
)
from tests.incusd_helpers import ThrowawayIncus
from tests.wait_helpers import wait_until_async

pytestmark = pytest.mark.anyio

BRIDGE_CONFIG = {
    "ipv4.address": "10.77.0.1/24",
    "ipv4.nat": "true",
    "ipv6.address": "none",
    "ipv4.dhcp.ranges": "10.77.0.100-10.77.0.249",
}
PROJECT_FEATURES = {
    "features.images": "true",
    "features.profiles": "true",
    "features.storage.volumes": "true",
    "features.networks": "false",
}
ROOT_DISK = {"type": "disk", "pool": "default", "path": "/"}


async def make_domain(
    client: IncusClient, incusd: ThrowawayIncus, project: str = "dom", bridge: str = "netdom"
) -> None:
    """A project with its own images and profiles, a bridge, and a default profile on that bridge."""
    await client.create_project(project, config=PROJECT_FEATURES, description="a domain")
    await client.create_network(bridge, config=BRIDGE_CONFIG)
    await client.patch_profile(
        "default",
        devices={"root": ROOT_DISK, "eth0": {"type": "nic", "network": bridge, "name": "eth0"}},
        project=project,
    )
    incusd.import_image(project, "busybox")


def cli_json(incusd: ThrowawayIncus, *args: str) -> object:
    return json.loads(incusd.incus(*args, "--format=json").stdout)


async def test_server_info_matches_the_version_the_cli_reports(incus_client, incusd):
    info = await incus_client.server_info()
    assert info.api_version == "1.0"
    assert info.auth == "trusted"
    assert f"Server version: {info.server_version}" in incusd.incus("version").stdout


async def test_project_bridge_and_container_in_the_project_are_what_pylxd_sees(incus_client, incusd, pylxd_reader):
    await make_domain(incus_client, incusd)
    await incus_client.create_instance(
        "box", image="busybox", start=True, config={"user.anklume.managed": "true"}, project="dom"
    )

    reader = pylxd_reader("dom")
    project = reader.projects.get("dom")
    assert project.config["features.images"] == "true"
    assert project.description == "a domain"
    network = reader.networks.get("netdom")
    assert network.managed and network.type == "bridge"
    assert network.config["ipv4.address"] == "10.77.0.1/24"
    instance = reader.instances.get("box")
    assert instance.status == "Running"
    assert instance.config["user.anklume.managed"] == "true"
    assert instance.expanded_devices["eth0"]["network"] == "netdom"

    ours = await incus_client.get_instance("box", project="dom")
    assert (ours.name, ours.project, ours.status, ours.profiles) == ("box", "dom", "Running", ["default"])
    assert ours.expanded_devices["root"]["pool"] == "default"


async def test_container_on_a_bridge_reports_its_dhcp_address_in_its_state(incus_client, incusd):
    await make_domain(incus_client, incusd)
    await incus_client.create_instance("box", image="busybox", start=True, project="dom")

    async def addressed():
        state = await incus_client.instance_state("box", project="dom")
        return state if state.addresses() else None

    state = await wait_until_async(addressed, 30, "box's DHCP address", interval=0.25)
    [address] = state.addresses()
    assert address.startswith("10.77.0.")
    assert state.status == "Running" and state.pid > 0 and state.processes > 0
    assert state.memory.usage > 0 and state.cpu.usage > 0
    listed = incusd.incus("list", "box", "--project=dom", "--format=csv", "--columns=4").stdout
    assert address in listed


async def test_state_changes_are_seen_by_the_cli(incus_client, incusd):
    await incus_client.create_instance("box", image="busybox", start=True)

    def status() -> str:
        return cli_json(incusd, "list", "box")[0]["status"]

    assert status() == "Running"
    await incus_client.change_state("box", "freeze", project="default")
    assert status() == "Frozen"
    await incus_client.change_state("box", "unfreeze", project="default")
    await incus_client.change_state("box", "stop", force=True, project="default")
    assert status() == "Stopped"
    await incus_client.change_state("box", "start", project="default")
    await incus_client.change_state("box", "restart", force=True, project="default")
    assert status() == "Running"
    with pytest.raises(ValueError, match="unknown instance action"):
        await incus_client.change_state("box", "explode", project="default")


async def test_exec_returns_the_exit_code_stdout_and_stderr(incus_client, incusd):
    await incus_client.create_instance("box", image="busybox", start=True)
    script = 'echo "out $GREETING"; echo oops >&2; exit 3'
    result = await incus_client.exec("box", ["sh", "-c", script], env={"GREETING": "hello"}, project="default")
    assert (result.exit_code, result.stdout, result.stderr) == (3, "out hello\n", "oops\n")
    assert not result.ok
    missing = await incus_client.exec("box", ["/no/such/command"], project="default")
    assert missing.exit_code == 127
    logs = json.loads(incusd.incus("query", "/1.0/instances/box/logs").stdout)
    assert not [log for log in logs if "exec_" in log], "recorded exec output is deleted after reading"


async def test_pushed_file_has_the_content_mode_and_owner_the_cli_reads(incus_client, incusd):
    await incus_client.create_instance("box", image="busybox", start=True)
    await incus_client.push_file("box", "/root/note.txt", "hi there\n", mode=0o640, uid=12, gid=34, project="default")
    assert incusd.incus("exec", "box", "--", "cat", "/root/note.txt").stdout == "hi there\n"
    stat = incusd.incus("exec", "box", "--", "stat", "-c", "%a %u %g", "/root/note.txt").stdout.split()
    assert stat == ["640", "12", "34"]


async def test_pulled_file_is_what_the_cli_pushed(incus_client, incusd, tmp_path):
    await incus_client.create_instance("box", image="busybox", start=True)
    source = tmp_path / "blob"
    source.write_bytes(bytes(range(256)) * 4)
    incusd.incus("file", "push", str(source), "box/root/blob", "--mode=0600")
    pulled = await incus_client.pull_file("box", "/root/blob", project="default")
    assert pulled.content == source.read_bytes()
    assert (pulled.type, pulled.mode, pulled.uid) == ("file", 0o600, 0)
    listing = await incus_client.pull_file("box", "/root", project="default")
    assert listing.type == "directory" and "blob" in listing.entries
    with pytest.raises(IncusNotFound):
        await incus_client.pull_file("box", "/root/absent", project="default")


async def test_snapshot_restore_brings_back_the_files_and_delete_removes_it(incus_client, incusd, pylxd_reader):
    await incus_client.create_instance("box", image="busybox", start=True)
    await incus_client.push_file("box", "/root/state", "before\n", project="default")
    await incus_client.create_snapshot("box", "snap0", project="default")
    await incus_client.push_file("box", "/root/state", "after\n", project="default")

    assert [s.name for s in pylxd_reader().instances.get("box").snapshots.all()] == ["snap0"]
    [snap] = await incus_client.list_snapshots("box", project="default")
    assert snap.name == "snap0" and snap.created_at is not None and snap.expires_at is None

    await incus_client.restore_snapshot("box", "snap0", project="default")
    assert incusd.incus("exec", "box", "--", "cat", "/root/state").stdout == "before\n"

    await incus_client.delete_snapshot("box", "snap0", project="default")
    assert cli_json(incusd, "snapshot", "list", "box") == []
    assert await incus_client.list_snapshots("box", project="default") == []


async def test_listing_all_instances_costs_one_request(incus_client, incusd):
    await make_domain(incus_client, incusd)
    await incus_client.create_instance("one", image="busybox")
    await incus_client.create_instance("two", image="busybox", project="dom")
    await incus_client.create_instance("three", image="busybox", project="dom")

    before = incus_client.requests
    everything = await incus_client.list_instances()
    assert incus_client.requests - before == 1
    assert sorted((i.project, i.name) for i in everything) == [("default", "one"), ("dom", "three"), ("dom", "two")]

    before = incus_client.requests
    in_domain = await incus_client.list_instances(project="dom")
    assert incus_client.requests - before == 1
    assert sorted(i.name for i in in_domain) == ["three", "two"]


async def test_event_stream_yields_a_lifecycle_event_when_a_container_starts(incus_client, incusd):
    await make_domain(incus_client, incusd)
    await incus_client.create_instance("box", image="busybox", project="dom")
    async with incus_client.events() as stream:
        await incus_client.change_state("box", "start", project="dom")
        event = await stream.wait_for(
            lambda e: e.get("type") == "lifecycle" and e["metadata"].get("action") == "instance-started", 10
        )
    assert event["project"] == "dom"
    assert event["metadata"]["source"].startswith("/1.0/instances/box")
    assert [e async for e in stream] == [], "a closed stream ends the iteration"


async def test_profiles_network_and_project_writes_are_what_pylxd_reads(incus_client, incusd, pylxd_reader):
    await incus_client.create_project("dom", config=PROJECT_FEATURES)
    await incus_client.create_profile(
        "gpu-less",
        config={"limits.cpu": "1", "user.x": "y"},
        devices={"data": {"type": "disk", "source": "/tmp", "path": "/mnt"}},
        project="dom",
    )
    await incus_client.patch_profile("gpu-less", config={"limits.memory": "64MiB"}, project="dom")
    profile = pylxd_reader("dom").profiles.get("gpu-less")
    assert profile.config == {"limits.cpu": "1", "user.x": "y", "limits.memory": "64MiB"}
    assert profile.devices["data"]["path"] == "/mnt"

    await incus_client.update_profile("gpu-less", config={"limits.cpu": "2"}, devices={}, project="dom")
    profile = pylxd_reader("dom").profiles.get("gpu-less")
    assert (profile.config, profile.devices) == ({"limits.cpu": "2"}, {})
    assert [p.name for p in await incus_client.list_profiles(project="dom")] == ["default", "gpu-less"]

    await incus_client.create_network("netx", config=BRIDGE_CONFIG)
    await incus_client.patch_network("netx", config={"user.anklume.managed": "true"})
    assert pylxd_reader().networks.get("netx").config["user.anklume.managed"] == "true"
    await incus_client.update_network("netx", config={"ipv4.address": "10.78.0.1/24", "ipv6.address": "none"})
    net = pylxd_reader().networks.get("netx").config
    assert net["ipv4.address"] == "10.78.0.1/24" and "user.anklume.managed" not in net
    assert "netx" in [n.name for n in await incus_client.list_networks() if n.managed]

    await incus_client.patch_project("dom", config={"user.note": "x"}, description="patched")
    project = pylxd_reader().projects.get("dom")
    assert project.config.items() >= {**PROJECT_FEATURES, "user.note": "x"}.items()
    assert project.description == "patched"
    kept = {k: v for k, v in project.config.items() if k.startswith("features.")}
    await incus_client.update_project("dom", config=kept, description="put")
    project = pylxd_reader().projects.get("dom")
    assert project.description == "put" and "user.note" not in project.config
    assert {p.name for p in await incus_client.list_projects()} == {"default", "dom"}

    await incus_client.delete_profile("gpu-less", project="dom")
    await incus_client.delete_network("netx")
    await incus_client.delete_project("dom")
    assert [p.name for p in await incus_client.list_projects()] == ["default"]
    with pytest.raises(pylxd.exceptions.NotFound):
        pylxd_reader().networks.get("netx")


async def test_instance_patch_and_put_change_config_as_the_cli_sees(incus_client, incusd):
    await incus_client.create_instance("box", image="busybox", config={"user.a": "1"})
    await incus_client.patch_instance(
        "box", config={"user.b": "2"}, devices={"scratch": {"type": "disk", "source": "/tmp", "path": "/mnt"}}
    )
    shown = json.loads(incusd.incus("query", "/1.0/instances/box").stdout)
    assert shown["config"]["user.a"] == "1" and shown["config"]["user.b"] == "2"
    assert shown["devices"]["scratch"]["path"] == "/mnt"

    current = await incus_client.get_instance("box")
    config = {k: v for k, v in current.config.items() if not k.startswith("user.")} | {"user.c": "3"}
    await incus_client.update_instance("box", config=config, devices={}, profiles=current.profiles)
    config = json.loads(incusd.incus("query", "/1.0/instances/box").stdout)["config"]
    assert config.get("user.c") == "3" and "user.a" not in config
    await incus_client.delete_instance("box")
    assert cli_json(incusd, "list") == []


async def test_ephemeral_container_disappears_when_stopped(incus_client, incusd):
    await incus_client.create_instance("disp", image="busybox", ephemeral=True, start=True)
    assert (await incus_client.get_instance("disp")).ephemeral
    await incus_client.change_state("disp", "stop", force=True, project="default")
    await wait_until_async(lambda: cli_json(incusd, "list") == [], 15, "the stopped ephemeral container to go")


async def test_storage_volumes_are_created_listed_and_deleted_in_a_project(incus_client, incusd):
    await incus_client.create_project("dom", config=PROJECT_FEATURES)
    await incus_client.create_storage_volume("default", "data", config={"user.anklume.managed": "true"}, project="dom")
    await incus_client.patch_storage_volume("default", "data", description="kept", project="dom")
    listed = cli_json(incusd, "storage", "volume", "list", "default", "--project=dom")
    assert [(v["name"], v["type"], v["description"]) for v in listed] == [("data", "custom", "kept")]
    [ours] = await incus_client.list_storage_volumes("default", project="dom")
    assert (ours.name, ours.project, ours.config["user.anklume.managed"]) == ("data", "dom", "true")
    await incus_client.delete_storage_volume("default", "data", project="dom")
    assert await incus_client.list_storage_volumes("default", project="dom") == []


async def test_images_and_aliases_are_listed_per_project(incus_client, incusd):
    await incus_client.create_project("dom", config=PROJECT_FEATURES)
    assert await incus_client.list_images(project="dom") == []
    with pytest.raises(IncusNotFound):
        await incus_client.get_image_alias("busybox", project="dom")
    fingerprint = incusd.import_image("dom", "busybox")
    [image] = await incus_client.list_images(project="dom")
    assert image.fingerprint == fingerprint and [a.name for a in image.aliases] == ["busybox"]
    assert (await incus_client.get_image_alias("busybox", project="dom")).target == fingerprint


async def test_missing_instance_raises_not_found_with_incus_message_and_the_request(incus_client):
    with pytest.raises(IncusNotFound) as caught:
        await incus_client.get_instance("ghost", project="default")
    error = caught.value
    assert error.status == 404 and error.method == "GET"
    assert "Instance not found" in str(error) and "/1.0/instances/ghost" in str(error)
    assert "Traceback" not in str(error) and "\n" not in str(error)
    with pytest.raises(IncusNotFound):
        await incus_client.delete_project("ghost")


async def test_failed_operation_raises_incus_error_with_the_operations_message(incus_client):
    bad_disk = {"bad": {"type": "disk", "source": "/does/not/exist", "path": "/mnt"}}
    with pytest.raises(IncusError) as caught:
        await incus_client.create_instance("box", image="busybox", devices=bad_disk)
    assert "Missing source path" in caught.value.message
    assert caught.value.method == "POST" and caught.value.path.startswith("/1.0/instances")
    with pytest.raises(IncusError) as caught:
        await incus_client.create_project("default")
    assert caught.value.status and caught.value.status >= 400 and "default" in caught.value.message


async def test_a_socket_that_does_not_exist_is_unreachable_and_named(tmp_path):
    socket_path = tmp_path / "nowhere" / "unix.socket"
    async with IncusClient(f"unix://{socket_path}") as client:
        with pytest.raises(IncusUnreachable, match=str(socket_path)):
            await client.server_info()
        with pytest.raises(IncusUnreachable, match=str(socket_path)):
            await client.events().connect()


async def test_a_socket_nobody_listens_on_is_unreachable(tmp_path):
    path = tmp_path / "unix.socket"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as stale:
        stale.bind(str(path))
    async with IncusClient(f"unix://{path}") as client:
        with pytest.raises(IncusUnreachable, match="could not be reached"):
            await client.list_instances()


async def test_daemon_killed_mid_call_is_unreachable_for_requests_and_events(incus_daemon):
    victim = ThrowawayIncus().start()
    try:
        victim.incus("launch", "busybox", "box")
        async with IncusClient(victim.url) as client:
            stream = await client.events().connect()
            sent = client.requests
            call = asyncio.create_task(client.exec("box", ["sleep", "60"], project="default"))

            async def waiting_on_the_command() -> bool:
                """The exec answered and the wait on its operation sent (the daemon read in a thread meanwhile)."""
                if client.requests < sent + 2:
                    return False
                running = (await asyncio.to_thread(victim.query, "/1.0/operations?recursion=1")).get("running", [])
                return any(op["description"] == "Executing command" for op in running)

            await wait_until_async(waiting_on_the_command, 20, "the exec call to wait on its running command")
            os.kill(victim.daemon_pid, 9)
            with pytest.raises(IncusUnreachable, match="closed the connection mid-request"):
                await asyncio.wait_for(call, 20)
            with pytest.raises(IncusUnreachable, match="closed the event stream"):
                async with asyncio.timeout(20):
                    async for _event in stream:  # events sent before the daemon died come first
                        pass
            await stream.aclose()
            with pytest.raises(IncusUnreachable):
                await client.server_info()
    finally:
        victim.stop()
    assert not victim.dir.exists()


def test_https_with_a_client_certificate_reaches_the_daemon(incusd):
    access = incusd.enable_https()

    async def talk() -> tuple[str, list[str], str]:
        async with IncusClient(
            access["url"], cert=access["cert"], key=access["key"], server_cert=access["server_cert"]
        ) as client:
            info = await client.server_info()
            projects = [p.name for p in await client.list_projects()]
            async with client.events(("lifecycle",)) as stream:
                await client.create_project("over-https")
                event = await stream.wait_for(lambda e: e["metadata"].get("action") == "project-created", 10)
            return info.auth, projects, event["metadata"]["source"]

    auth, projects, source = incusd.in_netns(lambda: asyncio.run(talk()))
    assert (auth, projects, source) == ("trusted", ["default"], "/1.0/projects/over-https")
    assert "over-https" in incusd.incus("project", "list", "--format=csv").stdout


def test_https_with_the_wrong_pinned_certificate_is_refused(incusd):
    access = incusd.enable_https()

    async def talk() -> None:
        async with IncusClient(
            access["url"], cert=access["cert"], key=access["key"], server_cert=access["cert"]
        ) as client:
            await client.server_info()

    with pytest.raises(IncusUnreachable, match="CERTIFICATE_VERIFY_FAILED"):
        incusd.in_netns(lambda: asyncio.run(talk()))


async def test_debian_image_runs_python3_and_stops_cleanly(incus_client, incusd, debian_image):
    await incus_client.create_instance("deb", image="debian", start=True)
    result = await incus_client.exec("deb", ["python3", "-c", "print(6 * 7)"], project="default")
    assert (result.exit_code, result.stdout) == (0, "42\n")
    started = time.monotonic()
    await incus_client.change_state("deb", "stop", timeout=20, project="default")
    assert time.monotonic() - started < 10, "the image's init exits on SIGPWR"
    assert cli_json(incusd, "list", "deb")[0]["status"] == "Stopped"


def test_endpoint_is_explicit_url_then_anklume_incus_then_incus_dir_then_default(monkeypatch, tmp_path):
    monkeypatch.delenv("ANKLUME_INCUS", raising=False)
    monkeypatch.delenv("INCUS_DIR", raising=False)
    assert resolve_endpoint().socket == "/var/lib/incus/unix.socket"
    monkeypatch.setenv("INCUS_DIR", "/srv/incus")
    assert resolve_endpoint().socket == "/srv/incus/unix.socket"
    monkeypatch.setenv("ANKLUME_INCUS", "unix:///run/other.socket")
    assert resolve_endpoint().url == "unix:///run/other.socket"
    assert resolve_endpoint("unix:///explicit.socket").socket == "/explicit.socket"
    assert resolve_endpoint("/bare/path.socket").socket == "/bare/path.socket"
    for bad in ("http://host:8443", "unix://", "ftp://x"):
        with pytest.raises(IncusUrlError):
            resolve_endpoint(bad)


def test_https_endpoint_uses_the_incus_cli_certificates_and_pinned_server_cert(monkeypatch, tmp_path):
    conf = tmp_path / "incus"
    (conf / "servercerts").mkdir(parents=True)
    (conf / "servercerts" / "lab.crt").write_text("pinned")
    (conf / "config.yml").write_text("remotes:\n  lab:\n    addr: https://10.0.0.5:8443\n")
    monkeypatch.delenv("INCUS_CONF", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    endpoint = resolve_endpoint("https://10.0.0.5")
    assert endpoint.url == "https://10.0.0.5:8443" and not endpoint.is_unix
    assert (endpoint.cert, endpoint.key) == (conf / "client.crt", conf / "client.key")
    assert endpoint.server_cert == Path(conf / "servercerts" / "lab.crt")
    assert resolve_endpoint("https://10.0.0.6:8443").server_cert is None
    explicit = resolve_endpoint("https://h:9443", cert="/c.crt", key="/c.key", server_cert="/s.crt")
    assert (str(explicit.cert), str(explicit.server_cert), explicit.url) == ("/c.crt", "/s.crt", "https://h:9443")
