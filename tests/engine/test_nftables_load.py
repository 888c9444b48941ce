"""Loading the isolation ruleset for real, inside the throwaway daemon's private network namespace: atomic
replace, idempotence, the `inet incus` table untouched, failures leaving the previous table and reporting
nft's message, bridges read from Incus, and the `nftables` verb."""

from __future__ import annotations

import json
import stat

import pytest

from anklume_tui.engine.host import paths
from anklume_tui.engine.incus.client import IncusClient
from anklume_tui.engine.isolation.enforce import apply_isolation, enforce_isolation
from anklume_tui.engine.isolation.nft import NftError, RulesetRefused, load_ruleset, render_host_ruleset
from tests.engine.incus_helpers import batch, isolate_host, make_domain
from tests.engine.nft_helpers import infra_from, work_and_dev

INFRA = work_and_dev(
    "load-test",
    "10.140",
    """\
network_policies:
  - description: dev-a reaches work-a
    from: dev-a
    to: work-a
    ports: [8080]
""",
)


@pytest.fixture(autouse=True)
def _own_host(tmp_path, monkeypatch):
    isolate_host(tmp_path, monkeypatch)
    monkeypatch.setenv("ANKLUME_NFT_PERSIST_DIR", str(tmp_path / "persist"))
    (tmp_path / "persist").mkdir()


@pytest.fixture
def netns(incusd):
    """The daemon's network namespace; our table is removed from it afterwards."""
    yield f"/proc/{incusd.pid}/ns/net"
    incusd.nsenter("nft", "delete", "table", "inet", "anklume", check=False)


@pytest.fixture
def bridges(incusd):
    make_domain(incusd, "work", "net-work", "10.140.0")
    make_domain(incusd, "dev", "net-dev", "10.140.1")
    return ["net-dev", "net-work"]


def listing(incusd, family: str, name: str) -> str | None:
    found = incusd.nsenter("nft", "list", "table", family, name, check=False)
    return found.stdout if found.returncode == 0 else None


def test_loading_installs_the_table_keeps_incus_table_and_a_second_load_changes_nothing(
    incusd, netns, bridges, tmp_path
):
    infra = infra_from(INFRA, tmp_path)
    incus_before = listing(incusd, "inet", "incus")
    assert incus_before and listing(incusd, "inet", "anklume") is None

    first = enforce_isolation(infra, bridges, netns=netns)
    assert (first.loaded, first.changed, first.error) == (True, True, None)
    table = listing(incusd, "inet", "anklume")
    assert "hook forward priority filter - 1" in table and "hook input priority filter - 1" in table
    assert 'iifname "net-dev" oifname "net-work" ip saddr 10.140.1.1 ip daddr 10.140.0.1 tcp dport 8080 accept' in table
    assert paths.isolation_ruleset_file().read_text() == first.ruleset
    assert first.persisted == tmp_path / "persist" / "anklume-isolation.nft"
    assert first.persisted.read_text() == first.ruleset

    second = enforce_isolation(infra, bridges, netns=netns)
    assert (second.loaded, second.changed) == (True, False)
    assert listing(incusd, "inet", "anklume") == table
    assert listing(incusd, "inet", "incus") == incus_before


def test_a_ruleset_nft_rejects_leaves_the_previous_table_and_reports_nfts_message(incusd, netns, bridges, tmp_path):
    infra = infra_from(INFRA, tmp_path)
    enforce_isolation(infra, bridges, netns=netns)
    before, saved = listing(incusd, "inet", "anklume"), paths.isolation_ruleset_file().read_text()
    broken = render_host_ruleset(infra, bridges).replace("ct state invalid drop", "ct state invalid frobnicate")
    with pytest.raises(NftError, match=r"nft -c refused the ruleset: .*Error: syntax error"):
        load_ruleset(broken, paths.isolation_ruleset_file(), netns=netns)
    assert listing(incusd, "inet", "anklume") == before
    assert paths.isolation_ruleset_file().read_text() == saved


def test_a_failing_load_after_a_passing_check_leaves_the_previous_table(incusd, netns, bridges, tmp_path):
    infra = infra_from(INFRA, tmp_path)
    enforce_isolation(infra, bridges, netns=netns)
    before = listing(incusd, "inet", "anklume")
    fake = tmp_path / "nft-that-fails-to-load"
    fake.write_text(
        '#!/bin/sh\nif [ "$1" = "-f" ]; then echo "Error: Could not process rule: simulated failure" >&2; exit 1; fi\n'
        'exec nft "$@"\n'
    )
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    other = infra_from(INFRA.replace("[8080]", "[9999]"), tmp_path)
    result = enforce_isolation(other, bridges, netns=netns, nft=str(fake))
    assert not result.loaded
    assert "simulated failure" in result.error and "the previous one stays" in result.error
    assert listing(incusd, "inet", "anklume") == before


def test_loading_refuses_a_ruleset_touching_another_table_before_calling_nft(incusd, netns, tmp_path):
    with pytest.raises(RulesetRefused, match="another table"):
        load_ruleset("table inet incus\ndelete table inet incus\n", tmp_path / "x.nft", netns=netns)
    assert listing(incusd, "inet", "incus") is not None


async def test_apply_isolation_uses_only_the_tagged_bridges_of_this_prefix(incusd, netns, bridges, tmp_path):
    incusd.incus("network", "create", "net-untagged", "ipv4.address=10.140.5.254/24", "ipv6.address=none")
    incusd.incus(
        "network",
        "create",
        "001-net-x",
        "ipv4.address=10.140.6.254/24",
        "ipv6.address=none",
        "user.anklume.managed=true",
    )
    infra = infra_from(INFRA, tmp_path)
    async with IncusClient(incusd.url) as client:
        result = await apply_isolation(client, infra, netns=netns, persist_dir=tmp_path / "persist")
    assert result.bridges == ["net-dev", "net-work"]
    assert result.loaded and "net-untagged" not in result.ruleset and "001-net-x" not in result.ruleset


def test_a_missing_persist_dir_is_a_warning_not_a_failure(incusd, netns, bridges, tmp_path):
    result = enforce_isolation(infra_from(INFRA, tmp_path), bridges, netns=netns, persist_dir=tmp_path / "absent")
    assert result.loaded and result.persisted is None
    assert any("absent does not exist" in w for w in result.warnings)


def test_nftables_verb_loads_and_reports_json(incusd, netns, bridges, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ANKLUME_NFT_NETNS", netns)
    (tmp_path / "infra.yml").write_text(INFRA)
    code, out, err = batch(capsys, incusd, "nftables", "--json", "--infra", str(tmp_path / "infra.yml"))
    assert code == 0, err
    report = json.loads(out)
    assert report["schema_version"] == 1
    assert (report["loaded"], report["dry_run"], report["bridges"]) == (True, False, ["net-dev", "net-work"])
    assert report["ruleset"] == paths.isolation_ruleset_file().read_text()
    assert listing(incusd, "inet", "anklume") is not None


def test_nftables_dry_run_without_incus_shows_the_declared_bridges_and_says_so(tmp_path, capsys):
    from anklume_tui import cli

    (tmp_path / "infra.yml").write_text(INFRA)
    code = cli.main(
        [
            "--batch",
            "nftables",
            "--dry-run",
            "--infra",
            str(tmp_path / "infra.yml"),
            "--incus",
            "unix:///nonexistent.sock",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0
    assert out.startswith("# anklume-tui network isolation")
    assert 'iifname "net-dev" oifname "net-dev" accept' in out and 'iifname "net-work" oifname "net-work"' in out
    assert "Incus unreachable" in err and "enabled domains' bridges" in err
    assert not paths.isolation_ruleset_file().exists()


def test_a_policy_naming_something_unknown_is_a_validation_error_and_nothing_loads(
    incusd, netns, bridges, tmp_path, capsys, monkeypatch
):
    monkeypatch.setenv("ANKLUME_NFT_NETNS", netns)
    (tmp_path / "infra.yml").write_text(INFRA.replace("to: work-a", "to: nowhere"))
    code, _, err = batch(capsys, incusd, "nftables", "--infra", str(tmp_path / "infra.yml"))
    assert code == 2 and "NP3" in err
    assert listing(incusd, "inet", "anklume") is None
