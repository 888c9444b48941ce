"""Backup and restore-backup from the TUI (the row menu, `:backup`, `:restore FILE`) on a throwaway Incus: the
archive is written with progress to 100%, a cancelled backup leaves nothing, and an `incus export` archive
comes back under a new name, each checked through the incus CLI or the files themselves."""

from __future__ import annotations

import asyncio
import tarfile

import pytest

from anklume_tui.app import AnklumeApp
from anklume_tui.screens.backup import BackupScreen
from anklume_tui.screens.domains.context_menu import ContextMenu
from anklume_tui.screens.restore_backup import RestoreBackupScreen
from anklume_tui.widgets.domain_table import DomainTable
from anklume_tui.widgets.transfer_progress import TransferProgress
from tests.engine.incus_helpers import isolate_host, make_domain, make_instance
from tests.wait_helpers import until

from .test_snapshot_timeline import INFRA, in_pro

pytestmark = pytest.mark.incus


@pytest.fixture
def pro(incusd, tmp_path, monkeypatch):
    """Domain pro with pro-a (stopped); pro-b not created."""
    isolate_host(tmp_path, monkeypatch)
    make_domain(incusd, "pro", "net-pro", "10.141.0")
    make_instance(incusd, "pro", "pro-a")
    infra = tmp_path / "infra.yml"
    infra.write_text(INFRA)
    return infra


async def loaded(pilot, app) -> None:
    table = app.screen.query_one(DomainTable)
    await until(pilot, lambda: table.rows_by_key.get("m:pro-a") and table.rows_by_key["m:pro-a"].state == "Stopped")


async def fill(pilot, app, selector: str, value: str) -> None:
    box = app.screen.query_one(selector)
    box.value = value
    await pilot.pause()


async def test_backing_up_a_machine_from_the_menu_writes_the_archive_with_progress_to_100(incusd, pro, tmp_path):
    app = AnklumeApp(pro, incus_url=incusd.url)
    async with app.run_test(size=(150, 45)) as pilot:
        await loaded(pilot, app)
        await pilot.press("colon", *"machine pro-a", "enter", "m")
        await until(pilot, lambda: isinstance(app.screen, ContextMenu))
        labels = [entry.label for entry in app.screen.entries]
        await pilot.press(*["down"] * labels.index("Back up…"), "enter")
        await until(pilot, lambda: isinstance(app.screen, BackupScreen))
        screen = app.screen
        assert screen.query_one("#backup-dir").value == str(tmp_path / "state" / "anklume" / "backups")
        await fill(pilot, app, "#backup-dir", str(tmp_path / "backups"))
        await pilot.press("enter")
        await until(pilot, lambda: screen.done is not None and screen.running is None, 60)
        progress = screen.query_one(TransferProgress)
        assert "writing pro/pro-a" in progress.completed  # the instance archive reached 100%
        assert screen.query_one("ProgressBar").percentage == 1.0
        assert str(screen.query_one("#backup-progress .transfer-text").render()).startswith("done: ")
        run = screen.done.run.path
    assert run.parent == tmp_path / "backups" and run.name.startswith("anklume-backup-")
    with tarfile.open(run / "pro" / "pro-a.tar.gz") as archive:
        assert "backup/index.yaml" in archive.getnames()
    assert {p.name for p in run.iterdir()} == {"pro", "infra.tar.gz", "manifest.json", "SHA256SUMS"}
    assert incusd.query("/1.0/instances/pro-a/backups?project=pro") == []  # the server-side export is gone


async def test_escape_cancels_a_backup_under_way_and_leaves_nothing(incusd, pro, tmp_path):
    # Random bytes do not compress: the export takes long enough to be cancelled half way.
    await asyncio.to_thread(in_pro, incusd, "start", "pro-a")
    await asyncio.to_thread(
        in_pro, incusd, "exec", "pro-a", "--", "dd", "if=/dev/urandom", "of=/root/big", "bs=1M", "count=96"
    )
    app = AnklumeApp(pro, incus_url=incusd.url)
    async with app.run_test(size=(150, 45)) as pilot:
        table = app.screen.query_one(DomainTable)
        await until(pilot, lambda: table.rows_by_key.get("m:pro-a") and table.rows_by_key["m:pro-a"].state == "Running")
        await pilot.press("colon", *"machine pro-a", "enter", "colon", *"backup", "enter")
        await until(pilot, lambda: isinstance(app.screen, BackupScreen))
        screen = app.screen
        await fill(pilot, app, "#backup-dir", str(tmp_path / "backups"))
        await pilot.press("enter")
        await until(pilot, lambda: screen.query_one(TransferProgress).last is not None, 30)
        await pilot.press("escape")
        await until(pilot, lambda: screen.running is None, 30)
        assert screen.done is None
        assert "cancelled: nothing was kept" in str(screen.query_one("#backup-progress .transfer-text").render())
        await pilot.press("escape")
        assert not isinstance(app.screen, BackupScreen)
    assert list((tmp_path / "backups").iterdir()) == []  # no run folder, no .partial staging folder


async def test_restore_brings_an_incus_export_back_under_a_new_name(incusd, pro, tmp_path):
    archive = tmp_path / "pro-a.tar.gz"
    await asyncio.to_thread(in_pro, incusd, "export", "pro-a", str(archive))
    app = AnklumeApp(pro, incus_url=incusd.url)
    async with app.run_test(size=(150, 45)) as pilot:
        await loaded(pilot, app)
        await pilot.press("colon", *f"restore {archive}", "enter")
        await until(pilot, lambda: isinstance(app.screen, RestoreBackupScreen))
        screen = app.screen
        assert screen.query_one("#restore-path").value == str(archive)
        await pilot.press(*"pro-a-copy", "enter")
        await until(pilot, lambda: screen.restored and screen.running is None, 60)
        assert screen.query_one(TransferProgress).completed == ["checking pro-a.tar.gz", "restoring pro-a.tar.gz"]
        assert screen.query_one("ProgressBar").percentage == 1.0
    copy = incusd.incus_json("list", "pro-a-copy", "--project=pro")
    assert [(i["name"], i["status"]) for i in copy] == [("pro-a-copy", "Stopped")]


async def test_restoring_over_an_existing_machine_is_refused_with_a_toast_and_changes_nothing(incusd, pro, tmp_path):
    archive = tmp_path / "pro-a.tar.gz"
    await asyncio.to_thread(in_pro, incusd, "export", "pro-a", str(archive))
    app = AnklumeApp(pro, incus_url=incusd.url)
    async with app.run_test(size=(150, 45)) as pilot:
        await loaded(pilot, app)
        await pilot.press("colon", *f"restore {archive}", "enter")
        await until(pilot, lambda: isinstance(app.screen, RestoreBackupScreen))
        screen = app.screen
        await pilot.press("enter")
        await until(pilot, lambda: any("restore failed" in line for line in screen.query_one("#restore-log").lines), 30)
        assert any("pro/pro-a already exists" in str(n.message) for n in app._notifications)
    assert [i["name"] for i in incusd.incus_json("list", "--project=pro")] == ["pro-a"]
