"""ansible-runner events become typed progress events and per-machine recaps (what stderr and the TUI show)."""

from __future__ import annotations

from anklume_tui.engine.provision import ProvisionResult
from anklume_tui.engine.provision.events import HostRecap, ProvisionEvent, event_of, outcomes, recaps_of


def runner_event(name, **data):
    return {"event": name, "event_data": {"host": "web-1", "task": "Install nginx", **data}}


def test_failed_task_names_machine_role_task_and_ansible_message():
    event = event_of(runner_event("runner_on_failed", role="web", res={"msg": "Task failed: No package nginx"}))
    assert event == ProvisionEvent("failed", host="web-1", task="web : Install nginx", message="No package nginx")
    assert event.problem
    assert event.line() == "failed      web-1: web : Install nginx: No package nginx"


def test_command_failure_adds_the_last_stderr_line():
    res = {"msg": "non-zero return code", "stderr": "warming up\nE: Unable to locate package nginx", "rc": 100}
    event = event_of(runner_event("runner_on_failed", res=res))
    assert event.message == "non-zero return code: E: Unable to locate package nginx"


def test_loop_failure_reports_the_first_failed_item():
    res = {
        "msg": "One or more items failed",
        "results": [{"failed": False, "msg": ""}, {"failed": True, "msg": "cannot reach https://ollama.com"}],
    }
    assert event_of(runner_event("runner_on_failed", res=res)).message == "cannot reach https://ollama.com"


def test_changed_ok_skipped_and_ignored_results_are_told_apart():
    assert event_of(runner_event("runner_on_ok", res={"changed": True})).kind == "changed"
    assert event_of(runner_event("runner_on_ok", res={"changed": False})).kind == "ok"
    assert event_of(runner_event("runner_on_skipped")).kind == "skipped"
    ignored = event_of(runner_event("runner_on_failed", ignore_errors=True, res={"msg": "x"}))
    assert ignored.kind == "ignored" and not ignored.problem


def test_unreachable_machine_is_a_problem_with_its_name():
    event = event_of(runner_event("runner_on_unreachable", res={"msg": "instance web-1 is not running"}))
    assert event.problem and event.line() == "unreachable web-1: Install nginx: instance web-1 is not running"


def test_stdout_chunks_and_task_starts_are_not_progress():
    assert event_of({"event": "verbose", "stdout": "..."}) is None
    assert event_of(runner_event("playbook_on_task_start")) is None


def test_recap_counts_each_machine_including_unreachable_ones():
    stats = {"ok": {"a": 5}, "changed": {"a": 2}, "dark": {"b": 1}, "failures": {}, "processed": {"a": 1, "b": 1}}
    recaps = recaps_of(stats)
    assert [(r.host, r.ok, r.changed, r.unreachable) for r in recaps] == [("a", 5, 2, 0), ("b", 0, 0, 1)]
    assert recaps[1].line() == "b: ok=0 changed=0 unreachable=1 failed=0 skipped=0 rescued=0 ignored=0"


def test_a_machine_the_run_stopped_before_is_skipped_with_its_roles_not_run_never_failed_0():
    """Ansible ends a run when every host of a play failed: the others' recap then says failed=0 although
    their roles never ran. A machine counts as provisioned only once it reached site.yml's last task."""
    recaps = recaps_of({"ok": {"admin": 3, "web": 4}, "failures": {"admin": 1}, "processed": {"admin": 1, "web": 1}})
    expected = {"admin": ["base_system", "admin_bootstrap"], "web": ["base_system", "nginx"], "db": ["base_system"]}
    reached = {"admin": {"base_system", "admin_bootstrap"}, "web": {"base_system"}}
    result = ProvisionResult(hosts=outcomes(recaps, expected, reached, finished=set()))
    assert [(h.host, h.outcome, h.not_run) for h in result.hosts] == [
        ("admin", "failed", ()),
        ("db", "skipped", ("base_system",)),  # never counted by Ansible at all
        ("web", "skipped", ("nginx",)),
    ]
    assert not result.ok
    assert result.summary() == "3 machine(s): provisioned 0, failed 1 (admin), skipped 2 (db, web)"
    assert result.hosts[2].outcome_line() == "web: skipped; not run: nginx"
    done = outcomes([HostRecap("web", ok=5)], {"web": ["base_system"]}, {"web": {"base_system"}}, {"web"})
    assert (
        ProvisionResult(hosts=done).ok
        and ProvisionResult(hosts=done).summary() == "1 machine(s): provisioned 1 (web), failed 0"
    )
