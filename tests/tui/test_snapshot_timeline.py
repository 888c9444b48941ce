"""The snapshot timeline screen (T, `:snapshots`, the row menu): real snapshots of a throwaway Incus, restored,
deleted and taken with keys, each checked through the incus CLI or pylxd; and its looks from fixed data."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest
from textual.command import CommandList, CommandPalette

from anklume_tui.app import AnklumeApp
from anklume_tui.engine.machines.lifecycle import Target
from anklume_tui.engine.machines.snapshots import SnapshotInfo
from anklume_tui.engine.machines.timeline import MachineLane, SnapshotTimeline
from anklume_tui.screens.confirm import ConfirmScreen
from anklume_tui.screens.domains.context_menu import ContextMenu
from anklume_tui.screens.snapshot_timeline import SnapshotTimelineScreen
from anklume_tui.widgets.domain_table import DomainTable
from tests.engine.incus_helpers import isolate_host, make_domain, make_instance
from tests.wait_helpers import until

INFRA = """\
project_name: timeline
global:
  addressing: {}
domains:
  pro:
    trust_level: trusted
    machines:
      pro-a: {os_image: busybox}
      pro-b: {os_image: busybox}
"""
PRE_APPLY = "pre-apply-20261120-090000"


def in_pro(incusd, *args: str, check: bool = True):
    return incusd.incus("--project=pro", *args, check=check)


def snapshot_names(incusd, instance: str) -> list[str]:
    return sorted(s["name"] for s in incusd.query(f"/1.0/instances/{instance}/snapshots?recursion=1&project=pro"))


def listed(screen: SnapshotTimelineScreen) -> list[tuple[str, str, str]]:
    """(machine, snapshot, origin) of each row of the list."""
    table = screen.query_one("#timeline-list")
    return [(str(r[0]), str(r[1]), str(r[4])) for r in (table.get_row_at(i) for i in range(table.row_count))]


@pytest.fixture
def pro(incusd, tmp_path, monkeypatch):
    """Domain pro: pro-a running and protected, on a daily Incus schedule, with a manual, a pre-apply and a
    scheduled-pattern snapshot (a file written after the manual one); pro-b not created."""
    isolate_host(tmp_path, monkeypatch)
    make_domain(incusd, "pro", "net-pro", "10.140.0")
    make_instance(incusd, "pro", "pro-a", running=True, config={"snapshots.schedule": "0 3 * * *"})
    in_pro(incusd, "exec", "pro-a", "--", "sh", "-c", "echo kept > /root/kept")
    in_pro(incusd, "snapshot", "create", "pro-a", "before-upgrade")
    in_pro(incusd, "exec", "pro-a", "--", "sh", "-c", "echo later > /root/later")
    in_pro(incusd, "snapshot", "create", "pro-a", PRE_APPLY)
    in_pro(incusd, "snapshot", "create", "pro-a", "snap0")
    infra = tmp_path / "infra.yml"
    infra.write_text(INFRA)
    return infra


async def open_timeline(pilot, app, *keys: str) -> SnapshotTimelineScreen:
    table = app.screen.query_one(DomainTable)
    await until(pilot, lambda: table.rows_by_key.get("m:pro-a") and table.rows_by_key["m:pro-a"].state == "Running")
    await pilot.press(*keys)
    await until(pilot, lambda: isinstance(app.screen, SnapshotTimelineScreen))
    screen = app.screen
    await until(pilot, lambda: screen.timeline is not None)
    return screen


@pytest.mark.incus
async def test_the_timeline_lists_each_origin_and_restore_asks_then_brings_the_snapshot_back(incusd, pro):
    app = AnklumeApp(pro, incus_url=incusd.url)
    async with app.run_test(size=(150, 45)) as pilot:
        screen = await open_timeline(pilot, app, "colon", *"domain pro", "enter", "T")
        assert listed(screen) == [
            ("pro-a", "before-upgrade", "● manual"),
            ("pro-a", PRE_APPLY, "▲ pre-apply"),
            ("pro-a", "snap0", "◆ scheduled"),
        ]
        assert screen.query_one("#timeline-list").get_row_at(0)[3].plain == "?"  # the dir driver gives no size
        summary = str(screen.query_one("#timeline-summary").render())
        assert "pro-a: Incus snapshots it on schedule '0 3 * * *' as snap%d" in summary
        assert "pro-b: does not exist in Incus yet" in summary
        pid_before = incusd.query("/1.0/instances/pro-a/state?project=pro")["pid"]
        await pilot.press("r")
        assert isinstance(app.screen, ConfirmScreen)
        question = app.screen.question
        assert "Restore snapshot before-upgrade on pro-a (pro/pro-a)?" in question
        assert "pro-a is running: Incus stops it, restores the snapshot and starts it again" in question
        await pilot.press("y")
        log = screen.query_one("#timeline-log")
        await until(pilot, lambda: any("restore before-upgrade on pro-a: done" in line for line in log.lines), 60)
    gone = await asyncio.to_thread(in_pro, incusd, "exec", "pro-a", "--", "test", "-e", "/root/later", check=False)
    assert gone.returncode == 1
    assert in_pro(incusd, "exec", "pro-a", "--", "cat", "/root/kept").stdout.strip() == "kept"
    state = incusd.query("/1.0/instances/pro-a/state?project=pro")
    assert state["status"] == "Running" and state["pid"] != pid_before  # really stopped and started again


@pytest.mark.incus
async def test_delete_asks_naming_the_snapshot_and_removes_it_from_incus(incusd, pro, pylxd_reader):
    app = AnklumeApp(pro, incus_url=incusd.url)
    async with app.run_test(size=(150, 45)) as pilot:
        screen = await open_timeline(pilot, app, "colon", *"machine pro-a", "enter", "T")
        await pilot.press("l", "right")  # later, later: snap0
        assert screen.selected().name == "snap0"
        await pilot.press("d")
        question = app.screen.question
        assert "Delete snapshot snap0 of pro-a (pro/pro-a)?" in question
        assert "protected (security.protection.delete=true)" in question and "Incus still deletes" in question
        await pilot.press("y")
        await until(pilot, lambda: [row[1] for row in listed(screen)] == ["before-upgrade", PRE_APPLY], 30)
    instance = await asyncio.to_thread(lambda: pylxd_reader("pro").instances.get("pro-a"))
    held = sorted(s.name.split("?")[0] for s in instance.snapshots.all())  # pylxd appends ?project= outside default
    assert held == ["before-upgrade", PRE_APPLY]


@pytest.mark.incus
async def test_a_snapshot_gone_meanwhile_fails_in_a_toast_and_log_and_changes_nothing(incusd, pro):
    app = AnklumeApp(pro, incus_url=incusd.url)
    async with app.run_test(size=(150, 45)) as pilot:
        screen = await open_timeline(pilot, app, "colon", *"machine pro-a", "enter", "T")
        await pilot.press("j")
        assert screen.selected().name == PRE_APPLY
        await pilot.press("r")
        await asyncio.to_thread(in_pro, incusd, "snapshot", "delete", "pro-a", PRE_APPLY)  # behind its back
        await pilot.press("y")
        log = screen.query_one("#timeline-log")
        await until(pilot, lambda: any("failed" in line for line in log.lines), 30)
        assert f"snapshot '{PRE_APPLY}' does not exist on pro/pro-a: nothing was changed" in log.lines[-1]
        assert any("does not exist" in str(n.message) for n in app._notifications)
        await until(pilot, lambda: PRE_APPLY not in [row[1] for row in listed(screen)])  # read again from Incus
    found = await asyncio.to_thread(in_pro, incusd, "exec", "pro-a", "--", "cat", "/root/later")
    assert found.stdout.strip() == "later"  # nothing restored


@pytest.mark.incus
async def test_n_takes_a_snapshot_now_and_an_outside_snapshot_appears_from_the_events(incusd, pro):
    app = AnklumeApp(pro, incus_url=incusd.url)
    async with app.run_test(size=(150, 45)) as pilot:
        table = app.screen.query_one(DomainTable)
        await until(pilot, lambda: table.rows_by_key.get("m:pro-a") and table.rows_by_key["m:pro-a"].state != "…")
        await pilot.press("colon", *"machine pro-a", "enter", "m")
        await until(pilot, lambda: isinstance(app.screen, ContextMenu))
        labels = [entry.label for entry in app.screen.entries]
        await pilot.press(*["down"] * labels.index("Snapshots…"), "enter")
        await until(pilot, lambda: isinstance(app.screen, SnapshotTimelineScreen) and app.screen.timeline is not None)
        screen = app.screen
        await pilot.press("n")
        await until(pilot, lambda: len(listed(screen)) == 4, 30)
        taken = listed(screen)[-1]
        assert taken[1].startswith("snap-") and taken[2] == "● manual"
        await asyncio.to_thread(in_pro, incusd, "snapshot", "create", "pro-a", "from-outside")
        await until(pilot, lambda: "from-outside" in [row[1] for row in listed(screen)], 30)
    assert {taken[1], "from-outside"} <= set(snapshot_names(incusd, "pro-a"))


FIXED_NOW = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)


def fixed_timeline() -> SnapshotTimeline:
    def snap(instance: str, name: str, origin: str, days_ago: float, *, size=None, expires=None) -> SnapshotInfo:
        taken = FIXED_NOW - timedelta(days=days_ago)
        expiry = taken + timedelta(days=expires) if expires else None
        return SnapshotInfo("pro", instance, name, taken, expiry, origin, size)

    dev = [
        snap("pro-dev", "before-upgrade", "manual", 9.5, size=48 * 1024 * 1024),
        snap("pro-dev", "pre-apply-20260309-120000", "pre-apply", 5),
        snap("pro-dev", "snap0", "scheduled", 3, expires=7),
        snap("pro-dev", "snap1", "scheduled", 2, expires=7),
        snap("pro-dev", "snap2", "scheduled", 1, expires=7),
    ]
    comms = [snap("pro-comms", "pre-apply-20260309-120000", "pre-apply", 5, size=1536)]
    return SnapshotTimeline(
        [
            MachineLane(
                "pro-dev", Target("pro", "pro-dev"), running=True, schedule="0 3 * * *", expiry="7d", snapshots=dev
            ),
            MachineLane("pro-comms", Target("pro", "pro-comms"), snapshots=comms),
            MachineLane("pro-vm", Target("pro", "pro-vm"), exists=False),
        ],
        FIXED_NOW,
    )


def test_the_timeline_looks_right(snap_compare, monkeypatch, tmp_path):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    monkeypatch.setenv("ANKLUME_SKIP_HOST_SUBNET_CHECK", "1")
    monkeypatch.setenv("ANKLUME_INCUS", "unix:///nonexistent/unix.socket")
    (tmp_path / "infra.yml").write_text(INFRA)
    app = AnklumeApp(tmp_path / "infra.yml")

    async def fixed() -> SnapshotTimeline:
        return fixed_timeline()

    async def open_it(pilot):
        machines = [(lane.machine, lane.target) for lane in fixed_timeline().lanes]
        await app.push_screen(SnapshotTimelineScreen("domain pro", machines, None, reader=fixed))
        await until(pilot, lambda: app.screen.timeline is not None)
        await pilot.press("j")
        await pilot.pause()

    try:
        assert snap_compare(app, terminal_size=(130, 36), run_before=open_it)
    finally:
        monkeypatch.undo()
        time.tzset()


def palette_lists(app, word: str) -> bool:
    """The command palette is open and its search (run in the background) has listed a match naming `word`."""
    if not isinstance(app.screen, CommandPalette):
        return False
    found = app.screen.query_one(CommandList)
    return found.option_count > 0 and word in str(found.get_option_at_index(0).prompt).lower()


async def test_the_palette_opens_the_timeline_and_an_unreachable_incus_is_a_toast(tmp_path, monkeypatch):
    monkeypatch.setenv("ANKLUME_SKIP_HOST_SUBNET_CHECK", "1")
    monkeypatch.setenv("ANKLUME_INCUS", "unix:///nonexistent/unix.socket")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    (tmp_path / "infra.yml").write_text(INFRA)
    app = AnklumeApp(tmp_path / "infra.yml")
    async with app.run_test(size=(150, 45)) as pilot:
        await until(pilot, lambda: getattr(app.screen, "result", None) is not None)
        await pilot.press("colon", *"machine pro-a", "enter", "ctrl+p", *"snapshot timeline")
        await until(pilot, lambda: palette_lists(app, "timeline"), what="the palette to list the timeline command")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, SnapshotTimelineScreen))
        screen = app.screen
        assert screen.what == "machine pro-a"
        log = screen.query_one("#timeline-log")
        await until(pilot, lambda: any("reading snapshots failed" in line for line in log.lines))
        assert any("not running" in str(n.message) for n in app._notifications)
        await pilot.press("escape")
        assert not isinstance(app.screen, SnapshotTimelineScreen)


async def test_a_snapshot_name_with_brackets_is_listed_as_named(monkeypatch, tmp_path):
    """Incus takes `[red]x` and `a[b]c` as snapshot names (checked on the throwaway daemon): shown as named."""
    monkeypatch.setenv("ANKLUME_SKIP_HOST_SUBNET_CHECK", "1")
    monkeypatch.setenv("ANKLUME_INCUS", "unix:///nonexistent/unix.socket")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    (tmp_path / "infra.yml").write_text(INFRA)
    names = ["[red]x", "a[b]c"]
    snaps = [SnapshotInfo("pro", "pro-a", n, FIXED_NOW, None, "manual", None) for n in names]
    timeline = SnapshotTimeline([MachineLane("pro-a", Target("pro", "pro-a"), snapshots=snaps)], FIXED_NOW)

    async def fixed() -> SnapshotTimeline:
        return timeline

    app = AnklumeApp(tmp_path / "infra.yml")
    async with app.run_test(size=(130, 36)) as pilot:
        screen = SnapshotTimelineScreen("machine pro-a", [("pro-a", Target("pro", "pro-a"))], None, reader=fixed)
        await app.push_screen(screen)
        table = screen.query_one("#timeline-list")
        await until(pilot, lambda: table.row_count == 2, what="the two snapshots' rows")
        await pilot.pause()
        drawn = "\n".join("".join(s.text for s in table.render_line(y)) for y in range(table.size.height))
        assert all(name in drawn for name in names), drawn
