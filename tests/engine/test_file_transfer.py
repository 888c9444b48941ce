"""copy-file: one file between machines the infra connects (same domain, a network policy, a shared volume),
streamed through the Incus files API; checked with the incus CLI of the throwaway daemon."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import pytest

from anklume_tui.engine.incus import files
from anklume_tui.engine.machines.file_transfer import (
    TransferRefused,
    TransferUsageError,
    check_link,
    destinations,
    parse_location,
)
from anklume_tui.psot.context import HostContext
from anklume_tui.psot.pipeline import run_psot
from tests.engine.incus_helpers import batch, isolate_host, make_domain, make_instance

INFRA = """\
project_name: ft
global:
  addressing: {}
  default_os_image: busybox
domains:
  alpha:
    trust_level: trusted
    machines:
      alpha-a: {}
      alpha-b: {}
  beta:
    trust_level: trusted
    machines:
      beta-a: {}
  gamma:
    trust_level: semi-trusted
    machines:
      gamma-a: {}
  delta:
    trust_level: untrusted
    machines:
      delta-a: {}
      delta-b: {}
  omega:
    trust_level: untrusted
    machines:
      omega-a: {}
network_policies:
  - from: alpha-a
    to: beta
    ports: [22]
  - from: omega
    to: host
  - from: host
    to: omega
    bidirectional: true
shared_volumes:
  docs:
    consumers:
      gamma: ro
      delta-a: rw
"""
NETS = {"alpha": "10.110.0", "beta": "10.110.1", "gamma": "10.120.0", "delta": "10.140.0"}


def infra_of(tmp_path: Path, text: str = INFRA):
    path = tmp_path / "infra.yml"
    path.write_text(text)
    result = run_psot(path, HostContext(skip_subnet_check=True))
    assert result.valid, [f.render() for f in result.findings]
    return result.infra


def link(infra, source: str, destination: str) -> str | None:
    try:
        return check_link(infra, source, destination).link.kind
    except TransferRefused:
        return None


def test_machines_of_one_domain_are_always_connected(tmp_path):
    assert link(infra_of(tmp_path), "alpha-a", "alpha-b") == "same-domain"


def test_a_one_way_policy_connects_its_two_ends_in_either_direction(tmp_path):
    infra = infra_of(tmp_path)
    assert link(infra, "alpha-a", "beta-a") == "network-policy"
    assert link(infra, "beta-a", "alpha-a") == "network-policy"


def test_a_policy_naming_a_machine_connects_that_machine_only(tmp_path):
    infra = infra_of(tmp_path)
    assert link(infra, "alpha-b", "beta-a") is None
    assert link(infra, "beta-a", "alpha-b") is None


def test_a_bidirectional_domain_policy_connects_every_machine_of_both(tmp_path):
    text = INFRA.replace("from: alpha-a\n    to: beta\n", "from: beta\n    to: alpha\n    bidirectional: true\n")
    infra = infra_of(tmp_path, text)
    assert link(infra, "alpha-b", "beta-a") == link(infra, "beta-a", "alpha-a") == "network-policy"


def test_host_policies_connect_no_machines(tmp_path):
    text = INFRA.replace("to: omega\n", "to: gamma\n")  # omega -> host and host <-> gamma
    assert link(infra_of(tmp_path, text), "omega-a", "gamma-a") is None


def test_a_shared_volume_connects_consumers_named_by_domain_and_by_machine(tmp_path):
    infra = infra_of(tmp_path)
    assert link(infra, "gamma-a", "delta-a") == "shared-volume"  # gamma by domain, delta-a by name
    assert link(infra, "delta-a", "gamma-a") == "shared-volume"
    assert link(infra, "delta-b", "gamma-a") is None  # delta-b consumes nothing


def test_a_refusal_says_which_domains_and_what_to_add(tmp_path):
    with pytest.raises(TransferRefused) as refused:
        check_link(infra_of(tmp_path), "delta-b", "beta-a")
    assert str(refused.value).startswith("no network policy or shared volume connects domain delta and domain beta")
    assert "infra.yml" in str(refused.value)


def test_the_form_lists_every_other_machine_with_its_link_or_refusal(tmp_path):
    found = {m.name: (link and link.kind, why) for m, link, why in destinations(infra_of(tmp_path), "alpha-a")}
    assert "alpha-a" not in found
    assert found["alpha-b"] == ("same-domain", "")
    assert found["beta-a"] == ("network-policy", "")
    assert found["delta-a"][0] is None and "domain alpha and domain delta" in found["delta-a"][1]


def test_locations_are_machine_colon_absolute_path_of_a_declared_machine(tmp_path):
    assert parse_location("alpha-a:/etc/hosts").path == "/etc/hosts"
    for bad in ("alpha-a", "alpha-a:etc/hosts", ":/etc/hosts"):
        with pytest.raises(TransferUsageError):
            parse_location(bad)
    with pytest.raises(TransferUsageError, match="unknown machine"):
        check_link(infra_of(tmp_path), "nobody", "alpha-a")


# Against the throwaway daemon.


@pytest.fixture
def domains(incusd, tmp_path, monkeypatch):
    """The domains' projects with their machines running, and the infra file; returns a runner of copy-file."""
    isolate_host(tmp_path, monkeypatch)
    (tmp_path / "infra.yml").write_text(INFRA)

    def build(*machines: str):
        for domain in sorted({m.split("-")[0] for m in machines}):
            make_domain(incusd, domain, f"net-{domain}", NETS[domain])
        for machine in machines:
            make_instance(incusd, machine.split("-")[0], machine, running=True, protected=False)

    return build


def copy(capsys, incusd, tmp_path, source: str, destination: str) -> tuple[int, dict, str]:
    code, out, err = batch(
        capsys, incusd, "copy-file", source, destination, "--infra", str(tmp_path / "infra.yml"), "--json"
    )
    return code, json.loads(out) if out else {}, err


def put(incusd, machine: str, path: str, content: bytes, tmp_path: Path, mode: str, owner: int) -> None:
    local = tmp_path / "upload"
    local.write_bytes(content)
    project = machine.split("-")[0]
    where = f"--project={project}"
    incusd.incus(
        "file", "push", str(local), f"{machine}{path}", where, f"--mode={mode}", f"--uid={owner}", f"--gid={owner}"
    )


def read(incusd, machine: str, path: str, tmp_path: Path) -> bytes:
    local = tmp_path / "download"
    local.unlink(missing_ok=True)
    incusd.incus("file", "pull", f"{machine}{path}", str(local), f"--project={machine.split('-')[0]}")
    return local.read_bytes()


def stat(incusd, machine: str, path: str) -> str:
    found = incusd.incus("exec", machine, f"--project={machine.split('-')[0]}", "--", "stat", "-c", "%a %u %g", path)
    return found.stdout.strip()


def exists(incusd, machine: str, path: str) -> bool:
    where = f"--project={machine.split('-')[0]}"
    return incusd.incus("exec", machine, where, "--", "test", "-e", path, check=False).returncode == 0


@pytest.mark.incus
def test_policy_joined_domains_copy_a_file_both_ways_with_content_and_mode(domains, incusd, tmp_path, capsys):
    domains("alpha-a", "beta-a")
    big = os.urandom(3 << 20) + b"end"  # several chunks: streamed, not one body
    put(incusd, "alpha-a", "/root/report.bin", big, tmp_path, "0640", 1234)
    code, report, err = copy(capsys, incusd, tmp_path, "alpha-a:/root/report.bin", "beta-a:/tmp/report.bin")
    assert code == 0, err
    assert read(incusd, "beta-a", "/tmp/report.bin", tmp_path) == big
    assert stat(incusd, "beta-a", "/tmp/report.bin") == "640 1234 1234"
    assert (report["copied"], report["link"], report["size"], report["mode"]) == (
        True,
        "network-policy",
        len(big),
        "0640",
    )
    put(incusd, "beta-a", "/root/reply.txt", b"back again\n", tmp_path, "0600", 0)
    code, report, err = copy(capsys, incusd, tmp_path, "beta-a:/root/reply.txt", "alpha-a:/tmp/")
    assert code == 0, err
    assert report["destination"] == "alpha-a:/tmp/reply.txt"  # into the directory, under its own name
    assert read(incusd, "alpha-a", "/tmp/reply.txt", tmp_path) == b"back again\n"
    assert stat(incusd, "alpha-a", "/tmp/reply.txt") == "600 0 0"


@pytest.mark.incus
def test_shared_volume_consumers_copy_a_file_both_ways(domains, incusd, tmp_path, capsys):
    domains("gamma-a", "delta-a")
    put(incusd, "gamma-a", "/root/notes.txt", b"from gamma\n", tmp_path, "0755", 0)
    code, report, err = copy(capsys, incusd, tmp_path, "gamma-a:/root/notes.txt", "delta-a:/root/notes.txt")
    assert code == 0 and report["link"] == "shared-volume", err
    assert read(incusd, "delta-a", "/root/notes.txt", tmp_path) == b"from gamma\n"
    assert stat(incusd, "delta-a", "/root/notes.txt") == "755 0 0"
    put(incusd, "delta-a", "/root/answer.txt", b"from delta\n", tmp_path, "0644", 0)
    code, _, err = copy(capsys, incusd, tmp_path, "delta-a:/root/answer.txt", "gamma-a:/root/answer.txt")
    assert code == 0, err
    assert read(incusd, "gamma-a", "/root/answer.txt", tmp_path) == b"from delta\n"


@pytest.mark.incus
def test_unconnected_domains_are_refused_with_exit_4_and_nothing_is_written(domains, incusd, tmp_path, capsys):
    domains("delta-b", "beta-a")
    put(incusd, "delta-b", "/root/secret.txt", b"stay here\n", tmp_path, "0600", 0)
    code, report, err = copy(capsys, incusd, tmp_path, "delta-b:/root/secret.txt", "beta-a:/root/secret.txt")
    assert code == 4
    assert "no network policy or shared volume connects domain delta and domain beta" in err
    assert report["copied"] is False and "add one to infra.yml" in report["error"]
    assert not exists(incusd, "beta-a", "/root/secret.txt")


@pytest.mark.incus
def test_a_missing_source_is_exit_1_naming_it_and_a_directory_is_refused(domains, incusd, tmp_path, capsys):
    domains("alpha-a", "beta-a")
    code, _, err = copy(capsys, incusd, tmp_path, "alpha-a:/root/nothing-here", "beta-a:/tmp/x")
    assert code == 1 and "alpha-a:/root/nothing-here does not exist" in err
    code, _, err = copy(capsys, incusd, tmp_path, "alpha-a:/etc", "beta-a:/tmp/x")
    assert code == 1 and "alpha-a:/etc is a directory" in err
    assert not exists(incusd, "beta-a", "/tmp/x")


@pytest.mark.incus
def test_a_setuid_setgid_file_is_copied_without_those_bits(domains, incusd, tmp_path, capsys, monkeypatch):
    domains("alpha-a", "beta-a")
    put(incusd, "alpha-a", "/root/tool", b"#!/bin/sh\n", tmp_path, "0755", 0)
    incusd.incus("exec", "alpha-a", "--project=alpha", "--", "chmod", "6755", "/root/tool")
    assert stat(incusd, "alpha-a", "/root/tool") == "6755 0 0"
    # This Incus reports only the permission bits; a daemon that reports the whole mode (as the file has it)
    # must not get setuid/setgid copied either.
    real_head = files._head

    def whole_mode(response):
        head = real_head(response)
        return dataclasses.replace(head, mode=head.mode | 0o6000) if head.type == "file" else head

    monkeypatch.setattr(files, "_head", whole_mode)
    code, report, err = copy(capsys, incusd, tmp_path, "alpha-a:/root/tool", "beta-a:/root/tool")
    assert code == 0, err
    assert stat(incusd, "beta-a", "/root/tool") == "755 0 0"
    assert report["mode"] == "0755"
