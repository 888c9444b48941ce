"""The console layout as a value: no tmux, no Incus (SPEC §10.4, §5.6)."""

from __future__ import annotations

import shlex

import pytest

from anklume_tui.engine.console.layout import (
    ConsoleError,
    build_layout,
    incus_cli_environment,
    render_layout,
)
from anklume_tui.engine.incus.transport import resolve_endpoint
from anklume_tui.psot.context import HostContext
from anklume_tui.psot.pipeline import run_psot
from tests.engine.console_helpers import INFRA
from tests.engine.incus_helpers import isolate_host

RUNNING = {("lab", "lab-box"): "Running", ("work", "work-a"): "Running", ("work", "work-b"): "Stopped"}


@pytest.fixture
def infra(tmp_path, monkeypatch):
    isolate_host(tmp_path, monkeypatch)
    path = tmp_path / "infra.yml"
    path.write_text(INFRA)
    result = run_psot(path, HostContext(skip_subnet_check=True))
    assert result.valid, [f.render() for f in result.findings]
    return result.infra


@pytest.fixture
def nested_infra(tmp_path, monkeypatch):
    isolate_host(tmp_path, monkeypatch)
    path = tmp_path / "infra.yml"
    path.write_text(INFRA)
    result = run_psot(path, HostContext(absolute_level=1, skip_subnet_check=True))
    assert result.valid
    return result.infra


def test_windows_are_enabled_domains_with_machines_ordered_by_subnet_id_then_name(infra):
    layout = build_layout(infra, RUNNING)
    assert [w.domain for w in layout.windows] == ["lab", "work"]
    assert layout.session == "anklume"


def test_panes_are_sorted_machines_titled_with_domain_and_machine(infra):
    work = build_layout(infra, RUNNING).window("work")
    assert [p.machine for p in work.panes] == ["work-a", "work-b"]
    assert [p.title for p in work.panes] == ["[work] work-a", "[work] work-b"]


def test_colours_follow_the_effective_trust_level(infra):
    layout = build_layout(infra, RUNNING)
    lab, work = layout.window("lab"), layout.window("work")
    assert (lab.trust, lab.tab_style, lab.current_tab_style, lab.pane_style) == (
        "untrusted",
        "bg=colour52,fg=white",
        "bg=colour52,fg=white,bold",
        "bg=colour52",
    )
    assert (work.trust, work.pane_style) == ("trusted", "bg=colour22")


def test_running_machine_pane_runs_a_shell_through_incus_exec_in_its_project(infra):
    pane = build_layout(infra, RUNNING).window("lab").panes[0]
    assert shlex.split(pane.command) == [
        "incus",
        "exec",
        "lab-box",
        "--project",
        "lab",
        "--",
        "sh",
        "-c",
        "command -v bash >/dev/null && exec bash || exec sh",
    ]


def test_nesting_prefix_applies_to_instance_and_project_but_not_to_the_title(nested_infra):
    states = {("001-lab", "001-lab-box"): "Running"}
    pane = build_layout(nested_infra, states).window("lab").panes[0]
    assert shlex.split(pane.command)[:5] == ["incus", "exec", "001-lab-box", "--project", "001-lab"]
    assert pane.title == "[lab] lab-box"


def test_stopped_machine_pane_offers_to_start_then_opens_the_shell(infra):
    pane = build_layout(infra, RUNNING).window("work").panes[1]
    assert (pane.machine, pane.state, pane.running) == ("work-b", "Stopped", False)
    script = shlex.split(pane.command)[2]
    assert "is stopped." in script and "Press Enter to start work-b" in script
    assert "incus start work-b --project work && exec incus exec work-b --project work --" in script


def test_machine_without_instance_gets_a_pane_saying_apply_creates_it(infra):
    pane = build_layout(infra, {}).window("lab").panes[0]
    assert pane.state == "missing"
    assert "does not exist in Incus yet" in pane.command


def test_domain_option_keeps_one_window_and_refuses_unknown_disabled_or_empty_domains(infra):
    assert [w.domain for w in build_layout(infra, RUNNING, domain="work").windows] == ["work"]
    for domain, reason in (("nope", "unknown"), ("old", "disabled"), ("empty", "no machines")):
        with pytest.raises(ConsoleError, match=reason):
            build_layout(infra, RUNNING, domain=domain)


def test_only_narrows_the_layout_to_one_machine_for_the_tui(infra):
    layout = build_layout(infra, RUNNING).only("work", "work-b")
    assert [(w.domain, [p.machine for p in w.panes]) for w in layout.windows] == [("work", ["work-b"])]
    with pytest.raises(ConsoleError):
        build_layout(infra, RUNNING).only("work", "lab-box")


def test_dry_run_text_lists_session_environment_windows_and_panes(infra):
    environment = {"INCUS_SOCKET": "/run/x/unix.socket", "INCUS_REMOTE": "local"}
    text = render_layout(build_layout(infra, RUNNING, environment=environment, session="s1"))
    lines = text.splitlines()
    assert lines[0] == "session s1"
    assert "  env INCUS_SOCKET=/run/x/unix.socket" in lines
    assert "  window 0 lab trust=untrusted tab=bg=colour52,fg=white pane=bg=colour52" in lines
    assert any(line.startswith("    pane [lab] lab-box: incus exec lab-box --project lab -- sh -c") for line in lines)
    assert any(line.startswith("    pane [work] work-b (Stopped): offers `incus start`") for line in lines)


def test_incus_cli_is_pointed_at_the_socket_of_the_incus_url():
    env = incus_cli_environment(resolve_endpoint("unix:///tmp/d/incus/unix.socket"))
    assert env == {"INCUS_SOCKET": "/tmp/d/incus/unix.socket", "INCUS_REMOTE": "local"}


def test_https_url_needs_a_matching_incus_cli_remote(tmp_path, monkeypatch):
    conf = tmp_path / "conf"
    conf.mkdir()
    monkeypatch.setenv("INCUS_CONF", str(conf))
    (conf / "config.yml").write_text("remotes:\n  far:\n    addr: https://far.example:8443\n    protocol: incus\n")
    assert incus_cli_environment(resolve_endpoint("https://far.example")) == {"INCUS_REMOTE": "far"}
    with pytest.raises(ConsoleError, match="incus remote add"):
        incus_cli_environment(resolve_endpoint("https://other.example:8443"))
