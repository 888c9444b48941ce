"""The isolation ruleset comes back at boot on a stock Debian (SPEC §9.1, issue 15 point 3): loading it
includes our copy from /etc/nftables.conf and enables nftables.service; the boot path (`nft -f
/etc/nftables.conf`, what nftables.service runs) brings the table back after a flush; doctor says when it
would not. Everything happens under a private root (`ANKLUME_HOST_ROOT`, systemctl `--root`) and in a private
network namespace: never this machine's /etc or nftables."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from anklume_tui.engine.host.doctor import DoctorHost, boot_finding
from anklume_tui.engine.isolation.boot import BootFiles, includes, persist_for_boot
from anklume_tui.engine.isolation.enforce import enforce_isolation
from tests.engine.incus_helpers import isolate_host
from tests.engine.nft_helpers import WORK_AND_DEV_BRIDGES, infra_from, needs_nft, work_and_dev
from tests.host_root_helpers import STOCK_CONF, WANTS, stock_debian_root
from tests.wait_helpers import wait_until

INFRA = work_and_dev("boot", "10.150")
BRIDGES = WORK_AND_DEV_BRIDGES
needs_systemctl = pytest.mark.skipif(shutil.which("systemctl") is None, reason="needs systemctl (used offline)")


@pytest.fixture
def debian_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private root as a stock Debian with nftables installed: its nftables.conf, the service's unit, no
    /etc/nftables.d, the service not enabled."""
    isolate_host(tmp_path, monkeypatch)
    root = stock_debian_root(tmp_path / "root")
    monkeypatch.setenv("ANKLUME_HOST_ROOT", str(root))
    monkeypatch.delenv("ANKLUME_NFT_PERSIST_DIR", raising=False)
    return root


@pytest.fixture
def netns() -> Iterator[str]:
    """A network namespace of this test's own, empty: the machine the boot happens on."""
    holder = subprocess.Popen(["unshare", "--net", "--", "sleep", "infinity"])
    path = f"/proc/{holder.pid}/ns/net"
    host_netns = os.readlink("/proc/self/ns/net")
    wait_until(lambda: os.readlink(path) != host_netns, 10, "unshare --net to make its namespace", 0.01)
    try:
        yield path
    finally:
        holder.kill()
        holder.wait()


def nft_in(netns: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["nsenter", f"--net={netns}", "--", "nft", *args], capture_output=True, text=True)


@needs_nft
@needs_systemctl
def test_a_load_arranges_boot_on_a_stock_debian_and_the_boot_path_brings_the_table_back(debian_root, netns, tmp_path):
    infra = infra_from(INFRA, tmp_path)
    conf, ruleset = debian_root / "etc/nftables.conf", debian_root / "etc/nftables.d/anklume-isolation.nft"
    assert boot_finding(DoctorHost()).status == "warning"  # nothing persisted yet

    first = enforce_isolation(infra, BRIDGES, netns=netns)
    assert first.loaded and first.persisted == ruleset and first.warnings == [], first.warnings
    assert first.boot == (
        f"at boot: {conf} includes {ruleset} (include added now); "
        "nftables.service enabled now (systemctl enable nftables.service)"
    )
    text = conf.read_text()
    assert text.startswith(STOCK_CONF) and text.endswith(f'include "{ruleset}"\n')  # the user's content kept
    assert stat.S_IMODE(conf.stat().st_mode) == 0o755
    assert (debian_root / WANTS).is_symlink()
    assert boot_finding(DoctorHost()).status == "ok"

    second = enforce_isolation(infra, BRIDGES, netns=netns)
    assert conf.read_text() == text  # idempotent: one include
    assert second.boot == f"at boot: {conf} includes {ruleset}; nftables.service enabled"

    # The boot: an empty ruleset, then what nftables.service runs.
    assert nft_in(netns, "flush", "ruleset").returncode == 0
    assert nft_in(netns, "list", "table", "inet", "anklume").returncode != 0
    booted = nft_in(netns, "-f", str(conf))
    assert booted.returncode == 0, booted.stderr
    table = nft_in(netns, "list", "table", "inet", "anklume").stdout
    assert 'iifname "net-*" oifname "net-*" drop' in table and 'iifname "net-*" drop' in table
    assert 'iifname "net-dev" oifname "net-dev" accept' in table


@needs_systemctl
def test_doctor_names_the_fix_when_the_include_or_the_service_is_missing(debian_root, tmp_path):
    conf = debian_root / "etc/nftables.conf"
    outcome = persist_for_boot("table inet anklume\n")
    assert outcome.how and "enabled now" in outcome.how

    conf.write_text(STOCK_CONF)  # the include removed (a package upgrade replaced the file)
    missing = boot_finding(DoctorHost())
    assert missing.status == "error" and "does not include" in missing.message
    fix = missing.fix.replace("sudo ", "")  # the fix as printed (we are root already; no sudo here)
    subprocess.run(["sh", "-c", fix], check=True, capture_output=True)
    assert boot_finding(DoctorHost()).status == "ok"

    subprocess.run(["systemctl", f"--root={debian_root}", "disable", "nftables.service"], capture_output=True)
    disabled = boot_finding(DoctorHost())
    assert disabled.status == "error" and "nftables.service is not enabled" in disabled.message
    assert disabled.fix == "sudo systemctl enable nftables.service"

    conf.unlink()
    uninstalled = boot_finding(DoctorHost())
    assert uninstalled.status == "error" and uninstalled.fix.startswith("sudo apt install nftables")


def test_without_nftables_installed_the_ruleset_is_not_persisted_and_a_warning_says_why(debian_root):
    (debian_root / "etc/nftables.conf").unlink()
    outcome = persist_for_boot("table inet anklume\n")
    assert outcome.persisted is None and outcome.how is None
    assert "sudo apt install nftables" in outcome.warnings[0]
    assert not (debian_root / "etc/nftables.d").exists()


def test_a_copy_kept_outside_the_roots_etc_is_never_included_nor_the_service_enabled(debian_root, monkeypatch):
    """What a test's temporary persist folder meets on a real host: the host's boot files stay untouched."""
    monkeypatch.setenv("ANKLUME_NFT_PERSIST_DIR", str(debian_root.parent / "tmp-persist"))
    (debian_root.parent / "tmp-persist").mkdir()
    outcome = persist_for_boot("table inet anklume\n")
    assert outcome.persisted and outcome.how is None and "is left as it is" in outcome.warnings[0]
    assert (debian_root / "etc/nftables.conf").read_text() == STOCK_CONF
    assert not (debian_root / WANTS).exists()


@needs_systemctl
def test_a_symlinked_conf_keeps_its_link_and_its_target_gets_the_include(debian_root, tmp_path):
    conf = debian_root / "etc/nftables.conf"
    target = tmp_path / "managed-elsewhere.conf"
    target.write_text(STOCK_CONF)
    conf.unlink()
    conf.symlink_to(target)
    persist_for_boot("table inet anklume\n")
    assert conf.is_symlink() and includes(target.read_text(), BootFiles().ruleset)


@pytest.mark.parametrize(
    ("conf", "found"),
    [
        ('flush ruleset\ninclude "/etc/nftables.d/anklume-isolation.nft"\n', True),
        ('flush ruleset\ninclude "/etc/nftables.d/*.nft"\n', True),
        ('include "/etc/nftables.d/anklume-isolation.nft"\nflush ruleset\n', False),  # flushed after
        ('flush ruleset\n# include "/etc/nftables.d/anklume-isolation.nft"\n', False),
        ('include "/etc/nftables.d/other.nft"\n', False),
        (STOCK_CONF, False),
    ],
)
def test_an_include_counts_only_when_it_names_our_copy_and_no_flush_follows(conf, found):
    assert includes(conf, Path("/etc/nftables.d/anklume-isolation.nft")) is found
