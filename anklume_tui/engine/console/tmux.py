"""The coloured tmux console (SPEC §10.4), applied with libtmux: the only module that drives tmux.

The layout is a value (`console_layout.py`); this module creates it in a tmux server, reattaches to it, and
ends it with every process its panes started. Labels and colours are tmux options set by us, server-side,
so nothing running inside a container can change them: the border shows the pane option `@anklume_label`
(a container can rewrite `#{pane_title}` with an escape sequence, not a pane option).
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import time
from pathlib import Path

import libtmux
from libtmux.exc import LibTmuxException

from .layout import ConsoleError, ConsoleLayout, ConsolePane, ConsoleWindow

# tmux formats: `#` must be doubled in text that tmux expands (run-shell commands).
BORDER_FORMAT = " #{@anklume_label} "
# Hooks that fire when focus may have moved to a pane of another domain.
FOCUS_HOOKS = ("after-select-pane", "session-window-changed", "client-attached")
# Our entry in each hook's array: set again on every open, other entries (the user's) are left alone.
HOOK_INDEX = 47
DETACHED_SIZE = (200, 60)

# Run by the focus hooks: $1 the focused pane's domain, $2 the last-domain file, $3 the tmux socket.
# When the domain changed: delete every tmux buffer, clear the desktop clipboards if a tool exists, then
# remember the domain (last: once the file names it, the purge is over, so a copy made after it is kept).
CLIPBOARD_PURGE = r"""
d="$1"; f="$2"; s="$3"
[ -n "$d" ] || exit 0
[ "$(cat "$f" 2>/dev/null)" = "$d" ] && exit 0
tmux -S "$s" list-buffers -F '#{buffer_name}' 2>/dev/null | while IFS= read -r b; do
  tmux -S "$s" delete-buffer -b "$b"
done
if [ -n "$WAYLAND_DISPLAY" ] && command -v wl-copy >/dev/null 2>&1; then
  wl-copy --clear; wl-copy --primary --clear
fi 2>/dev/null
if [ -n "$DISPLAY" ]; then
  if command -v xclip >/dev/null 2>&1; then
    printf '' | xclip -selection clipboard; printf '' | xclip -selection primary
  elif command -v xsel >/dev/null 2>&1; then
    xsel --clipboard --clear; xsel --primary --clear
  fi
fi 2>/dev/null
umask 077; mkdir -p "$(dirname "$f")" && printf '%s' "$d" > "$f.tmp" && mv -f "$f.tmp" "$f"
exit 0
"""


def tmux_server(socket_name: str | None = None) -> libtmux.Server:
    """The user's default tmux server, or the one at `tmux -L socket_name`."""
    return libtmux.Server(socket_name=socket_name)


def _check(result) -> list[str]:
    if result.stderr:
        raise ConsoleError(f"tmux: {' '.join(result.stderr)}")
    return result.stdout


def find_session(server: libtmux.Server, name: str) -> libtmux.Session | None:
    try:
        return server.sessions.get(session_name=name, default=None)
    except LibTmuxException:  # no server running yet
        return None


def open_console(
    layout: ConsoleLayout, server: libtmux.Server, last_domain_file: Path, focus: str | None = None
) -> tuple[libtmux.Session, bool]:
    """The console session, created from `layout`, or the existing one with any missing domain windows added.

    Returns the session and whether it was created. Never duplicates a session or a domain's window. The
    `focus` domain's window is selected; without it a reattached session keeps the window it had.
    """
    if not layout.windows:
        raise ConsoleError("nothing to show: no enabled domain has machines")
    session = find_session(server, layout.session)
    created = session is None
    if session is None:
        first = layout.windows[0]
        session = server.new_session(
            session_name=layout.session,
            window_name=first.domain,
            window_command=first.panes[0].command,
            environment=dict(layout.environment),
            x=DETACHED_SIZE[0],
            y=DETACHED_SIZE[1],
            attach=False,
        )
        _fill_window(session.windows[0], first, layout, first_pane=session.windows[0].panes[0])
        install_clipboard_hook(session, last_domain_file)
        present: set[str | None] = {first.domain}
    else:
        present = {_option(w, "-w", "@anklume_domain") for w in session.windows}
    for window in layout.windows:
        if window.domain not in present:
            add_window(session, window, layout)
    if focus is not None or created:
        select_domain(session, focus or layout.windows[0].domain)
    return session, created


def add_window(session: libtmux.Session, window: ConsoleWindow, layout: ConsoleLayout) -> libtmux.Window:
    """A new tmux window for one domain, at the end of `session`."""
    created = session.new_window(
        window_name=window.domain,
        window_shell=window.panes[0].command,
        environment=dict(layout.environment),
        attach=False,
    )
    _fill_window(created, window, layout, first_pane=created.panes[0])
    return created


def _fill_window(target: libtmux.Window, window: ConsoleWindow, layout: ConsoleLayout, first_pane) -> None:
    for option, value in (
        ("@anklume_domain", window.domain),
        ("window-status-style", window.tab_style),
        ("window-status-current-style", window.current_tab_style),
        ("pane-border-status", "top"),
        ("pane-border-format", BORDER_FORMAT),
        ("allow-rename", "off"),
        ("automatic-rename", "off"),
    ):
        _check(target.cmd("set-option", "-w", option, value))
    _style_pane(first_pane, window, window.panes[0])
    for pane in window.panes[1:]:
        created = target.split(shell=pane.command, environment=dict(layout.environment), attach=False)
        _style_pane(created, window, pane)
        target.select_layout("tiled")
    target.select_layout("tiled")
    _check(target.cmd("select-pane", "-t", first_pane.pane_id))


def _style_pane(target: libtmux.Pane, window: ConsoleWindow, pane: ConsolePane) -> None:
    for option, value in (
        ("@anklume_domain", pane.domain),
        ("@anklume_machine", pane.machine),
        ("@anklume_label", pane.title),
    ):
        _check(target.cmd("set-option", "-p", option, value))
    _check(target.cmd("select-pane", "-T", pane.title))
    _check(target.cmd("select-pane", "-P", window.pane_style))


def _option(obj, scope: str, name: str) -> str | None:
    out = obj.cmd("show-options", scope, "-v", name).stdout
    return out[0] if out else None


def select_domain(session: libtmux.Session, domain: str) -> None:
    for window in session.windows:
        if _option(window, "-w", "@anklume_domain") == domain:
            _check(window.cmd("select-window"))
            return


def install_clipboard_hook(session: libtmux.Session, last_domain_file: Path) -> None:
    """Focus hooks that purge tmux buffers (and the desktop clipboard) when the focused domain changes."""
    script = shlex.join(["sh", "-c", CLIPBOARD_PURGE, "anklume-clipboard-purge"]).replace("#", "##")
    where = shlex.quote(str(last_domain_file)).replace("#", "##")
    command = f"{script} #{{q:@anklume_domain}} {where} #{{q:socket_path}}"
    for hook in FOCUS_HOOKS:
        _check(session.cmd("set-hook", f"{hook}[{HOOK_INDEX}]", f"run-shell -b {_tmux_quoted(command)}"))


def _tmux_quoted(text: str) -> str:
    """One argument for tmux's command parser: double quotes, with `\\`, `"`, `$` and newlines escaped."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$").replace("\n", "\\n")
    return f'"{escaped}"'


def pane_pids(session: libtmux.Session) -> list[int]:
    return [int(pid) for pid in _check(session.cmd("list-panes", "-s", "-F", "#{pane_pid}")) if pid.isdigit()]


def _processes_of(leaders: list[int]) -> set[int]:
    """Every process whose session or process group is one of the panes' (tmux makes each pane a session)."""
    wanted, found = set(leaders), set(leaders)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) in wanted or int(fields[3]) in wanted:  # process group, session
                found.add(int(stat.parent.name))
    return found


def _signal_all(pids: set[int], sig: int) -> set[int]:
    alive = set()
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)
            alive.add(pid)
    return alive


def kill_console(server: libtmux.Server, name: str, grace: float = 1.0) -> bool:
    """End session `name` and every process of its panes (a plain kill-session leaves `incus exec` clients
    running). Returns whether the session existed."""
    session = find_session(server, name)
    if session is None:
        return False
    leaders = pane_pids(session)
    processes = _processes_of(leaders)
    for leader in leaders:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(leader, signal.SIGTERM)
    alive = _signal_all(processes, signal.SIGTERM)
    with contextlib.suppress(LibTmuxException):
        if find_session(server, name) is not None:
            session.kill()
    deadline = time.monotonic() + grace
    while alive and time.monotonic() < deadline:
        time.sleep(0.05)
        alive = _signal_all(alive, 0)
    _signal_all(alive | (_processes_of(leaders) - {os.getpid()}), signal.SIGKILL)
    return True


def _socket_args(server: libtmux.Server) -> list[str]:
    if server.socket_path:
        return ["-S", str(server.socket_path)]
    if server.socket_name:
        return ["-L", server.socket_name]
    return []


def console_command(target: str | ConsoleLayout, server: libtmux.Server | None = None) -> list[str]:
    """argv attaching a terminal to the console (a session name, `session:window`, or a layout's session);
    what the TUI runs while suspended."""
    name = target.session if isinstance(target, ConsoleLayout) else target
    return ["tmux", *(_socket_args(server) if server else []), "attach-session", "-t", name]


def _current_tmux_socket() -> str | None:
    value = os.environ.get("TMUX")
    return value.split(",", 1)[0] if value else None


def server_socket_path(server: libtmux.Server) -> str | None:
    with contextlib.suppress(LibTmuxException, IndexError):
        return server.cmd("display-message", "-p", "#{socket_path}").stdout[0]
    return None


def attach(server: libtmux.Server, target: str) -> int:
    """Show `target` on this terminal: switch the client when we already run inside that tmux server, else
    attach (nested when inside another tmux: its prefix is `C-b` too, `C-a` is suggested for one of them)."""
    inside = _current_tmux_socket()
    if inside and inside == server_socket_path(server):
        _check(server.cmd("switch-client", "-t", target))
        return 0
    env = {k: v for k, v in os.environ.items() if k != "TMUX"}
    return subprocess.run(console_command(target, server), env=env, check=False).returncode


def open_in_current_tmux(layout: ConsoleLayout, last_domain_file: Path) -> list[str | None]:
    """For a TUI running inside tmux: the layout's windows as new windows of the current session, the first one
    selected. Returns the new windows' ids."""
    socket = _current_tmux_socket()
    if not socket:
        raise ConsoleError("not running inside tmux")
    server = libtmux.Server(socket_path=socket)
    pane = os.environ.get("TMUX_PANE")
    args = ["display-message", "-p", *(["-t", pane] if pane else []), "#{session_id}"]
    session_id = _check(server.cmd(*args))[0]
    session = server.sessions.get(session_id=session_id)
    assert session is not None  # QueryList.get raises when nothing matches
    install_clipboard_hook(session, last_domain_file)
    created = [add_window(session, window, layout) for window in layout.windows]
    if created:
        _check(created[0].cmd("select-window"))
    return [w.window_id for w in created]
