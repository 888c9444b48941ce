"""`smoke` runs the declared checks inside the machines through Incus (issue 22): a command check passes or
fails by its exit code and output, naming the failing check; a TCP check reaches a busybox nc listener from
the machine itself; a TCP check `from:` a machine of another domain is dropped by the isolation ruleset (real
packets) and passes once a network policy allows it and apply runs again; a role declares a check as data."""

from __future__ import annotations

import json

from tests.engine.apply_helpers import batch
from tests.engine.packet_helpers import Lab

BASE = """\
project_name: smoke
global:
  addressing: {}
  default_os_image: busybox
domains:
  web:
    machines:
      web-srv:
        roles: [probe]
        checks:
          - name: the hostname is the machine's
            command: [hostname]
            output: web-srv
          - name: a command that fails
            command: [sh, -c, 'printf "broken\\033]0;retitled\\007\\033[2J" >&2; exit 3']
          - tcp: 7000
          - name: the page is served
            http: http://127.0.0.1:8080/
          - name: a missing page is a 404
            http: http://127.0.0.1:8080/missing
            status: 404
          - name: reachable from cli
            tcp: 7000
            from: cli-box
            timeout: 2
  cli:
    machines:
      cli-box: {}
"""

FAILING_CHECK = BASE[BASE.index("          - name: a command that fails") : BASE.index("          - tcp: 7000")]

POLICY = """\
network_policies:
  - from: cli
    to: web
    ports: [7000]
"""

ROLE_CHECKS = """\
- name: the role's check ran
  command: [hostname]
  output: web-srv
"""


def _results(report: dict) -> dict[str, dict]:
    return {c["name"]: c for m in report["machines"] for c in m["checks"]}


def test_smoke_runs_declared_checks_in_the_machines_and_proves_the_isolation_policy(incusd, tmp_path, monkeypatch):
    monkeypatch.setenv("ANKLUME_NFT_NETNS", f"/proc/{incusd.pid}/ns/net")
    infra = tmp_path / "infra.yml"
    infra.write_text(BASE)
    role = tmp_path / "roles_custom" / "probe" / "meta"
    role.mkdir(parents=True)
    (role / "anklume_checks.yml").write_text(ROLE_CHECKS)
    try:
        done = batch(incusd, tmp_path, "apply", infra)
        assert done.returncode == 0, done.stderr
        lab = Lab(incusd, {"web-srv": "web"})
        lab.listen("web-srv", 7000)
        serve = "mkdir -p /tmp/www && echo hi > /tmp/www/index.html && httpd -p 8080 -h /tmp/www"
        assert lab.exec("web-srv", "sh", "-c", serve).returncode == 0

        first = batch(incusd, tmp_path, "smoke", infra, "--json")
        assert first.returncode == 1, first.stderr
        report = json.loads(first.stdout)
        found = _results(report)
        assert found["the hostname is the machine's"]["ok"], found
        failing = found["a command that fails"]
        assert not failing["ok"] and "exit 3 (expected 0)" in failing["detail"] and "broken" in failing["detail"]
        assert "\x1b" not in failing["detail"] and "retitled" not in failing["detail"]  # printable, as Ansible's
        assert found["tcp localhost:7000"]["ok"] and found["tcp localhost:7000"]["ran_in"] == "web-srv", found
        crossing = found["reachable from cli"]
        assert not crossing["ok"] and crossing["ran_in"] == "cli-box", crossing
        assert found["the role's check ran"] == {
            **found["the role's check ran"],
            "ok": True,
            "declared_by": "role probe",
        }
        assert found["the page is served"]["ok"], found["the page is served"]
        assert found["a missing page is a 404"]["ok"], found["a missing page is a 404"]
        assert (report["passed"], report["failed"]) == (5, 2)

        text = batch(incusd, tmp_path, "smoke", infra)
        assert text.returncode == 1
        assert "FAIL web/web-srv: a command that fails: exit 3" in text.stdout, text.stdout
        assert "\x1b" not in text.stdout  # the machine's escape sequences never reach the user's terminal
        assert "FAIL web/web-srv: reachable from cli (from cli-box): no connection" in text.stdout, text.stdout

        infra.write_text(BASE.replace(FAILING_CHECK, "") + POLICY)
        done = batch(incusd, tmp_path, "apply", infra)
        assert done.returncode == 0, done.stderr
        second = batch(incusd, tmp_path, "smoke", infra, "--json")
        assert second.returncode == 0, second.stdout + second.stderr
        assert _results(json.loads(second.stdout))["reachable from cli"]["ok"]

        limited = batch(incusd, tmp_path, "smoke", infra, "--limit", "cli")
        assert limited.returncode == 0 and "no declared checks" in limited.stdout
    finally:
        incusd.nsenter("nft", "delete", "table", "inet", "anklume", check=False)
        batch(incusd, tmp_path, "flush", infra, "--yes")


IDEMPOTENT = """\
project_name: twice
global:
  addressing: {}
  default_os_image: busybox
domains:
  calm:
    machines:
      calm-box:
        config:
          limits.memory: 256MiB
        checks:
          - command: [hostname]
            output: calm-box
"""


async def test_smoke_idempotent_passes_on_a_second_apply_that_changes_nothing_and_names_what_changed(
    incusd, incus_client, tmp_path, monkeypatch
):
    from anklume_tui.engine.smoke import check_idempotence
    from anklume_tui.psot.context import HostContext
    from anklume_tui.psot.pipeline import run_psot

    monkeypatch.setenv("ANKLUME_NFT_NETNS", f"/proc/{incusd.pid}/ns/net")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    infra = tmp_path / "infra.yml"
    infra.write_text(IDEMPOTENT)
    try:
        done = batch(incusd, tmp_path, "smoke", infra, "--idempotent", "--no-provision", "--json")
        assert done.returncode == 0, done.stdout + done.stderr
        report = json.loads(done.stdout)
        assert report["idempotence"] == {"ok": True, "first_error": "", "changes": []}
        assert report["passed"] == 1

        # Drift made between the two runs (as a step that does not converge would leave): named.
        model = run_psot(infra, HostContext()).infra
        applies = []

        def between_runs(event) -> None:
            if getattr(event, "phase", None) == "apply":
                applies.append(event)
                if len(applies) == 2:
                    incusd.incus("config", "set", "calm-box", "limits.memory=128MiB", "--project=calm")

        twice = await check_idempotence(
            incus_client, model, tmp_path, host=HostContext(), provision=False, on_event=between_runs
        )
        assert twice.first_ok and not twice.ok
        assert [c for c in twice.changes if "calm/calm-box" in c], twice.changes
    finally:
        incusd.nsenter("nft", "delete", "table", "inet", "anklume", check=False)
        batch(incusd, tmp_path, "flush", infra, "--yes")
