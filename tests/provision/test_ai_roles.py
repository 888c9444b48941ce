"""ollama_server, stt_server and opencode_server converged for real (issue 25), in one playbook run on two systemd
containers of the ai-tools domain, through `anklume-tui --batch provision`: gpu-server takes the offline path
(`anklume_offline: true`: archives, wheels and model copied from this machine), gpu-online the online one
(downloads from a stand-in site on its bridge, checksums checked). What they install is a stand-in for the
upstream program (tests/provision/ai_roles_helpers.py) that answers HTTP as configured, so each service is
reached on its port over the machine's address, and read back: its user, its folder, its settings. A second
run changes nothing. Then ai-switch on the same lab stops and restarts the units the roles installed."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from anklume_tui.engine.isolation.ai_access import ai_services
from tests.engine.apply_helpers import batch_env
from tests.image_helpers import build_systemd_image
from tests.provision.ai_roles_helpers import (
    StandInSite,
    docker_image_archive,
    registry_files,
    sha256,
    write_stand_ins,
)
from tests.provision.provision_helpers import anklume, json_of, write_lab
from tests.wait_helpers import wait_until

INFRA = """\
project_name: airoles
global:
  addressing: {}
  default_os_image: busybox
  ai_access_policy: exclusive
  ai_access_default: perso
domains:
  ai-tools:
    machines:
      gpu-server:
        os_image: systemd
        roles: [ollama_server, stt_server, opencode_server]
      gpu-online:
        os_image: systemd
        config: {security.nesting: "true"}
        roles: [ollama_server, stt_server, opencode_server, open_webui, lobechat]
      ai-webui:
        os_image: systemd
        config: {security.nesting: "true"}
        roles: [open_webui, lobechat]
  perso:
    machines:
      perso-a: {}
  pro:
    machines:
      pro-a: {}
"""
AI = ("gpu-server", "gpu-online")
WEBUI = "ai-webui"
# The roles' default images, and the port each stand-in listens on unless PORT says otherwise (as the real ones).
IMAGES = {
    "open_webui": ("ghcr.io/open-webui/open-webui:main", ("open_webui", 8080)),
    "lobechat": ("lobehub/lobe-chat:latest", ("lobechat", 3210)),
}
REGISTRY = "127.0.0.1:5000"
# `anklume-tui` with ai-switch's service names as they were before the roles defined them (the control).
OLD_NAMES = (
    "import sys\n"
    "from anklume_tui.engine.isolation import ai_access\n"
    "ai_access.ai_services = lambda roles=None: ('ollama', 'speaches')\n"
    "from anklume_tui import cli\n"
    "sys.exit(cli.main(sys.argv[1:]))\n"
)
# Debian's fastapi, uvicorn and python-multipart are in the systemd test image: the venv sees them, pip adds
# faster-whisper (the stand-in wheel) from the wheelhouse (offline) or the stand-in index (online).
STT_FROM_DEBIAN = "stt_server_system_site_packages: true\nstt_server_pip_packages: [faster-whisper]\n"
PORTS = {"ollama": 11434, "stt-server": 8000, "opencode": 4096}


def in_ai(daemon, machine: str, *command: str):
    return daemon.incus("exec", machine, "--project=ai-tools", "--", *command, check=False)


# An HTTP request made inside the machine: GET, or with a body, POST of that body as a form's audio file.
FETCH = """\
import sys, urllib.request as u
url, body, headers = sys.argv[1], None, {}
if len(sys.argv) > 2:
    b = "anklumeboundary"
    head = f'--{b}\\r\\nContent-Disposition: form-data; name="file"; filename="a.wav"\\r\\n\\r\\n'
    body = head.encode() + sys.argv[2].encode() + f"\\r\\n--{b}--\\r\\n".encode()
    headers = {"Content-Type": f"multipart/form-data; boundary={b}"}
print(u.urlopen(u.Request(url, data=body, headers=headers), timeout=10).read().decode())
"""


def fetch(daemon, machine: str, url: str, *audio: str) -> dict:
    """The JSON answer to a request made inside the machine (python3 urllib)."""
    result = in_ai(daemon, machine, "python3", "-c", FETCH, url, *audio)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def address(daemon, machine: str) -> str:
    found = daemon.incus_json("list", machine, "--project=ai-tools")
    nets = ((found[0].get("state") or {}).get("network") or {}) if found else {}
    addresses = [a["address"] for a in nets.get("eth0", {}).get("addresses", []) if a["family"] == "inet"]
    return addresses[0] if addresses else ""


def units(daemon, machine: str) -> dict[str, str]:
    """Each AI unit's InvocationID (a new one every start; empty while stopped)."""
    show = ("systemctl", "show", "-p", "InvocationID", "--value")
    return {unit: in_ai(daemon, machine, *show, unit).stdout.strip() for unit in PORTS}


def answering(daemon, machine: str, ip: str) -> bool:
    probe = f"import socket\nfor p in {tuple(PORTS.values())!r}: socket.create_connection(({ip!r}, p), 2).close()"
    return in_ai(daemon, machine, "python3", "-c", probe).returncode == 0


def networked(daemon, machine: str, tmp: Path) -> None:
    """The systemd test image configures no network (a cloud image would): DHCP on eth0 by systemd-networkd."""
    config = tmp / "20-eth0.network"
    config.write_text("[Match]\nName=eth0\n\n[Network]\nDHCP=ipv4\n")
    daemon.incus("file", "push", str(config), f"{machine}/etc/systemd/network/", "--project=ai-tools")
    assert in_ai(daemon, machine, "systemctl", "enable", "--now", "systemd-networkd").returncode == 0
    wait_until(lambda: address(daemon, machine), 30, f"{machine}'s address", 0.2)


@pytest.fixture(scope="module")
def lab(incus_daemon, debian_image, tmp_path_factory):
    """The lab applied, the ai-tools machines provisioned twice (the runs kept for the tests to read)."""
    incus_daemon.import_image("default", "systemd", image=build_systemd_image())
    tmp = tmp_path_factory.mktemp("airoles")
    made = write_stand_ins(tmp / "stand-ins")
    infra = write_lab(tmp, incus_daemon, INFRA, custom="anklume_offline: true\n")
    site = None
    try:
        applied = anklume(incus_daemon, tmp, "apply", infra, "--no-provision")
        assert applied.returncode == 0, applied.stderr + applied.stdout
        for machine in (*AI, WEBUI):
            networked(incus_daemon, machine, tmp)
        gateway = incus_daemon.incus("network", "get", "net-ai-tools", "ipv4.address").stdout.strip()
        site = StandInSite(incus_daemon, made["site"], gateway.split("/")[0])
        with (tmp / "host_vars" / "gpu-server.yml").open("a") as offline:
            offline.write(
                STT_FROM_DEBIAN
                + f"ollama_server_archive_file: {made['ollama']}\n"
                + f"ollama_server_archive_checksum: {sha256(made['ollama'])}\n"
                + f"opencode_server_archive_file: {made['opencode']}\n"
                + f"opencode_server_archive_checksum: {sha256(made['opencode'])}\n"
                + f"stt_server_wheelhouse: {made['wheelhouse']}\nstt_server_model_files: {made['model']}\n"
            )
        with (tmp / "host_vars" / "gpu-online.yml").open("a") as online:
            online.write(
                "anklume_offline: false\n"
                + STT_FROM_DEBIAN
                + f"ollama_server_archive_url: {site.url}/ollama-linux-amd64.tgz\n"
                + f"ollama_server_archive_checksum: {sha256(made['ollama'])}\n"
                + f"opencode_server_download_url: {site.url}/opencode-linux-x64.zip\n"
                + f"opencode_server_archive_checksum: {sha256(made['opencode'])}\n"
                + f"stt_server_index_url: {site.url}/simple/\nstt_server_model_site: {site.url}/\n"
                + f"stt_server_trusted_hosts: [{site.url.split('/')[2].split(':')[0]}]\n"
            )
        # Docker pulls over plain HTTP from 127.0.0.0/8 only: the stand-in registry runs in the machine itself.
        registry = registry_files(tmp / "registry", dict(IMAGES.values()))
        incus_daemon.incus("file", "push", "-r", str(registry), "gpu-online/root/", "--project=ai-tools")
        serve = ["python3", "/root/registry/registry.py", "/root/registry", REGISTRY.split(":")[1]]
        assert in_ai(incus_daemon, "gpu-online", "systemd-run", "--unit=standin-registry", *serve).returncode == 0
        with (tmp / "host_vars" / "gpu-online.yml").open("a") as online:
            for role, (tag, _) in IMAGES.items():
                online.write(f"{role}_image: {REGISTRY}/{tag}\n{role}_registry_url: http://{REGISTRY}/v2/\n")
        with (tmp / "host_vars" / f"{WEBUI}.yml").open("a") as webui:
            for role, (tag, (name, port)) in IMAGES.items():
                archive = docker_image_archive(tmp / f"{role}.tar", tag, name, port)
                webui.write(f"{role}_image_archive: {archive}\n")
        t0 = time.monotonic()
        first = anklume(incus_daemon, tmp, "provision", infra, "--limit", "ai-tools", "--json")
        first_s = time.monotonic() - t0
        t0 = time.monotonic()
        second = anklume(incus_daemon, tmp, "provision", infra, "--limit", "ai-tools", "--json")
        second_s = time.monotonic() - t0
        print(f"ai roles on two machines: first converge {first_s:.1f} s, second {second_s:.1f} s")
        yield {"infra": infra, "tmp": tmp, "first": first, "second": second, "site": site, "daemon": incus_daemon}
    finally:
        if site is not None:
            site.close()
        incus_daemon.reset()


def test_ai_roles_converge_offline_and_online_then_a_second_run_changes_nothing(lab):
    daemon, first, second = lab["daemon"], lab["first"], lab["second"]
    assert first.returncode == 0, first.stderr + first.stdout
    assert {h["host"]: h["changed"] > 0 for h in json_of(first)["hosts"]} == dict.fromkeys((*AI, WEBUI), True)
    assert second.returncode == 0, second.stderr + second.stdout
    assert {h["host"]: h["changed"] for h in json_of(second)["hosts"]} == dict.fromkeys((*AI, WEBUI), 0)
    # the online machine downloaded from the stand-in site, the offline one never asked it for anything
    fetched = lab["site"].fetched()
    assert {"/ollama-linux-amd64.tgz", "/opencode-linux-x64.zip", "/simple/faster-whisper/"} <= set(fetched)
    assert any(path.startswith("/simple/faster-whisper/faster_whisper-1.0.0") for path in fetched)
    for machine in AI:
        ip = address(daemon, machine)
        wait_until(lambda m=machine, i=ip: answering(daemon, m, i), 30, f"the AI services of {machine} listening")
        uid = {name: in_ai(daemon, machine, "id", "-u", name).stdout.strip() for name in ("ollama", "opencode", "stt")}

        ollama = fetch(daemon, machine, f"http://{ip}:11434/api/version")
        assert (ollama["standin"], ollama["keep_alive"], str(ollama["uid"])) == ("ollama", "5m", uid["ollama"])

        opencode = fetch(daemon, machine, f"http://{ip}:4096/app")
        assert (opencode["standin"], opencode["cwd"], str(opencode["uid"])) == (
            "opencode",
            "/srv/opencode",
            uid["opencode"],
        )

        # stt_server's own program (templates/stt_server.py.j2) on Debian's FastAPI, transcribing with the model
        health = fetch(daemon, machine, f"http://{ip}:8000/health")
        model = "/opt/stt-server/model" if machine == "gpu-server" else "large-v3-turbo"
        assert health == {"status": "ok", "model": model}
        heard = fetch(daemon, machine, f"http://{ip}:8000/v1/audio/transcriptions", "0123456789")
        assert heard["text"] == f"stand-in {model} heard 10 bytes"
        pid = in_ai(daemon, machine, "systemctl", "show", "-p", "MainPID", "--value", "stt-server").stdout.strip()
        cmdline = in_ai(daemon, machine, "cat", f"/proc/{pid}/cmdline").stdout.split("\0")
        assert cmdline[1:] == ["-m", "uvicorn", "stt_server:app", "--host", "0.0.0.0", "--port", "8000", ""]
        assert in_ai(daemon, machine, "stat", "-c", "%U", f"/proc/{pid}").stdout.strip() == "stt"
        unit = in_ai(daemon, machine, "cat", "/etc/systemd/system/stt-server.service").stdout
        assert ("Environment=HF_HUB_OFFLINE=1" in unit) is (machine == "gpu-server")
        for service in PORTS:
            assert in_ai(daemon, machine, "systemctl", "is-enabled", service).stdout.strip() == "enabled"
        assert in_ai(daemon, machine, "test", "-e", "/root/ollama-linux.tgz").returncode == 1  # archive removed


def test_ai_switch_stops_and_restarts_the_units_the_ai_roles_install(lab):
    """ai-switch stops the previous holder's services by the names the roles give them (roles/*/vars): the
    speech-to-text service a client domain was using is stopped (a new invocation after the switch). The
    control first: the same switch with the old hard-coded names (`speaches`) finds no such unit to stop."""
    daemon, tmp, infra = lab["daemon"], lab["tmp"], lab["infra"]
    assert lab["first"].returncode == 0, "the lab did not converge"
    # ai-switch runs in gpu-server of the ai-tools project: here the offline machine plays that part
    before = units(daemon, "gpu-server")
    assert all(before.values()), before
    old_names = subprocess.run(
        [sys.executable, "-c", OLD_NAMES, "--batch", "ai-switch", "pro", "--infra", str(infra), "--json", "--no-flush"],
        env=batch_env(daemon, tmp),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert old_names.returncode == 0, old_names.stderr + old_names.stdout
    stopped = {s["step"]: s for s in json.loads(old_names.stdout)["steps"]}["stop services"]
    assert stopped["detail"].startswith("stop: ollama; speaches: ")  # no such unit

    switched = anklume(daemon, tmp, "ai-switch", infra, "perso", "--json", "--no-flush")
    assert switched.returncode == 0, switched.stderr + switched.stdout
    steps = {s["step"]: s for s in json.loads(switched.stdout)["steps"]}
    assert steps["stop services"] == {"step": "stop services", "outcome": "done", "detail": "stop: ollama, stt-server"}
    assert steps["restart services"]["detail"] == "start: ollama, stt-server"
    after = units(daemon, "gpu-server")
    assert after["stt-server"] and after["stt-server"] != before["stt-server"]  # stopped, then started anew
    assert after["ollama"] and after["ollama"] != before["ollama"]
    assert after["opencode"] == before["opencode"]  # not an AI-switch service: left running
    wait_until(lambda: answering(daemon, "gpu-server", address(daemon, "gpu-server")), 30, "the services back")


def test_ai_switch_reads_the_service_names_from_the_roles():
    roles = Path(__file__).resolve().parents[2] / "roles"
    assert ai_services(roles) == ("ollama", "stt-server")


def test_open_webui_and_lobechat_run_their_image_pulled_or_loaded_under_systemd(lab):
    """Docker runs in a nested container here (security.nesting). Each role gets its image (a stand-in: busybox
    serving a page on $PORT) by pulling it from a stand-in registry (gpu-online) or, offline, by loading an
    archive copied from this machine (ai-webui); its unit runs it: Open WebUI on the host network with PORT from
    open_webui_port, LobeChat published from its port 3210."""
    daemon = lab["daemon"]
    assert lab["first"].returncode == 0, "the lab did not converge"
    for machine in ("gpu-online", WEBUI):
        ip = address(daemon, machine)
        for unit, port, standin in (("open-webui", 3000, "open_webui"), ("lobechat", 3210, "lobechat")):
            url = f"http://{ip}:{port}/"
            wait_until(
                lambda m=machine, u=url: in_ai(daemon, m, "python3", "-c", FETCH, u).returncode == 0,
                30,
                f"{unit} answering on {machine} ({url})",
                0.2,
            )
            assert fetch(daemon, machine, url) == {"standin": standin, "port": str(port)}
            assert in_ai(daemon, machine, "systemctl", "is-enabled", unit).stdout.strip() == "enabled"
            assert in_ai(daemon, machine, "test", "-e", f"/root/{standin}-image.tar").returncode == 1
        data = in_ai(daemon, machine, "docker", "inspect", "--format", "{{json .Mounts}}", "open-webui").stdout
        assert json.loads(data)[0]["Source"] == "/var/lib/open-webui"
        env = in_ai(daemon, machine, "docker", "inspect", "--format", "{{json .Config.Env}}", "lobechat").stdout
        assert "OLLAMA_PROXY_URL=http://host.docker.internal:11434" in json.loads(env)
    pulled = in_ai(daemon, "gpu-online", "journalctl", "-u", "standin-registry", "--no-pager", "-o", "cat").stdout
    for tag, _ in IMAGES.values():
        repo = tag.rsplit(":", 1)[0]
        assert f'"GET /v2/{repo}/blobs/sha256:' in pulled  # the layers came from the stand-in registry
