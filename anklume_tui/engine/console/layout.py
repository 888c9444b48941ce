"""The console as a value (SPEC §10.4): which tmux windows and panes, their labels, colours and commands.

Pure: built from the desired state and the instances' real states; `engine/console/tmux.py` applies it to tmux.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

from ... import exitcodes
from ...errors import Failed
from ...psot.constants import TRUST_COLOURS
from ...psot.model import Infra
from ..incus.endpoint import Endpoint, incus_config_dir

DEFAULT_SESSION = "anklume"
# Busybox and other small images have no bash: use it when present, else sh.
SHELL_IN_INSTANCE = ["sh", "-c", "command -v bash >/dev/null && exec bash || exec sh"]


class ConsoleError(Failed):
    """A console that cannot be built or opened (one clear line for the user)."""


class ConsoleRequestError(ConsoleError):
    """The console asked for cannot be built: an unknown or empty domain or machine, an Incus URL the incus
    CLI has no remote for (a usage error)."""

    exit_code = exitcodes.INVALID


@dataclass(frozen=True)
class ConsolePane:
    domain: str
    machine: str
    instance: str
    project: str
    # Incus status ("Running", "Stopped", ...), or "missing" when the instance does not exist.
    state: str
    command: str

    @property
    def title(self) -> str:
        return f"[{self.domain}] {self.machine}"

    @property
    def running(self) -> bool:
        return self.state == "Running"


@dataclass(frozen=True)
class ConsoleWindow:
    domain: str
    trust: str
    colour: str
    panes: tuple[ConsolePane, ...]

    @property
    def tab_style(self) -> str:
        return f"bg={self.colour},fg=white"

    @property
    def current_tab_style(self) -> str:
        return f"{self.tab_style},bold"

    @property
    def pane_style(self) -> str:
        return f"bg={self.colour}"


@dataclass(frozen=True)
class ConsoleLayout:
    session: str
    windows: tuple[ConsoleWindow, ...]
    # Given to every pane so that its incus CLI talks to the same daemon as our client.
    environment: Mapping[str, str] = field(default_factory=dict)

    def window(self, domain: str) -> ConsoleWindow:
        for window in self.windows:
            if window.domain == domain:
                return window
        raise ConsoleRequestError(f"no console window for domain {domain!r} (unknown, disabled or without machines)")

    def only(self, domain: str, machine: str | None = None) -> ConsoleLayout:
        """The layout reduced to one domain, or to one machine of it (what the TUI opens for a selection)."""
        window = self.window(domain)
        if machine is not None:
            panes = tuple(p for p in window.panes if p.machine == machine)
            if not panes:
                raise ConsoleRequestError(f"no machine {machine!r} in domain {domain!r}")
            window = replace(window, panes=panes)
        return replace(self, windows=(window,))


def incus_cli_environment(endpoint: Endpoint) -> dict[str, str]:
    """Environment that points the `incus` CLI at `endpoint`.

    A unix socket: `INCUS_SOCKET` (read by the CLI's `local` remote before `INCUS_DIR`) and `INCUS_REMOTE=local`,
    so a user whose default remote is elsewhere still reaches this daemon. HTTPS: the CLI needs a remote of its
    own for the address (`incus remote add`), selected with `INCUS_REMOTE`.
    """
    if endpoint.is_unix:
        assert endpoint.socket is not None
        return {"INCUS_SOCKET": endpoint.socket, "INCUS_REMOTE": "local"}
    remote = _cli_remote_for(endpoint.url)
    if remote is None:
        raise ConsoleRequestError(
            f"the incus CLI has no remote for {endpoint.url}; add one with `incus remote add NAME {endpoint.url}`"
        )
    return {"INCUS_REMOTE": remote}


def _cli_remote_for(url: str) -> str | None:
    try:
        import yaml

        remotes = (yaml.safe_load((incus_config_dir() / "config.yml").read_text()) or {}).get("remotes") or {}
    except (OSError, ValueError, AttributeError):
        return None
    wanted = urlsplit(url)
    for name, remote in remotes.items():
        addr = urlsplit(str((remote or {}).get("addr", "")))
        if addr.scheme == "https" and addr.hostname == wanted.hostname and (addr.port or 8443) == wanted.port:
            return str(name)
    return None


def exec_argv(instance: str, project: str) -> list[str]:
    return ["incus", "exec", instance, "--project", project, "--", *SHELL_IN_INSTANCE]


def shell_command(instance: str, project: str) -> str:
    """The pane command of a running machine: a shell inside it."""
    return shlex.join(exec_argv(instance, project))


def stopped_command(pane_title: str, instance: str, project: str, state: str) -> str:
    """A host-side loop: says the machine is not running and offers to start it, then opens its shell."""
    start = shlex.join(["incus", "start", instance, "--project", project])
    if state == "missing":
        script = (
            f"printf '%s\\n' {shlex.quote(f'{pane_title} does not exist in Incus yet (apply creates it).')}; "
            "printf 'Press Enter to close this pane. '; read -r _"
        )
    else:
        script = (
            f"printf '%s\\n' {shlex.quote(f'{pane_title} is stopped.')}; "
            "while :; do "
            f"printf '%s' {shlex.quote(f'Press Enter to start {instance}, or q then Enter to close this pane: ')}; "
            "read -r answer || exit 0; "
            'case "$answer" in q|Q) exit 0;; esac; '
            f"{start} && exec {shell_command(instance, project)}; "
            "done"
        )
    return shlex.join(["sh", "-c", script])


def build_layout(
    infra: Infra,
    states: Mapping[tuple[str, str], str],
    *,
    domain: str | None = None,
    session: str = DEFAULT_SESSION,
    environment: Mapping[str, str] | None = None,
) -> ConsoleLayout:
    """Windows per enabled domain with machines (by subnet_id, then name), panes per machine (sorted).

    `states` maps (project, instance) to the Incus status; an absent key means the instance does not exist.
    """
    domains = sorted((d for d in infra.enabled_domains if d.machines), key=lambda d: (d.subnet_id, d.name))
    if domain is not None:
        known = {d.name: d for d in infra.domains}
        if domain not in known:
            raise ConsoleRequestError(f"unknown domain {domain!r}")
        if not known[domain].enabled:
            raise ConsoleRequestError(f"domain {domain!r} is disabled")
        domains = [d for d in domains if d.name == domain]
        if not domains:
            raise ConsoleRequestError(f"domain {domain!r} has no machines")
    windows = []
    for dom in domains:
        colour = TRUST_COLOURS[dom.effective_trust][0]
        panes = []
        for machine in sorted(dom.machines, key=lambda m: m.name):
            state = states.get((dom.project, machine.instance_name), "missing")
            title = f"[{dom.name}] {machine.name}"
            command = (
                shell_command(machine.instance_name, dom.project)
                if state == "Running"
                else stopped_command(title, machine.instance_name, dom.project, state)
            )
            panes.append(ConsolePane(dom.name, machine.name, machine.instance_name, dom.project, state, command))
        windows.append(ConsoleWindow(dom.name, dom.effective_trust, colour, tuple(panes)))
    return ConsoleLayout(session, tuple(windows), dict(environment or {}))


def render_layout(layout: ConsoleLayout) -> str:
    """What `console --dry-run` prints: the session, then each window and pane with its command."""
    lines = [f"session {layout.session}"]
    for key, value in sorted(layout.environment.items()):
        lines.append(f"  env {key}={value}")
    if not layout.windows:
        lines.append("  (no enabled domain with machines)")
    for index, window in enumerate(layout.windows):
        lines.append(
            f"  window {index} {window.domain} trust={window.trust} tab={window.tab_style} pane={window.pane_style}"
        )
        for pane in window.panes:
            shell = shell_command(pane.instance, pane.project)
            if pane.running:
                lines.append(f"    pane {pane.title}: {shell}")
            elif pane.state == "missing":
                lines.append(f"    pane {pane.title} (missing): says so; apply creates it")
            else:
                lines.append(f"    pane {pane.title} ({pane.state}): offers `incus start`, then {shell}")
    return "\n".join(lines)
