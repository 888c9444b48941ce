"""`apply` takes its lock first and, under it, sends what it reads of a local Incus before the client and the
check are imported (engine/reconcile/apply_start.py, issue 17). An apply that changes nothing then sends those
six reads and nothing else, and never imports the HTTP client; one that changes something reads again at its
end what its record, ruleset and running check rest on; a lock held by another is said as before, with none of
apply's reads sent; the lock is let go of whatever happens. Each run is a whole `anklume-tui` process on the daemon."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from anklume_tui import cli
from anklume_tui.engine.host import paths
from anklume_tui.engine.host.apply_lock import ApplyLock
from anklume_tui.engine.incus.quick_read import ALLOCATION_PATHS, APPLY_PATHS
from tests.engine.apply_helpers import ROOT, batch_cmd, batch_env, many_machines
from tests.engine.incus_helpers import isolate_host

pytestmark = pytest.mark.incus

# cli.main in a process that writes, at its exit, the requests sent early and through the client, and its modules
COUNTED = """
import atexit, json, sys
from anklume_tui.engine.incus import quick_read
from anklume_tui.engine.incus.transport import IncusTransport
made = []
init = IncusTransport.__init__
def counted(self, *args, **kwargs):
    init(self, *args, **kwargs)
    made.append(self)
IncusTransport.__init__ = counted
def written():
    modules = sorted(m for m, v in sys.modules.items() if v)
    seen = {"early": quick_read.sent[0], "client": sum(t.requests for t in made), "modules": modules}
    open(sys.argv[1], "w").write(json.dumps(seen))
atexit.register(written)
from anklume_tui.cli import main
sys.exit(main(sys.argv[2:]))
"""


def _apply(incusd, tmp_path: Path, infra: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict]:
    seen = tmp_path / "seen.json"
    argv = batch_cmd("apply", infra, *args)[3:]  # after `python -m anklume_tui`
    done = subprocess.run(
        [sys.executable, "-c", COUNTED, str(seen), *argv],
        env=batch_env(incusd, tmp_path / "state"),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return done, json.loads(seen.read_text())


def _client_modules(seen: dict) -> list[str]:
    return [m for m in seen["modules"] if m.split(".")[0] in ("httpx", "httpcore", "anyio")]


def test_a_no_op_apply_sends_its_reads_first_and_nothing_through_the_client(incusd, tmp_path):
    infra = tmp_path / "infra.yml"
    infra.write_text(many_machines(2, 2, name="early"))
    made, seen = _apply(incusd, tmp_path, infra)
    assert made.returncode == 0, made.stderr
    assert seen["client"] > 0  # it created: through the client
    listed = incusd.incus("list", "--all-projects", "--format=json").stdout
    assert sorted(i["name"] for i in json.loads(listed)) == ["d0-m00", "d0-m01", "d1-m00", "d1-m01"]

    again, seen = _apply(incusd, tmp_path, infra, "--json")
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert report["actions"] == [] and report["ok"] is True
    assert report["nftables"]["bridges"] == ["net-d0", "net-d1"]  # the ruleset rests on the early listing
    assert (seen["early"], seen["client"]) == (len(APPLY_PATHS), 0)
    assert _client_modules(seen) == []


def test_an_apply_that_changes_something_reads_what_it_made_at_its_end(incusd, tmp_path):
    """A domain added: created through the client, then the ruleset, the record and the running check are
    made from a listing read once it ended, not from the early one (which had no net-d1 nor d1's machines)."""
    infra = tmp_path / "infra.yml"
    infra.write_text(many_machines(1, 1, name="grows"))
    assert _apply(incusd, tmp_path, infra)[0].returncode == 0
    infra.write_text(many_machines(2, 1, name="grows"))
    grown, seen = _apply(incusd, tmp_path, infra, "--json")
    assert grown.returncode == 0, grown.stderr
    report = json.loads(grown.stdout)
    assert {(a["kind"], a["name"]) for a in report["actions"] if a["status"] == "done"} >= {
        ("network", "net-d1"),
        ("instance", "d1-m00"),
    }
    assert report["nftables"]["bridges"] == ["net-d0", "net-d1"]
    assert report["not_running"] == []  # d1-m00 was seen Running: read at the end
    assert seen["early"] == len(APPLY_PATHS)
    record = json.loads(next((tmp_path / "state").rglob("grows*.json")).read_text())
    assert set(record["subnets"]) == {"d0", "d1"}
    assert set(record["addresses"]) == {"d0", "d1"}


def test_a_lock_held_by_another_is_said_as_before_with_nothing_read_early(incusd, tmp_path):
    infra = tmp_path / "infra.yml"
    infra.write_text(many_machines(1, 1, name="held"))
    state = tmp_path / "state" / "anklume"
    with ApplyLock(state):
        refused, seen = _apply(incusd, tmp_path, infra)
    assert refused.returncode == 1
    assert "another apply, provision or ai-switch is running" in refused.stderr
    # not apply's six reads: only the check's own read of what was applied (as before the lock), and no plan
    assert (seen["early"], seen["client"]) == (len(ALLOCATION_PATHS), 0)
    assert json.loads(incusd.incus("list", "--all-projects", "--format=json").stdout) == []


@pytest.mark.parametrize("broken", ["invalid infra", "Incus said no"])
def test_the_lock_is_let_go_of_whatever_happens(broken, incusd, tmp_path, monkeypatch):
    """In this process (a lock left held would refuse the next apply of the same process, as the TUI's)."""
    isolate_host(tmp_path, monkeypatch)
    monkeypatch.setenv("ANKLUME_INCUS", incusd.url)
    infra = tmp_path / "infra.yml"
    good = "project_name: broken\nglobal:\n  addressing: {}\ndomains:\n  d0:\n    machines:\n"
    good += "      x: {os_image: busybox}\n"
    if broken == "invalid infra":
        infra.write_text(good.replace("os_image: busybox", "os_image: busybox, ip: nonsense"))
        expected = 2
    else:  # an image Incus does not hold: the instance fails, apply goes on to its end
        infra.write_text(good.replace("os_image: busybox", "os_image: nosuchimage"))
        expected = 1
    assert cli.main(["--batch", "apply", "--infra", str(infra), "--no-provision"]) == expected
    with ApplyLock(paths.state_dir()):  # free again: taking it does not raise ApplyLocked
        pass
