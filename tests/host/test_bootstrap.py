"""`bootstrap` and `doctor --fix` on a daemon started as a plain package install leaves it (no storage pool, no
root disk), host files under a private root that looks like a stock Debian 12 (`ANKLUME_HOST_ROOT`): the first
run brings it to where an infra applies, a second changes nothing, `--dry-run` and a run without `--yes` change
nothing, an existing pool and profile are kept as they are, `prod` refuses a dir pool unless asked for."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from anklume_tui import exitcodes
from anklume_tui.engine.bootstrap import BootstrapHost, choose_driver
from anklume_tui.engine.bootstrap.steps_host import packages_step
from tests.engine.apply_helpers import ROOT, batch_env
from tests.host_root_helpers import WANTS, bare_daemon, stock_debian_root
from tests.incusd_helpers import ThrowawayIncus

pytestmark = pytest.mark.incus
__all__ = ["bare_daemon"]  # a fixture, used by name

ONE_DOMAIN = """\
project_name: boot
global:
  base_subnet: "10.151"
  default_os_image: busybox
domains:
  work:
    subnet_id: 0
    machines:
      work-a: {ip: 10.151.0.1}
"""


@pytest.fixture
def host_root(tmp_path: Path) -> Path:
    return stock_debian_root(tmp_path / "root")


def run(daemon: ThrowawayIncus, root: Path, verb: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = batch_env(daemon, root.parent / "state", context_dir=root / "etc/anklume")
    env["ANKLUME_HOST_ROOT"] = str(root)
    env.pop("ANKLUME_NFT_PERSIST_DIR", None)  # the private root's etc/nftables.d, as on a real host
    return subprocess.run(
        [sys.executable, "-m", "anklume_tui", "--batch", verb, "--incus", daemon.url, *args],
        env=env,
        cwd=root.parent,
        capture_output=True,
        text=True,
        timeout=300,
    )


def incus_state(daemon: ThrowawayIncus) -> dict[str, object]:
    """What bootstrap may touch in Incus, read back from the daemon (not through the code under test)."""
    pools = {p["name"]: (p["driver"], p["config"]) for p in daemon.query("/1.0/storage-pools?recursion=1") or ()}
    profile = daemon.query("/1.0/profiles/default")
    return {"pools": pools, "profile": (profile["config"], profile["devices"])}


def host_files(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): (p.read_text() if p.is_file() else "<dir>") for p in sorted(root.rglob("*"))}


def test_bootstrap_brings_an_uninitialised_daemon_to_where_an_infra_applies_and_a_second_run_changes_nothing(
    bare_daemon, host_root, tmp_path
):
    first = run(bare_daemon, host_root, "bootstrap", "--yes", "--json")
    assert first.returncode == 0, first.stdout + first.stderr
    report = json.loads(first.stdout)
    assert report["changed"] and report["storage"] == "dir"  # the daemon here supports dir only
    assert "storage_pools:" in report["preseed"] and "path: /" in report["preseed"]
    statuses = {s["id"]: s["status"] for s in report["steps"]}
    assert statuses | {"packages": "done", "incus": "done"} == statuses  # installed and running already
    applied_steps = ("storage-pool", "default-profile", "subuid", "subgid", "nft-boot", "context", "br_netfilter")
    for applied in (*applied_steps, "inotify", "keys"):
        assert statuses[applied] == "applied", (applied, report["steps"])

    state = incus_state(bare_daemon)
    assert state["pools"] == {"default": ("dir", {"source": state["pools"]["default"][1]["source"]})}
    assert state["profile"][1]["root"] == {"type": "disk", "path": "/", "pool": "default"}
    assert (host_root / "etc/subuid").read_text() == "root:1000000:1000000000\n"
    assert (host_root / "etc/subgid").read_text() == "root:1000000:1000000000\n"
    assert (host_root / "etc/anklume/vm_nested").read_text().strip() in ("true", "false")
    assert not (host_root / "etc/anklume/absolute_level").exists()  # a physical host's levels stay unknown
    assert 'include "' in (host_root / "etc/nftables.conf").read_text()
    assert "drop" in (host_root / "etc/nftables.d/anklume-isolation.nft").read_text()  # fail-closed already
    assert (host_root / WANTS).is_symlink()
    assert "fs.inotify.max_user_instances = 1024" in (host_root / "etc/sysctl.d/60-anklume-inotify.conf").read_text()
    assert "kernel.keys.maxkeys = 2000\n" in (host_root / "etc/sysctl.d/60-anklume-keys.conf").read_text()

    files, incus = host_files(host_root), incus_state(bare_daemon)
    second = run(bare_daemon, host_root, "bootstrap", "--yes")
    assert second.returncode == 0, second.stdout + second.stderr
    assert "nothing to do: the host is already set up (nothing changed)" in second.stdout
    assert "[PLANNED" not in second.stdout and "[DONE" not in second.stdout
    assert host_files(host_root) == files and incus_state(bare_daemon) == incus

    bare_daemon.import_image("default", "busybox")
    infra = tmp_path / "infra.yml"
    infra.write_text(ONE_DOMAIN)
    env = batch_env(bare_daemon, tmp_path / "apply-state")
    applied = subprocess.run(
        [sys.executable, "-m", "anklume_tui", "--batch", "apply", "--infra", str(infra), "--no-provision", "--yes"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert applied.returncode == 0, applied.stderr
    shown = bare_daemon.incus_json("list", "--project", "work")
    assert [(i["name"], i["status"]) for i in shown] == [("work-a", "Running")]


def test_a_dry_run_and_a_run_without_yes_show_the_preseed_and_change_nothing(bare_daemon, host_root):
    files, incus = host_files(host_root), incus_state(bare_daemon)
    dry = run(bare_daemon, host_root, "bootstrap", "--dry-run")
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert "preseed (what is added to Incus):" in dry.stdout and "driver: dir" in dry.stdout
    assert "[PLANNED] storage-pool" in dry.stdout and dry.stdout.rstrip().endswith("dry run: nothing changed")
    unconfirmed = run(bare_daemon, host_root, "bootstrap")
    assert unconfirmed.returncode == exitcodes.REFUSED
    assert "run again with --yes" in unconfirmed.stdout
    assert host_files(host_root) == files and incus_state(bare_daemon) == incus


def test_on_an_initialised_daemon_the_existing_pool_and_profile_are_kept_and_said(bare_daemon, host_root):
    bare_daemon.incus("storage", "create", "default", "dir", "rsync.bwlimit=12MB")
    bare_daemon.incus("storage", "create", "mine", "dir")
    bare_daemon.incus("profile", "device", "add", "default", "data", "disk", "pool=mine", "source=vol", "path=/d")
    bare_daemon.incus("storage", "volume", "create", "mine", "vol")
    before = incus_state(bare_daemon)
    dry = run(bare_daemon, host_root, "bootstrap", "--dry-run", "--storage", "btrfs", "--json")
    pool = next(s for s in json.loads(dry.stdout)["steps"] if s["id"] == "storage-pool")
    assert pool["status"] == "left" and "--storage btrfs not applied" in pool["message"], dry.stdout
    done = run(bare_daemon, host_root, "bootstrap", "--yes", "--storage", "dir", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    steps = {s["id"]: s for s in json.loads(done.stdout)["steps"]}
    assert steps["storage-pool"]["status"] == "done" and "exists (dir)" in steps["storage-pool"]["message"]
    assert steps["default-profile"]["status"] == "applied"
    after = incus_state(bare_daemon)
    assert after["pools"] == before["pools"]  # both pools, their settings untouched
    assert after["profile"][1] == {**before["profile"][1], "root": {"type": "disk", "path": "/", "pool": "default"}}


def test_prod_refuses_a_dir_pool_unless_asked_for_by_name(bare_daemon, host_root):
    files, incus = host_files(host_root), incus_state(bare_daemon)
    refused = run(bare_daemon, host_root, "bootstrap", "--mode", "prod", "--yes")
    assert refused.returncode == exitcodes.REFUSED, refused.stdout + refused.stderr
    assert "[REFUSED] storage-pool" in refused.stdout and "--storage dir" in refused.stdout
    assert host_files(host_root) == files and incus_state(bare_daemon) == incus  # refused as a whole
    accepted = run(bare_daemon, host_root, "bootstrap", "--mode", "prod", "--storage", "dir", "--yes")
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert "default" in incus_state(bare_daemon)["pools"]


def test_doctor_fix_shows_the_fixes_applies_them_with_yes_and_checks_again(bare_daemon, host_root):
    (host_root / "etc/subuid").write_text("root:100000:1000000000\n")  # the user's own range: kept
    shown = run(bare_daemon, host_root, "doctor", "--fix")
    assert shown.returncode == exitcodes.REFUSED, shown.stdout + shown.stderr
    assert "[PLANNED] storage-pool" in shown.stdout and "run again with --fix --yes" in shown.stdout
    assert "default" not in incus_state(bare_daemon)["pools"]
    fixed = run(bare_daemon, host_root, "doctor", "--fix", "--yes", "--json")
    report = json.loads(fixed.stdout)
    fixes = {f["id"]: f["status"] for f in report["fixes"]}
    assert fixes["storage-pool"] == fixes["default-profile"] == fixes["subgid"] == fixes["nft-boot"] == "applied"
    assert "subuid" not in fixes  # it was fine
    checks = {f["check"]: f["status"] for f in report["findings"]}  # checked again, after
    assert checks["storage-pool"] == checks["default-profile"] == checks["subgid"] == checks["nft-boot"] == "ok"
    assert (host_root / "etc/subuid").read_text() == "root:100000:1000000000\n"


@pytest.mark.parametrize(
    ("asked", "mode", "supported", "driver"),
    [
        ("auto", "dev", ["dir", "btrfs", "zfs"], "zfs"),
        ("auto", "prod", ["dir", "btrfs"], "btrfs"),
        ("auto", "dev", ["dir"], "dir"),
        ("auto", "prod", ["dir"], None),  # prod: refused, --storage dir needed
        ("dir", "prod", ["dir", "zfs"], "dir"),
        ("lvm", "dev", ["dir"], None),  # not available to this Incus
    ],
)
def test_the_pool_driver_is_the_first_copy_on_write_one_incus_supports(asked, mode, supported, driver):
    assert choose_driver(asked, mode, supported).driver == driver


def test_on_debian_12_without_incus_the_packages_come_from_bookworm_backports(host_root):
    host = BootstrapHost(root=host_root, which=lambda name: None)
    step = packages_step(host)
    assert step.state == "todo"
    assert "anklume-backports.sources" in step.command and "-t bookworm-backports incus" in step.command
    assert "nftables" in step.command and "tmux" in step.command
    (host_root / "etc/os-release").write_text("ID=fedora\nVERSION_CODENAME=\n")
    assert packages_step(host).state == "manual"
