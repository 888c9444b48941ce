"""Opening the console for a selection in the TUI: in the TUI's own tmux when there is one, else a console
session that the TUI attaches to while it is suspended."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping

from ...psot.model import Infra
from ..host.paths import tmux_last_domain_file
from ..incus.endpoint import resolve_endpoint
from .layout import build_layout, incus_cli_environment
from .tmux import console_command, open_console, open_in_current_tmux, tmux_server


def open_for_selection(
    url: str | None, infra: Infra, states: Mapping[tuple[str, str], str], domain: str, machine: str | None
) -> list[str] | None:
    """Open panes for one machine or a whole domain. Returns the argv to run with the terminal handed over,
    or None when the panes were opened in the tmux session the TUI itself runs in. Raises ConsoleError."""
    environment = incus_cli_environment(resolve_endpoint(url))
    layout = build_layout(infra, states, environment=environment).only(domain, machine)
    if os.environ.get("TMUX"):
        open_in_current_tmux(layout, tmux_last_domain_file())
        return None
    server = tmux_server(os.environ.get("ANKLUME_TMUX_SOCKET"))  # a private tmux server when set (tests)
    open_console(layout, server, tmux_last_domain_file(), focus=domain)
    return console_command(f"{layout.session}:{domain}", server)


def run_attached(argv: list[str]) -> int:
    """Run a terminal program (tmux attach) in the foreground; the TUI is suspended meanwhile."""
    env = {k: v for k, v in os.environ.items() if k != "TMUX"}
    return subprocess.run(argv, env=env, check=False).returncode
