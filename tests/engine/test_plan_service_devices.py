"""The plan for services' proxy devices, without a daemon: a grant adds them to running containers live (no
restart), a grant taken away removes the tool's `svc-*` proxies, and other extra devices stay (SPEC §8.1)."""

from __future__ import annotations

from anklume_tui.engine.reconcile.desired import desired_state
from anklume_tui.engine.reconcile.plan import compute_plan
from tests.engine.test_plan import converged, infra

GRANTED = """\
project_name: t
global: {addressing: {}, default_os_image: busybox}
domains:
  tools:
    machines:
      tools-mcp:
        services:
          notes: {socket: /run/mcp/notes.sock}
  work:
    machines:
      work-dev:
        consumes: [tools-mcp/notes]
"""
NOT_GRANTED = GRANTED.replace("        consumes: [tools-mcp/notes]\n", "        consumes: []\n")


def test_a_grant_attaches_the_proxies_to_running_containers_without_a_restart(tmp_path):
    before = converged(desired_state(infra(tmp_path, NOT_GRANTED)))
    plan = compute_plan(desired_state(infra(tmp_path, GRANTED)), before)
    changes = {a.name: a.changes for a in plan.actions}
    assert set(changes) == {"tools-mcp", "work-dev"}
    assert list(changes["tools-mcp"]["devices"]) == ["svc-notes"]
    assert list(changes["work-dev"]["devices"]) == ["svc-tools-mcp-notes"]
    assert changes["tools-mcp"]["restart"] is False and changes["work-dev"]["restart"] is False


def test_a_grant_taken_away_removes_the_tools_proxies_and_leaves_other_devices(tmp_path):
    real = converged(desired_state(infra(tmp_path, GRANTED)))
    extra = {"type": "proxy", "listen": "tcp:0.0.0.0:80", "connect": "tcp:127.0.0.1:80"}
    real.instances[("work", "work-dev")].devices["svc-mine"] = {"type": "disk", "source": "/a", "path": "/b"}
    real.instances[("work", "work-dev")].devices["web"] = extra
    plan = compute_plan(desired_state(infra(tmp_path, NOT_GRANTED)), real)
    removed = {a.name: a.changes["remove_devices"] for a in plan.actions}
    assert removed == {"tools-mcp": ["svc-notes"], "work-dev": ["svc-tools-mcp-notes"]}
    assert all("restart" not in a.changes for a in plan.actions)
    drift = {(d.name, d.field): d.expected for d in plan.drift}
    assert drift == {("tools-mcp", "devices.svc-notes"): None, ("work-dev", "devices.svc-tools-mcp-notes"): None}
