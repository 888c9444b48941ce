"""Each machine's windows in its domain's trust colour (issue 21), on real window managers with windows opened from
real containers: `work` (trusted, #005f00) shows on Xvfb managed by i3, `lab` (untrusted, #5f0000) on the
Xwayland of a headless sway. apply gives each Debian container its display relay (psot.desktop's dsp-x11); a
stdlib-only X11 client (tests/desktop/x11_window.py) opens a window from inside the container. Each WM runs the
fragment `window-colours --wm WM` prints, and `window-colours --watch` (what the fragment's exec starts) marks the
window through the WM's IPC, by the container behind the window's connection (the relay's), never by what the
window claims: a host window claiming work-dev stays uncoloured. The window is found in the WM's tree
(i3-msg/swaymsg -t get_tree), and the screenshot (X GetImage / grim, kept in test-artifacts/desktop/) has the
domain's colour in that window's title bar.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from functools import partial
from pathlib import Path

import pytest

from anklume_tui.psot.constants import TRUST_COLOURS
from tests.desktop.screenshot_helpers import ppm_screenshot, save_png, x_screenshot
from tests.display_helpers import NOBODY, headless_sway, i3_on, xvfb, xwayland_display
from tests.engine.apply_helpers import ROOT, batch, batch_env
from tests.incusd_helpers import INCUS
from tests.wait_helpers import wait_until

INFRA = """\
project_name: wincol
global:
  base_subnet: "10.143"
  default_os_image: debian
  desktop: {uid: 65534}  # the relays reach the displays as the user of the session (sway's), as the guide says
domains:
  work:
    ephemeral: true
    subnet_id: 1
    trust_level: trusted
    desktop: {display: true, x11: "%(work_x11)s"}
    machines:
      work-dev: {ip: 10.143.1.10}
  lab:
    ephemeral: true
    subnet_id: 2
    trust_level: untrusted
    description: "</span><span background='#005f00'> [work] %%title \\" & ' \\\\"
    desktop: {display: true, x11: "%(lab_x11)s"}
    machines:
      lab-box: {ip: 10.143.2.10}
"""
CLIENT = Path(__file__).with_name("x11_window.py")
# The window's own title is the container's text: markup and a placeholder in it must reach the bar as text.
TITLE = "notes <b>bold?</b> %title &amp;"
WORK, LAB = TRUST_COLOURS["trusted"][1], TRUST_COLOURS["untrusted"][1]
TITLE_BAR_PIXELS = 200  # the coloured span covers the marker and the title: thousands of pixels; none without it


def window_colours(state: Path, infra: Path, *args: str, env: dict[str, str] | None = None, **kw):
    argv = [sys.executable, "-m", "anklume_tui", "--batch", "window-colours", "--infra", str(infra), *args]
    return subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True, timeout=60, **kw)


def tree_windows(node: dict) -> list[dict]:
    found = [node] if node.get("window") else []
    for child in node.get("nodes", []) + node.get("floating_nodes", []):
        found += tree_windows(child)
    return found


def title_bar(node: dict, wm: str) -> tuple[int, int, int, int]:
    """The window's title bar on screen (x, y, width, height): i3's rect holds it (deco_rect is relative to the
    rect), sway's rect starts below it."""
    rect, deco = node["rect"], node["deco_rect"]
    if wm == "i3":
        return rect["x"] + deco["x"], rect["y"] + deco["y"], deco["width"], deco["height"]
    return rect["x"], rect["y"] - deco["height"], deco["width"], deco["height"]


def start_marker(infra: Path, env: dict[str, str]) -> tuple[subprocess.Popen[str], Path]:
    log = infra.with_name(f"marker-{len(list(infra.parent.glob('marker-*')))}.log")
    argv = [sys.executable, "-m", "anklume_tui", "--batch", "window-colours", "--watch", "--infra", str(infra)]
    with log.open("w") as out:
        marker = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, text=True)
    return marker, log


def marked_line(marker: subprocess.Popen[str], log: Path) -> str:
    """The marker's first line (the window it saw and the machine the window declares)."""

    def line() -> str | None:
        if marker.poll() is not None:
            raise AssertionError(f"the marker ended ({marker.returncode}): {log.read_text()}")
        text = log.read_text()
        return text.splitlines()[0] if "\n" in text else None

    return wait_until(line, what="the marker's line for the window")


def stop(process: subprocess.Popen[str]) -> None:
    process.kill()
    process.wait()


class Desk:
    def __init__(self, daemon, tmp: Path) -> None:
        self.daemon, self.tmp = daemon, tmp
        self.infra = tmp / "infra.yml"
        self.clients: list[subprocess.Popen[str]] = []

    def open_window(self, machine: str, project: str, display: str) -> subprocess.Popen[str]:
        """The test client in `machine`, on the display its dsp-x11 relay gives it (an abstract socket). Its
        output is not waited for: Incus's CLI hands a running command's output over late; the WM's tree says
        when the window is there."""
        self.daemon.incus("file", "push", str(CLIENT), f"{machine}/root/x11_window.py", f"--project={project}")
        socket = f"@/tmp/.X11-unix/X{display.lstrip(':')}"
        argv = [INCUS, "exec", machine, f"--project={project}", "--", "python3", "/root/x11_window.py", socket, TITLE]
        log = self.tmp / f"{machine}-client.log"
        with log.open("w") as out:
            client = subprocess.Popen(argv, env=self.daemon.env, stdout=out, stderr=subprocess.STDOUT, text=True)
        self.clients.append(client)
        return client

    def running(self, client: subprocess.Popen[str], machine: str) -> None:
        if client.poll() is not None:
            raise AssertionError(f"the client in {machine} ended: {(self.tmp / f'{machine}-client.log').read_text()}")

    def start_marker(self, wm_env: dict[str, str], display: str) -> tuple[subprocess.Popen[str], Path]:
        """`window-colours --watch` as the WM's exec would start it: the WM's IPC socket and DISPLAY set."""
        return start_marker(self.infra, {**batch_env(self.daemon, self.tmp), **wm_env, "DISPLAY": display})

    def close(self) -> None:
        for client in self.clients:
            client.kill()
            client.wait()


@pytest.fixture(scope="module")
def desk(incus_daemon, debian_image, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("wincol")
    with (
        xvfb("800x600x24") as x_server,
        headless_sway(xwayland=True) as sway,
        pytest.MonkeyPatch.context() as env,
    ):
        env.setenv("ANKLUME_NFT_NETNS", f"/proc/{incus_daemon.pid}/ns/net")
        desk = Desk(incus_daemon, tmp)
        desk.x11, desk.sway, desk.xwayland = x_server, sway, xwayland_display(sway)
        desk.infra.write_text(INFRA % {"work_x11": x_server.display, "lab_x11": desk.xwayland})
        try:
            done = batch(incus_daemon, tmp, "apply", desk.infra)
            assert done.returncode == 0, done.stderr + done.stdout
            yield desk
        finally:
            desk.close()
            incus_daemon.nsenter("nft", "delete", "table", "inet", "anklume", check=False)
            incus_daemon.reset()


def coloured(grab, colour: str, box: tuple[int, int, int, int], name: str):
    """The first screenshot with `colour` in `box` (the window's title bar), and where it is kept; the last one
    taken is kept too when the colour never comes."""
    last = []

    def shown():
        last[:] = [grab()]
        return last[0].count(colour, box) >= TITLE_BAR_PIXELS and last[0]

    try:
        shot = wait_until(shown, what=f"{colour} in the window's title bar {box}", interval=0.2)
    finally:
        path = save_png(last[0], "desktop", name) if last else None
    return shot, path


def without_exec(fragment: str) -> str:
    """The fragment as the WM reads it, less its `exec` line: the test starts that marker itself, with the test
    daemon's environment (an `anklume-tui` on the WM's PATH would be a second one)."""
    return "".join(line for line in fragment.splitlines(keepends=True) if not line.startswith("exec "))


def i3_tree(i3) -> list[dict]:
    tree = subprocess.run(
        ["i3-msg", "-s", str(i3.ipc_socket), "-t", "get_tree"], capture_output=True, text=True, check=True, timeout=10
    )
    return tree_windows(json.loads(tree.stdout))


def test_i3_draws_a_window_opened_in_work_with_works_trust_colour(desk):
    fragment = window_colours(desk.tmp, desk.infra, "--wm", "i3", env=batch_env(desk.daemon, desk.tmp))
    assert fragment.returncode == 0, fragment.stderr
    assert "exec anklume-tui --batch window-colours --watch --infra" in fragment.stdout
    with i3_on(desk.x11, without_exec(fragment.stdout)) as i3:
        marker, log = desk.start_marker({"I3SOCK": str(i3.ipc_socket)}, desk.x11.display)
        try:
            client = desk.open_window("work-dev", "work", desk.x11.display)
            assert marked_line(marker, log) == f"window {TITLE!r} from work-dev"

            def window() -> dict | None:
                desk.running(client, "work-dev")
                return next((n for n in i3_tree(i3) if n["window_properties"].get("title") == TITLE), None)

            node = wait_until(window, what="the container's window in i3's tree")
            # what the window declares: the container's hostname, its instance name
            assert node["window_properties"]["machine"] == "work-dev"
            grab = partial(x_screenshot, desk.x11.socket)
            shot, path = coloured(grab, WORK, title_bar(node, "i3"), "i3-work-dev")
            assert shot.count(LAB) == 0, f"lab's colour on work's display: {path}"
        finally:
            stop(marker)


def test_sway_marks_a_window_opened_in_lab_with_labs_trust_colour(desk):
    sway = desk.sway
    fragment = window_colours(desk.tmp, desk.infra, "--wm", "sway", env=batch_env(desk.daemon, desk.tmp))
    assert fragment.returncode == 0, fragment.stderr
    assert "exec anklume-tui --batch window-colours --watch --infra" in fragment.stdout
    sway.config.write_text(sway.config.read_text() + without_exec(fragment.stdout))
    reloaded = subprocess.run(["swaymsg", "reload"], env=sway.env(), capture_output=True, text=True, timeout=30)
    assert reloaded.returncode == 0, reloaded.stdout + reloaded.stderr
    assert "Error on line" not in sway.log.read_text(errors="replace"), sway.log.read_text(errors="replace")
    # Xwayland lets in its own user only: the relays come as that user (global.desktop.uid); the marker, which the
    # session's exec would start as that user too, runs as root here.
    allowed = subprocess.run(
        ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "/usr/bin/python3", str(CLIENT)]
        + [str(Path("/tmp/.X11-unix") / f"X{desk.xwayland[1:]}"), "--allow-local-user", "root"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert allowed.returncode == 0, allowed.stderr
    wm_env = {k: v for k, v in sway.env().items() if k in ("SWAYSOCK", "WAYLAND_DISPLAY", "XDG_RUNTIME_DIR")}
    marker, log = desk.start_marker(wm_env, desk.xwayland)
    try:
        client = desk.open_window("lab-box", "lab", desk.xwayland)
        assert marked_line(marker, log) == f"window {TITLE!r} from lab-box"

        def window() -> dict | None:
            desk.running(client, "lab-box")
            tree = subprocess.run(
                ["swaymsg", "-t", "get_tree"], env=sway.env(), capture_output=True, text=True, timeout=10
            )
            return next((n for n in tree_windows(json.loads(tree.stdout)) if n.get("name") == TITLE), None)

        node = wait_until(window, what="the container's window in sway's tree")
        assert node["shell"] == "xwayland" and node["window_properties"]["class"] == "AnklumeTest"

        def grab():
            data = subprocess.run(
                ["grim", "-t", "ppm", "-"], env=sway.env(), capture_output=True, check=True, timeout=10
            ).stdout
            return ppm_screenshot(data)

        shot, path = coloured(grab, LAB, title_bar(node, "sway"), "sway-lab-box")
        assert shot.count(WORK) == 0, f"work's colour on lab's display (the hostile description's span?): {path}"
    finally:
        stop(marker)


I3_FOCUSED = "#285577"  # i3's own colour of the focused window's title bar


def test_a_host_window_claiming_a_machines_name_keeps_the_window_managers_colours(tmp_path):
    """A window from the host that says it is work-dev's (WM_CLIENT_MACHINE, what i3's tree shows): the marker
    goes by the process behind the window, which is no container, and leaves it in i3's own colours. When the
    window manager ends, so does the marker (exit 0)."""
    infra = tmp_path / "infra.yml"
    infra.write_text(INFRA % {"work_x11": ":0", "lab_x11": ":1"})
    env = {**os.environ, "ANKLUME_SKIP_HOST_SUBNET_CHECK": "1", "ANKLUME_CONTEXT_DIR": str(tmp_path / "none")}
    fragment = window_colours(tmp_path, infra, "--wm", "i3", env=env)
    assert fragment.returncode == 0, fragment.stderr
    with xvfb() as server:
        client = marker = None
        try:
            with i3_on(server, without_exec(fragment.stdout)) as i3:
                marker, log = start_marker(infra, {**env, "I3SOCK": str(i3.ipc_socket), "DISPLAY": server.display})
                argv = [sys.executable, str(CLIENT), str(server.socket), TITLE, "work-dev"]
                client = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
                assert marked_line(marker, log) == f"window {TITLE!r} from no machine of the infra"
                claimed = wait_until(lambda: [n for n in i3_tree(i3) if n["window_properties"].get("title") == TITLE])
                assert claimed[0]["window_properties"]["machine"] == "work-dev"
                shot = wait_until(
                    lambda: (s := x_screenshot(server.socket)).count(I3_FOCUSED) >= TITLE_BAR_PIXELS and s,
                    what="i3's title bar of the host's window",
                )
                save_png(shot, "desktop", "i3-host-claiming-work-dev")
                assert shot.count(WORK) == 0 and shot.count(LAB) == 0
            assert marker.wait(timeout=15) == 0, log.read_text()
        finally:
            for process in (client, marker):
                if process is not None:
                    stop(process)
