"""The domain's trust colour on its windows (issue 21): what i3 and sway need to draw each machine's windows with
its domain's console colour (SPEC §10.4's palette, psot.constants.TRUST_COLOURS) and a `[domain]` marker.

Neither WM can match a window by the machine it comes from in its config on Debian 12: sway 1.7 has no such
criterion, and i3 4.22's `machine` criterion (the client's own WM_CLIENT_MACHINE) crashes i3 (i3 issue #5616,
fixed in 4.23). So the fragment sets a pango font and starts anklume's window marker (engine.desktop) with the
session; the marker finds the container each new window comes from (by the process at the other end of its
connection, never by what the window says) and sends that machine's `command` for that one window
(`[con_id=N] title_format ...`), through the IPC protocol both WMs share.

`client.*` colours are global in both, so the colour goes where it can be per window: the title bar, as a pango
span with the domain's background around the marker and the window's own title (`title_format`; markup needs a
`pango:` font). The window's title is the client's text: both WMs escape it when they substitute `%title`.

Pure: the rules are values; the infra's text is escaped for pango markup and for the WM's quoted string, though
names are already `[a-z0-9-]` (SPEC §3.5).
"""

from __future__ import annotations

from dataclasses import dataclass

from .constants import TRUST_COLOURS
from .model import Infra

WINDOW_MANAGERS = ("i3", "sway")
FOREGROUND = "#ffffff"
# Title bars need a pango font for markup; the size is the WMs' own default.
FONT_LINE = "font pango:monospace 10"
BEGIN = "# === MANAGED BY anklume: window trust colours (issue 21) ==="


@dataclass(frozen=True)
class WindowRule:
    """The windows of one machine: its Incus project and instance, its domain and the domain's trust colour."""

    project: str
    instance: str
    domain: str
    machine: str
    trust: str
    colour: str

    @property
    def command(self) -> str:
        """The i3/sway command giving a window this domain's marker and colour."""
        colours = f"background='{self.colour}' foreground='{FOREGROUND}'"
        return f"title_format {wm_string(f'<span {colours}> [{pango_text(self.domain)}] %title </span>')}"


def window_rules(infra: Infra) -> list[WindowRule]:
    """One rule per machine of an enabled domain, by the domain's subnet then name, machines by name (the
    console's order, SPEC §10.4)."""
    rules = []
    for dom in sorted(infra.enabled_domains, key=lambda d: (d.subnet_id, d.name)):
        colour = TRUST_COLOURS[dom.effective_trust][1]
        for machine in sorted(dom.machines, key=lambda m: m.name):
            rule = WindowRule(dom.project, machine.instance_name, dom.name, machine.name, dom.effective_trust, colour)
            rules.append(rule)
    return rules


def render_config(infra: Infra, wm: str, marker_command: str = "anklume-tui --batch window-colours --watch") -> str:
    """The fragment to include in the WM's config (`include`, sway and i3 ≥ 4.20): a pango font, and the marker
    started with the session (`exec`), which gives each window its machine's command."""
    if wm not in WINDOW_MANAGERS:
        raise ValueError(f"unknown window manager {wm!r} (one of {', '.join(WINDOW_MANAGERS)})")
    rules = window_rules(infra)
    lines = [
        BEGIN,
        f"# {len(rules)} machine(s) of the infra; rewritten by anklume",
        FONT_LINE,
        f"exec {marker_command}",
    ]
    if wm == "i3":
        # i3 reads a file without a v4-only keyword as v3 config unless told.
        lines.insert(0, "# i3 config file (v4)")
    return "\n".join(lines) + "\n"


def pango_text(text: str) -> str:
    """`text` as pango markup text: the XML entities, and `%` as a character reference so that neither WM reads a
    placeholder (`%title`) in it."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return escaped.replace("'", "&apos;").replace('"', "&quot;").replace("%", "&#37;")


def wm_string(text: str) -> str:
    """`text` as one double-quoted i3/sway config or command argument; line breaks (which end a command) are
    refused by the caller's data (names), and replaced here by a space for safety."""
    flat = " ".join(text.splitlines())
    return '"' + flat.replace("\\", "\\\\").replace('"', '\\"') + '"'
