"""Loading a ruleset the live table already holds asks nft for the table's listing only (issue 17: the no-op
apply's end-of-run load); a table changed or deleted by hand since is loaded again whole. Real nft, inside the
throwaway daemon's network namespace, through a wrapper that logs each nft call."""

from __future__ import annotations

import pytest

from anklume_tui.engine.host import paths
from anklume_tui.engine.isolation.enforce import enforce_isolation
from tests.engine.incus_helpers import isolate_host
from tests.engine.nft_helpers import WORK_AND_DEV_BRIDGES, infra_from, work_and_dev

INFRA = work_and_dev("reload-test", "10.141")
BRIDGES = WORK_AND_DEV_BRIDGES


@pytest.fixture
def logged_nft(incusd, tmp_path, monkeypatch):
    """(nft wrapper path, its log); the daemon's namespace loses our table afterwards."""
    isolate_host(tmp_path, monkeypatch)
    monkeypatch.setenv("ANKLUME_NFT_PERSIST_DIR", str(tmp_path / "persist"))
    (tmp_path / "persist").mkdir()
    monkeypatch.setenv("ANKLUME_NFT_NETNS", f"/proc/{incusd.pid}/ns/net")
    log = tmp_path / "nft.log"
    wrapper = tmp_path / "nft"
    wrapper.write_text(f'#!/bin/sh\necho "$*" >> {log}\nexec nft "$@"\n')
    wrapper.chmod(0o755)
    yield str(wrapper), log
    incusd.nsenter("nft", "delete", "table", "inet", "anklume", check=False)


def calls(log) -> list[str]:
    found = log.read_text().splitlines() if log.exists() else []
    log.unlink(missing_ok=True)
    return [" ".join(word for word in line.split() if not word.startswith("/")) for line in found]


def listing(incusd) -> str:
    return incusd.nsenter("nft", "list", "table", "inet", "anklume").stdout


def test_loading_the_ruleset_the_table_already_holds_asks_nft_only_for_its_listing(incusd, logged_nft, tmp_path):
    nft, log = logged_nft
    infra = infra_from(INFRA, tmp_path)
    first = enforce_isolation(infra, BRIDGES, nft=nft)
    assert (first.loaded, first.changed, first.error) == (True, True, None)
    assert calls(log) == ["list table inet anklume", "-c -f", "-f", "list table inet anklume"]
    table = listing(incusd)

    again = enforce_isolation(infra, BRIDGES, nft=nft)
    assert (again.loaded, again.changed, again.error) == (True, False, None)
    assert calls(log) == ["list table inet anklume"]
    assert listing(incusd) == table
    assert paths.isolation_ruleset_file().read_text() == again.ruleset
    assert again.persisted is not None and again.persisted.read_text() == again.ruleset

    other = enforce_isolation(infra, [*BRIDGES, "net-lab"], nft=nft)  # another text: loaded
    assert other.changed and len(calls(log)) == 4
    assert 'iifname "net-lab" oifname "net-lab" accept' in listing(incusd)


def test_a_table_changed_or_deleted_by_hand_is_loaded_again_whole(incusd, logged_nft, tmp_path):
    nft, log = logged_nft
    infra = infra_from(INFRA, tmp_path)
    enforce_isolation(infra, BRIDGES, nft=nft)
    table = listing(incusd)
    calls(log)

    incusd.nsenter("nft", "insert", "rule", "inet", "anklume", "isolation", "iifname", '"net-dev"', "accept")
    assert listing(incusd) != table
    changed = enforce_isolation(infra, BRIDGES, nft=nft)
    assert changed.changed and calls(log) == ["list table inet anklume", "-c -f", "-f", "list table inet anklume"]
    assert listing(incusd) == table

    incusd.nsenter("nft", "delete", "table", "inet", "anklume")
    deleted = enforce_isolation(infra, BRIDGES, nft=nft)
    assert deleted.changed and len(calls(log)) == 4
    assert listing(incusd) == table
