"""`console` on real tmux (a private server per test) and the throwaway Incus: layout, colours, shells in the
right containers, reattach, the stopped-machine pane, dry run, kill, clipboard purge, the TUI's seams."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import libtmux
import pytest

from anklume_tui import cli
from anklume_tui.engine.console.layout import build_layout, incus_cli_environment
from anklume_tui.engine.console.tmux import console_command, open_in_current_tmux
from anklume_tui.engine.host.paths import tmux_last_domain_file
from anklume_tui.engine.incus.transport import resolve_endpoint
from anklume_tui.psot.context import HostContext
from anklume_tui.psot.pipeline import run_psot
from tests.engine.console_helpers import (
    exec_clients,
    make_console_setup,
    pane_text,
    private_tmux,
    tmux,
    tmux_env,
)
from tests.engine.incus_helpers import incus_list, isolate_host
from tests.wait_helpers import wait_until

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
SESSION = "console-test"


@dataclass
class Console:
    server: libtmux.Server
    infra: Path
    incusd: object
    capsys: pytest.CaptureFixture

    def verb(self, *args: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        code = cli.main(
            ["--batch", "console", "--infra", str(self.infra), "--incus", self.incusd.url]
            + ["--tmux-socket", self.server.socket_name, "--session", SESSION, *args]
        )
        out, err = self.capsys.readouterr()
        return code, out, err

    def open(self, *args: str) -> str:
        code, out, err = self.verb("--no-attach", *args)
        assert code == 0, err
        return out

    def tmux(self, *args: str) -> list[str]:
        return tmux(self.server, *args)

    def panes(self, window: str, fmt: str) -> list[str]:
        return self.tmux("list-panes", "-t", f"{SESSION}:{window}", "-F", fmt)

    def pane(self, domain: str, machine: str) -> str:
        for line in self.tmux("list-panes", "-s", "-t", SESSION, "-F", "#{pane_id} #{@anklume_machine}"):
            pane_id, name = line.split(" ", 1)
            if name == machine:
                return pane_id
        raise AssertionError(f"no pane for {machine}")

    def run_in(self, pane: str, command: str, expected: str) -> str:
        wait_until(lambda: pane_text(self.server, pane).rstrip().endswith("#"), what=f"a shell prompt in {pane}")
        self.tmux("send-keys", "-t", pane, command, "Enter")
        return wait_until(
            lambda: expected in pane_text(self.server, pane).splitlines(), what=f"{expected!r} in {pane}", timeout=20
        )


@pytest.fixture(scope="module")
def console_setup(incus_daemon, tmp_path_factory):
    """The Incus objects, made once for this module (tests put back what they change), removed at its end."""
    yield make_console_setup(incus_daemon, tmp_path_factory.mktemp("console"))
    incus_daemon.reset()


@pytest.fixture
def incusd(incus_daemon, console_setup):
    return incus_daemon


@pytest.fixture
def console(incusd, console_setup, tmp_path, monkeypatch, capsys):
    isolate_host(tmp_path, monkeypatch)
    with private_tmux(tmux_env(incusd)) as server:
        yield Console(server, console_setup, incusd, capsys)
    assert exec_clients(incusd.socket_path) == [], "an incus exec client outlived the test's tmux server"


def test_console_has_a_window_per_domain_and_a_titled_pane_per_machine(console):
    out = console.open()
    assert "created (2 domain window(s), 3 machine pane(s))" in out
    windows = console.tmux("list-windows", "-t", SESSION, "-F", "#{window_name} #{@anklume_domain}")
    assert windows == ["lab lab", "work work"]
    assert console.panes("work", "#{pane_title}|#{@anklume_label}|#{@anklume_domain}") == [
        "[work] work-a|[work] work-a|work",
        "[work] work-b|[work] work-b|work",
    ]
    pane = console.pane("lab", "lab-box")
    assert console.tmux("display-message", "-p", "-t", pane, "#{pane_title}") == ["[lab] lab-box"]
    assert console.tmux("show-options", "-w", "-v", "-t", f"{SESSION}:work", "pane-border-status") == ["top"]


def test_tabs_and_pane_backgrounds_carry_the_trust_colour_set_by_tmux_options(console):
    console.open()
    show = console.tmux
    assert show("show-options", "-w", "-v", "-t", f"{SESSION}:lab", "window-status-style") == ["bg=colour52,fg=white"]
    assert show("show-options", "-w", "-v", "-t", f"{SESSION}:lab", "window-status-current-style") == [
        "bg=colour52,fg=white,bold"
    ]
    assert show("show-options", "-w", "-v", "-t", f"{SESSION}:work", "window-status-style") == ["bg=colour22,fg=white"]
    for domain, machine, colour in (("lab", "lab-box", "colour52"), ("work", "work-a", "colour22")):
        pane = console.pane(domain, machine)
        assert show("show-options", "-p", "-v", "-t", pane, "window-style") == [f"bg={colour}"]
        assert show("show-options", "-p", "-v", "-t", pane, "window-active-style") == [f"bg={colour}"]


def test_an_attached_client_draws_the_colours_and_labels(console, incusd):
    """A real client (attached inside a second private tmux) renders the session; capture-pane -e reads it back."""
    console.open("--domain", "lab")
    env = {**tmux_env(incusd), "TERM": "screen-256color"}
    attach = " ".join(console_command(SESSION, console.server))
    with private_tmux(env) as outer:
        tmux(outer, "new-window", "-t", "keepalive", f"env -u TMUX TERM=screen-256color {attach}")

        def drawn() -> str:
            text = pane_text(outer, "keepalive:1", escapes=True)
            return text if "[lab] lab-box" in text else ""

        screen = wait_until(drawn, what="the attached client's screen")
        assert "48;5;52" in screen  # colour52 behind the untrusted pane and its tab
        plain = pane_text(outer, "keepalive:1")
        assert "─ [lab] lab-box ─" in plain.splitlines()[0]  # the label in the top border


def test_a_command_typed_in_a_pane_runs_inside_that_pane_s_container(console):
    console.open()
    console.run_in(console.pane("lab", "lab-box"), "hostname", "lab-box")
    console.run_in(console.pane("work", "work-a"), "hostname", "work-a")


def test_a_container_retitling_its_pane_does_not_change_the_border_label(console):
    console.open()
    pane = console.pane("lab", "lab-box")
    console.run_in(pane, r"printf '\033]2;[work] fake\033\\'; echo done", "done")
    shown = console.tmux("display-message", "-p", "-t", pane, "#{pane_title}|#{@anklume_label}")
    assert shown == ["[work] fake|[lab] lab-box"]
    assert console.tmux("show-options", "-w", "-v", "-t", f"{SESSION}:lab", "pane-border-format") == [
        " #{@anklume_label} "
    ]


def test_opening_again_reattaches_to_the_same_session_without_duplicating(console):
    console.open("--domain", "work")
    before = console.tmux("list-panes", "-s", "-t", SESSION, "-F", "#{pane_id}")
    out = console.open()
    assert "reattached to" in out
    assert [s for s in console.tmux("list-sessions", "-F", "#{session_name}") if s == SESSION] == [SESSION]
    assert console.tmux("list-windows", "-t", SESSION, "-F", "#{window_name}") == ["work", "lab"]
    after = console.tmux("list-panes", "-s", "-t", SESSION, "-F", "#{pane_id}")
    assert after[: len(before)] == before and len(after) == 3
    console.open("--domain", "work")
    assert console.tmux("display-message", "-p", "-t", SESSION, "#{window_name}") == ["work"]
    assert len(console.tmux("list-panes", "-s", "-t", SESSION, "-F", "#{pane_id}")) == 3


def test_a_stopped_machine_pane_says_so_and_starts_it_on_enter(console, incusd):
    console.open()
    pane = console.pane("work", "work-b")
    text = wait_until(lambda: pane_text(console.server, pane), what="the stopped pane's text")
    assert "[work] work-b is stopped." in text
    assert "Press Enter to start work-b, or q then Enter to close this pane:" in text
    console.tmux("send-keys", "-t", pane, "Enter")
    try:
        console.run_in(pane, "hostname", "work-b")
        assert incus_list(incusd)[("work", "work-b")]["status"] == "Running"
    finally:
        incusd.incus("stop", "work-b", "--project=work", "--force", check=False)


def test_dry_run_prints_the_layout_and_creates_no_session(console):
    code, out, _ = console.verb("--dry-run")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"session {SESSION}"
    assert "  window 0 lab trust=untrusted tab=bg=colour52,fg=white pane=bg=colour52" in lines
    assert "  window 1 work trust=trusted tab=bg=colour22,fg=white pane=bg=colour22" in lines
    assert any(line.startswith("    pane [work] work-b (Stopped): offers `incus start`") for line in lines)
    assert console.tmux("list-sessions", "-F", "#{session_name}") == ["keepalive"]


def test_unknown_domain_is_a_usage_error(console):
    code, _, err = console.verb("--no-attach", "--domain", "nope")
    assert code == 2 and "unknown domain" in err


def test_kill_ends_the_session_and_every_incus_exec_client(console, incusd):
    console.open()
    for machine in ("lab-box", "work-a"):
        console.run_in(console.pane("", machine), "hostname", machine)
    clients = exec_clients(incusd.socket_path)
    assert len(clients) >= 2
    assert _shells_in(incusd, "lab-box", "lab")
    code, out, _ = console.verb("--kill")
    assert code == 0 and "ended" in out
    assert SESSION not in console.tmux("list-sessions", "-F", "#{session_name}")
    ps = subprocess.run(["ps", "-o", "pid=,args=", "-p", ",".join(map(str, clients))], capture_output=True, text=True)
    assert ps.stdout.strip() == "", ps.stdout
    assert exec_clients(incusd.socket_path) == []
    wait_until(
        lambda: not _shells_in(incusd, "lab-box", "lab"), what="the shell in the container to end with its client"
    )
    assert console.verb("--kill")[1].strip() == f"console {SESSION}: no such session"


def _shells_in(incusd, instance: str, project: str) -> list[str]:
    listing = incusd.incus("exec", instance, f"--project={project}", "--", "ps", "-o", "pid,args").stdout
    return [line for line in listing.splitlines() if line.split()[1:] in (["sh"], ["bash"])]


def _buffers(console) -> list[str]:
    return console.tmux("list-buffers", "-F", "#{buffer_name}")


def test_clipboard_is_purged_when_focus_moves_to_another_domain_only(console):
    console.open()
    last = tmux_last_domain_file()
    work_a, work_b, lab = (console.pane(d, m) for d, m in (("work", "work-a"), ("work", "work-b"), ("lab", "lab-box")))
    console.tmux("select-window", "-t", f"{SESSION}:work")
    console.tmux("select-pane", "-t", work_a)
    wait_until(lambda: last.exists() and last.read_text() == "work", what="the last domain to be work")
    console.tmux("set-buffer", "-b", "secret", "work data")
    console.tmux("select-pane", "-t", work_b)
    subprocess.run(["sleep", "0.7"], check=True)  # the hook runs in the background: give it time to (not) act
    assert _buffers(console) == ["secret"]
    console.tmux("select-window", "-t", f"{SESSION}:lab")  # a window move (C-b n) is enough
    wait_until(lambda: _buffers(console) == [], what="tmux buffers to be purged")
    assert last.read_text() == "lab"
    console.tmux("set-buffer", "-b", "lab-secret", "lab data")
    console.tmux("select-pane", "-t", lab)
    console.tmux("select-pane", "-t", work_a)
    wait_until(lambda: _buffers(console) == [], what="tmux buffers to be purged again")
    assert last.read_text() == "work"


def test_the_tui_seams_open_a_window_in_the_current_tmux_and_give_an_attach_command(console, incusd, monkeypatch):
    result = run_psot(console.infra, HostContext(skip_subnet_check=True))
    states = {(i["project"], i["name"]): i["status"] for i in incus_list(incusd).values()}
    env = incus_cli_environment(resolve_endpoint(incusd.url))
    layout = build_layout(result.infra, states, environment=env).only("lab", "lab-box")
    socket = console.tmux("display-message", "-p", "-t", "keepalive", "#{socket_path}")[0]
    pane = console.tmux("display-message", "-p", "-t", "keepalive", "#{pane_id}")[0]
    monkeypatch.setenv("TMUX", f"{socket},1,0")
    monkeypatch.setenv("TMUX_PANE", pane)
    (window_id,) = open_in_current_tmux(layout, tmux_last_domain_file())
    assert console.tmux("display-message", "-p", "-t", "keepalive", "#{window_id}") == [window_id]
    (new_pane,) = console.tmux("list-panes", "-t", window_id, "-F", "#{pane_id}")
    assert console.tmux("display-message", "-p", "-t", new_pane, "#{pane_title}") == ["[lab] lab-box"]
    console.run_in(new_pane, "hostname", "lab-box")
    assert console_command(layout, console.server) == [
        "tmux",
        "-L",
        console.server.socket_name,
        "attach-session",
        "-t",
        "anklume",
    ]


def test_from_a_terminal_the_verb_attaches_to_the_console(console, incusd):
    """Run in a terminal (a pane of a second private tmux), `console` attaches that terminal to the session."""
    keep = ("ANKLUME_CONTEXT_DIR", "ANKLUME_SKIP_HOST_SUBNET_CHECK", "XDG_STATE_HOME", "XDG_CONFIG_HOME")
    settings = [f"{k}={os.environ[k]}" for k in keep]
    argv = [sys.executable, "-m", "anklume_tui", "--batch", "console", "--infra", str(console.infra)]
    argv += ["--incus", incusd.url, "--tmux-socket", console.server.socket_name, "--session", SESSION]
    command = shlex.join(["env", "-u", "TMUX", *settings, *argv])
    with private_tmux({**tmux_env(incusd), "TERM": "screen-256color"}) as outer:
        tmux(outer, "new-window", "-t", "keepalive", command)
        wait_until(lambda: "─ [lab] lab-box ─" in pane_text(outer, "keepalive:1"), what="the console in the terminal")
        assert console.tmux("list-clients", "-F", "#{session_name}") == [SESSION]
