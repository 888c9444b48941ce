"""The clipboard between domains (issue 21), end to end on the throwaway daemon with real display servers: two
Xvfb and two headless sway, one of each per domain (a display shared by two domains shares its clipboard, DK5).
`work` (trusted) and `lab` (untrusted) each have one Debian container with xclip and wl-clipboard; apply gives
them the display relays. Text copied inside work-dev arrives in lab-box's X11 and Wayland clipboards by
`clipboard copy` + `clipboard paste`, read back by lab-box's own tools; lab-box's text is refused on its way up
into work-dev (CB3, exit 4) and work-dev's clipboard is unchanged; the console's tmux buffer goes both ways and
belongs to one domain (CB4). The log holds one line per transfer and none of the text. With lab's display
turned off, apply removes its relays.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from anklume_tui.app import AnklumeApp
from anklume_tui.widgets.domain_table import DomainTable
from tests.display_helpers import headless_sway, xvfb
from tests.engine.apply_helpers import ROOT, batch, batch_env, plan_json
from tests.wait_helpers import until, wait_until

INFRA = """\
project_name: desk
global:
  base_subnet: "10.142"
  default_os_image: debian
  desktop: {uid: 65534}  # the relays reach the displays as nobody: sway's socket is in nobody's 0700 folder
domains:
  work:
    ephemeral: true
    subnet_id: 1
    trust_level: trusted
    desktop: {display: true, x11: "%(work_x11)s", wayland: %(work_wayland)s}
    machines:
      work-dev: {ip: 10.142.1.10}
  lab:
    ephemeral: true
    subnet_id: 2
    trust_level: untrusted
    desktop: {display: %(lab_display)s, x11: "%(lab_x11)s", wayland: %(lab_wayland)s}
    machines:
      lab-box: {ip: 10.142.2.10}
"""
PROJECT = {"work-dev": "work", "lab-box": "lab"}
WAYLAND = "WAYLAND_DISPLAY=/run/anklume-wayland"
# Texts that must never reach the log: quotes, a shell substitution, markup, a non-ASCII letter.
X11_TEXT = "x11 from work: 'quoted' $(touch /tmp/pwned) [b]bold[/b] é"
WAYLAND_TEXT = "wayland from work ✓ `id`"
LAB_TEXT = "lab secret, must not reach work"
TMUX_TEXT = "typed in work's console pane"
TUI_TEXT = "copied with y in the TUI [red]not markup[/red]"


class Desk:
    def __init__(self, daemon, tmp, displays) -> None:
        self.daemon, self.tmp = daemon, tmp
        self.x11, self.wayland = displays
        self.infra = tmp / "infra.yml"
        self.tmux = f"anklume-desk-{os.getpid()}"

    def write(self, lab_display: bool = True) -> None:
        self.infra.write_text(
            INFRA
            % {
                "work_x11": self.x11["work"].display,
                "work_wayland": self.wayland["work"].socket,
                "lab_x11": self.x11["lab"].display,
                "lab_wayland": self.wayland["lab"].socket,
                "lab_display": "true" if lab_display else "false",
            }
        )

    def apply(self) -> None:
        done = batch(self.daemon, self.tmp, "apply", self.infra)
        assert done.returncode == 0, done.stderr + done.stdout

    def clipboard(self, action: str, machine: str, *args: str) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "anklume_tui", "--batch", "clipboard", action, machine, "--infra"]
        argv += [str(self.infra), "--tmux-socket", self.tmux, *args]
        env = batch_env(self.daemon, self.tmp)
        return subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)

    def run(self, machine: str, *command: str) -> subprocess.CompletedProcess[str]:
        return self.daemon.incus("exec", machine, f"--project={PROJECT[machine]}", "--", *command, check=False)

    def read(self, machine: str, channel: str) -> str | None:
        """The machine's clipboard as its own tools read it; None when they fail (nothing copied yet)."""
        if channel == "x11":
            display = f"DISPLAY={self.x11[PROJECT[machine]].display}"
            done = self.run(machine, "env", display, "xclip", "-selection", "clipboard", "-o")
        else:
            done = self.run(machine, "env", WAYLAND, "wl-paste", "--no-newline")
        return done.stdout if done.returncode == 0 else None

    def holds(self, machine: str, channel: str, text: str) -> None:
        """Wait until the machine's clipboard holds `text`: xclip and wl-copy serve it from a child they fork."""
        wait_until(
            lambda: self.read(machine, channel) == text, 10, lambda: f"{text!r} in {machine}'s {channel} clipboard"
        )

    def seed(self, machine: str, channel: str, text: str) -> None:
        """Copy `text` inside the machine, with its own tool (the text given on its stdin)."""
        if channel == "x11":
            display = f"DISPLAY={self.x11[PROJECT[machine]].display}"
            tool = ["env", display, "xclip", "-selection", "clipboard", "-i"]
        else:
            tool = ["env", WAYLAND, "wl-copy"]
        done = self.run(machine, "sh", "-c", 'printf %s "$0" | "$@"', text, *tool)
        assert done.returncode == 0, done.stderr
        self.holds(machine, channel, text)

    def tmux_cmd(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["tmux", "-L", self.tmux, *args], capture_output=True, text=True, timeout=30)

    @property
    def state(self):
        return self.tmp / "anklume"

    def log(self) -> list[dict]:
        return [json.loads(line) for line in (self.state / "clipboard" / "transfers.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def desk(incus_daemon, debian_image, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("desk")
    with (
        xvfb() as work_x,
        xvfb() as lab_x,
        headless_sway() as work_w,
        headless_sway() as lab_w,
        pytest.MonkeyPatch.context() as env,
    ):
        env.setenv("ANKLUME_NFT_NETNS", f"/proc/{incus_daemon.pid}/ns/net")
        desk = Desk(incus_daemon, tmp, ({"work": work_x, "lab": lab_x}, {"work": work_w, "lab": lab_w}))
        try:
            desk.write()
            desk.apply()
            yield desk
        finally:
            desk.tmux_cmd("kill-server")
            incus_daemon.nsenter("nft", "delete", "table", "inet", "anklume", check=False)
            incus_daemon.reset()


def test_x11_text_copied_in_work_arrives_in_lab_by_explicit_action_only(desk):
    desk.seed("work-dev", "x11", X11_TEXT)
    assert desk.read("lab-box", "x11") is None  # nothing moves on its own: each domain has its own display
    copied = desk.clipboard("copy", "work-dev", "--channel", "x11")
    assert copied.returncode == 0, copied.stderr
    assert f"copied {len(X11_TEXT.encode())} bytes from work-dev (work, x11)" in copied.stdout
    pasted = desk.clipboard("paste", "lab-box", "--channel", "x11")
    assert pasted.returncode == 0, pasted.stderr
    desk.holds("lab-box", "x11", X11_TEXT)
    assert desk.run("lab-box", "test", "-e", "/tmp/pwned").returncode != 0  # text, never a shell word
    assert desk.run("lab-box", "sh", "-c", "ls -a /tmp | grep -c anklume-clipboard").stdout.strip() == "0"
    buffer = desk.state / "clipboard" / "buffer"
    assert oct(buffer.stat().st_mode & 0o777) == "0o600" and oct(buffer.parent.stat().st_mode & 0o777) == "0o700"


def test_lab_text_is_refused_on_its_way_up_into_work(desk):
    desk.seed("lab-box", "x11", LAB_TEXT)
    copied = desk.clipboard("copy", "lab-box", "--channel", "x11")
    assert copied.returncode == 0, copied.stderr
    refused = desk.clipboard("paste", "work-dev", "--json")
    assert refused.returncode == 4, refused.stdout + refused.stderr
    assert "[CB3]" in refused.stderr and "paste_from: [lab]" in refused.stderr, refused.stderr
    document = json.loads(refused.stdout)
    assert (document["done"], document["rule"], document["bytes"], document["target"]) == (False, "CB3", 0, None)
    assert "[CB3]" in document["error"]
    assert desk.read("work-dev", "x11") == X11_TEXT


def test_wayland_text_copied_in_work_arrives_in_lab(desk):
    desk.seed("work-dev", "wayland", WAYLAND_TEXT)
    copied = desk.clipboard("copy", "work-dev", "--json")  # auto: the Wayland clipboard when the machine has one
    assert copied.returncode == 0, copied.stderr
    document = json.loads(copied.stdout)
    assert document["source"] == {"domain": "work", "machine": "work-dev", "channel": "wayland"}
    assert (document["done"], document["bytes"], document["target"]) == (True, len(WAYLAND_TEXT.encode()), None)
    assert WAYLAND_TEXT not in copied.stdout  # the document says what moved, never the text
    pasted = desk.clipboard("paste", "lab-box")
    assert pasted.returncode == 0, pasted.stderr
    desk.holds("lab-box", "wayland", WAYLAND_TEXT)


def test_the_console_buffer_belongs_to_the_domain_focused_last(desk):
    assert desk.tmux_cmd("new-session", "-d", "-s", "anklume").returncode == 0
    assert desk.tmux_cmd("set-buffer", TMUX_TEXT).returncode == 0
    (desk.state / "tmux-last-domain").write_text("work")  # what the focus hook writes: a work pane had focus
    copied = desk.clipboard("copy", "work-dev", "--channel", "tmux")
    assert copied.returncode == 0, copied.stderr
    pasted = desk.clipboard("paste", "lab-box", "--channel", "x11")
    assert pasted.returncode == 0, pasted.stderr
    desk.holds("lab-box", "x11", TMUX_TEXT)
    into_console = desk.clipboard("paste", "lab-box", "--channel", "tmux")
    assert into_console.returncode == 0, into_console.stderr
    assert desk.tmux_cmd("show-buffer").stdout == TMUX_TEXT
    assert (desk.state / "tmux-last-domain").read_text() == "lab"  # focusing a work pane now purges it
    refused = desk.clipboard("copy", "work-dev", "--channel", "tmux")
    assert refused.returncode == 4 and "[CB4]" in refused.stderr, refused.stdout + refused.stderr


def test_each_transfer_is_one_log_line_without_the_text(desk):
    lines = desk.log()
    assert [(r["op"], r["result"], r["rule"]) for r in lines] == [
        ("copy", "done", None),
        ("paste", "done", None),
        ("copy", "done", None),
        ("paste", "refused", "CB3"),
        ("copy", "done", None),
        ("paste", "done", None),
        ("copy", "done", None),
        ("paste", "done", None),
        ("paste", "done", None),
        ("copy", "refused", "CB4"),
    ]
    first = lines[1]
    assert first["from"] == {"domain": "work", "machine": "work-dev", "channel": "x11"}
    assert first["to"] == {"domain": "lab", "machine": "lab-box", "channel": "x11"}
    assert first["bytes"] == len(X11_TEXT.encode()) and first["time"].endswith("Z")
    raw = (desk.state / "clipboard" / "transfers.jsonl").read_bytes()
    for text in (X11_TEXT, WAYLAND_TEXT, LAB_TEXT, TMUX_TEXT):
        assert text.encode() not in raw and json.dumps(text).encode() not in raw


async def test_the_tui_copies_with_y_and_pastes_with_shift_p_saying_what_moved_never_the_text(desk, monkeypatch):
    for key, value in batch_env(desk.daemon, desk.tmp).items():
        monkeypatch.setenv(key, value)
    desk.seed("work-dev", "wayland", TUI_TEXT)
    app = AnklumeApp(desk.infra, incus_url=desk.daemon.url)
    async with app.run_test(size=(150, 40)) as pilot:
        table = app.screen.query_one(DomainTable)
        await until(pilot, lambda: app.screen.status is not None)
        operations = app.screen.query_one("#operations")

        async def press_on(machine: str, key: str, said: str) -> None:
            table.move_to(f"m:{machine}")
            await pilot.press(key)
            await until(
                pilot,
                lambda: any(said in line for line in operations.lines),
                30,
                lambda: f"{said!r} in {operations.lines[-3:]}",
            )

        await press_on("work-dev", "y", "clipboard copy: copied 46 bytes from work-dev (work, wayland)")
        await press_on(
            "lab-box", "P", "clipboard paste: pasted 46 bytes from work-dev (work) into lab-box (lab, wayland)"
        )
        await press_on("lab-box", "y", "clipboard copy: copied 46 bytes from lab-box (lab, wayland)")
        await press_on("work-dev", "P", "clipboard paste: refused: clipboard paste [CB3]")
        assert not any(TUI_TEXT in line for line in operations.lines)
    desk.holds("lab-box", "wayland", TUI_TEXT)
    assert desk.read("work-dev", "wayland") == TUI_TEXT  # the refused paste left it as it was
    assert [(r["op"], r["result"]) for r in desk.log()[-4:]] == [
        ("copy", "done"),
        ("paste", "done"),
        ("copy", "done"),
        ("paste", "refused"),
    ]


def test_apply_removes_the_display_relays_of_a_domain_that_no_longer_has_a_display(desk):
    desk.write(lab_display=False)
    desk.apply()
    [lab] = desk.daemon.incus_json("list", "--project=lab", "lab-box")
    [work] = desk.daemon.incus_json("list", "--project=work", "work-dev")
    assert not [name for name in lab["devices"] if name.startswith("dsp-")]
    assert {"dsp-x11", "dsp-wayland"} <= set(work["devices"])
    assert plan_json(desk.daemon, desk.tmp, desk.infra)["actions"] == []  # the relays cause no drift
    gone = desk.clipboard("copy", "lab-box")
    assert gone.returncode == 2 and "has no display" in gone.stderr, gone.stdout + gone.stderr
