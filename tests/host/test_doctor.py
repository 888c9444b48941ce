"""doctor on the throwaway daemon and on broken set-ups: each problem found, each with a fix to copy."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from anklume_tui.cli import main
from anklume_tui.engine.host.doctor import DoctorHost, build_report, host_findings, incus_findings, run_doctor
from anklume_tui.engine.incus.models import Profile, ServerInfo
from anklume_tui.engine.isolation.boot import BootFiles
from anklume_tui.verbs.doctor import exit_code


def healthy_host(tmp_path: Path, **changes) -> DoctorHost:
    (tmp_path / "subuid").write_text("root:1000000:1000000000\n")
    (tmp_path / "subgid").write_text("root:1000000:1000000000\n")
    (tmp_path / "modules" / "br_netfilter").mkdir(parents=True)
    (tmp_path / "context").mkdir()
    (tmp_path / "context" / "absolute_level").write_text("0\n")
    (tmp_path / "context" / "vm_nested").write_text("true\n")
    tools = {"nft": "/usr/sbin/nft", "tmux": "/usr/bin/tmux", "ansible-playbook": "/usr/bin/ansible-playbook"}
    fields = {
        "subuid": tmp_path / "subuid",
        "subgid": tmp_path / "subgid",
        "modules": tmp_path / "modules",
        "context": tmp_path / "context",
        "which": tools.get,
        "nft_boot": booting_ruleset(tmp_path / "root"),
    }
    return DoctorHost(**{**fields, **changes})


def booting_ruleset(root: Path) -> BootFiles:
    """A root whose nftables.conf includes a persisted ruleset, nftables.service enabled (a fake systemctl)."""
    (root / "etc/nftables.d").mkdir(parents=True)
    (root / "etc/nftables.d/anklume-isolation.nft").write_text("table inet anklume\n")
    (root / "etc/nftables.conf").write_text(f'flush ruleset\ninclude "{root}/etc/nftables.d/anklume-isolation.nft"\n')
    systemctl = root / "systemctl"
    systemctl.write_text("#!/bin/sh\necho enabled\n")
    systemctl.chmod(0o755)
    return BootFiles(root / "etc/nftables.conf", root / "etc/nftables.d", root, str(systemctl))


@pytest.fixture(autouse=True)
def no_infra(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ANKLUME_INFRA", raising=False)


def by_check(report) -> dict[str, list]:
    found: dict[str, list] = {}
    for f in report.findings:
        found.setdefault(f.check, []).append(f)
    return found


async def test_a_healthy_daemon_and_host_give_no_error(incusd, tmp_path):
    report = await run_doctor(incusd.url, host=healthy_host(tmp_path))
    assert report.ok and report.incus_reachable, [f for f in report.findings if f.status != "ok"]
    checks = by_check(report)
    assert "reachable" in checks["incus"][0].message and checks["incus"][0].message.startswith("Incus 6")
    assert {"storage-pool", "default-profile", "subuid", "subgid", "nft", "nft-boot", "tmux", "gpu", "context"} <= set(
        checks
    )
    assert exit_code(report) == 0


async def test_a_default_profile_without_root_disk_is_an_error_whose_fix_works(incusd, tmp_path):
    incusd.incus("profile", "device", "remove", "default", "root")
    host = healthy_host(tmp_path)
    report = await run_doctor(incusd.url, host=host)
    (finding,) = by_check(report)["default-profile"]
    assert finding.status == "error" and "no root disk" in finding.message
    assert exit_code(report) == 1
    incusd.incus(*shlex.split(finding.fix)[1:])
    assert (await run_doctor(incusd.url, host=host)).ok


class NoPoolIncus:
    url = "unix:///fake"

    async def server_info(self):
        return ServerInfo.model_validate({"environment": {"server_version": "6.0"}})

    async def storage_pool_names(self):
        return ["other"]

    async def get_profile(self, name, project="default"):
        return Profile(name="default", devices={"root": {"type": "disk", "path": "/", "pool": "other"}})


async def test_a_missing_default_storage_pool_is_an_error_with_its_create_command():
    (pool,) = by_check(build_report(await incus_findings(NoPoolIncus())))["storage-pool"]
    assert pool.status == "error" and "other" in pool.message
    assert pool.fix == "incus storage create default dir"


def test_a_bad_context_file_is_an_error(tmp_path):
    host = healthy_host(tmp_path)
    (host.context / "absolute_level").write_text("one\n")
    (host.context / "yolo").write_text("maybe\n")
    bad = [f for f in host_findings(host, None) if f.check == "context" and f.status == "error"]
    assert len(bad) == 2 and "not an integer" in bad[0].message and "not true or false" in bad[1].message
    assert bad[0].fix == f"echo 0 | sudo tee {host.context / 'absolute_level'}"


def test_missing_tools_are_reported_with_an_install_command(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    host = healthy_host(tmp_path, which=DoctorHost().which)
    checks = by_check(build_report(host_findings(host, None)))
    assert checks["nft"][0].status == "error" and checks["nft"][0].fix == "sudo apt install nftables"
    assert checks["tmux"][0].status == "warning"
    assert checks["gpu"][0].status == "ok" and "nvidia-smi not present" in checks["gpu"][0].message
    # ansible-playbook is still found beside the running Python (the venv's bin)
    assert checks["ansible-playbook"][0].status == "ok"


def test_a_small_subuid_range_is_an_error_and_a_missing_file_a_warning(tmp_path):
    host = healthy_host(tmp_path)
    host.subuid.write_text("root:100000:65535\nalice:165536:65536\n")
    host.subgid.unlink()
    uid, gid = (f for f in host_findings(host, None) if f.check in ("subuid", "subgid"))
    assert uid.status == "error" and "65535" in uid.message and "tee -a" in uid.fix
    assert gid.status == "warning"


def test_br_netfilter_not_loaded_is_a_warning(tmp_path):
    host = healthy_host(tmp_path)
    (host.modules / "br_netfilter").rmdir()
    (finding,) = (f for f in host_findings(host, None) if f.check == "br_netfilter")
    assert finding.status == "warning" and finding.fix.startswith("sudo modprobe br_netfilter")


def test_a_subnet_conflict_with_the_infra_is_reported(tmp_path, monkeypatch):
    import anklume_tui.engine.host.hostinfo as hostinfo
    from anklume_tui.psot.context import HostNetwork

    infra = tmp_path / "infra.yml"
    infra.write_text(
        "project_name: lab\nglobal: {addressing: {}}\ndomains: {work: {trust_level: trusted, machines: {dev: {}}}}\n"
    )
    monkeypatch.delenv("ANKLUME_SKIP_HOST_SUBNET_CHECK", raising=False)
    import ipaddress

    monkeypatch.setattr(hostinfo, "host_networks", lambda: (HostNetwork("eth0", ipaddress.IPv4Network("10.0.0.0/8")),))
    (finding,) = (f for f in host_findings(healthy_host(tmp_path), str(infra)) if f.check == "subnets")
    assert finding.status == "error" and "SUBNET CONFLICT" in finding.message and "zone_base" in finding.fix


def test_without_a_valid_infra_the_subnet_check_says_it_did_not_compare(tmp_path):
    host = healthy_host(tmp_path)
    for infra in (tmp_path / "nothing-here.yml", tmp_path / "broken.yml"):
        if infra.name == "broken.yml":
            infra.write_text("domains: [not, a, mapping]\n")
        (finding,) = (f for f in host_findings(host, str(infra)) if f.check == "subnets")
        assert (
            finding.status == "ok"
            and finding.message == f"{infra}: no valid infra there: host subnet conflicts not checked (see `validate`)"
        )


def test_unreachable_incus_alone_exits_3_and_every_other_check_still_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ANKLUME_CONTEXT_DIR", str(tmp_path / "none"))
    host = healthy_host(tmp_path)
    monkeypatch.setattr("anklume_tui.engine.host.doctor.DoctorHost", lambda: host)
    assert main(["--batch", "doctor", "--json", "--incus", f"unix://{tmp_path}/no.socket"]) == 3
    report = json.loads(capsys.readouterr().out)
    assert report["incus_reachable"] is False and report["ok"] is False
    assert {f["check"] for f in report["findings"]} >= {"incus", "subuid", "nft", "tmux", "gpu", "context"}
    (host.context / "yolo").write_text("perhaps\n")
    assert main(["--batch", "doctor", "--incus", f"unix://{tmp_path}/no.socket"]) == 1
    out = capsys.readouterr().out
    assert "[FAIL] incus: Incus unreachable" in out and "fix: sudo systemctl start incus" in out
