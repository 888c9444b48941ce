"""From `anklume-tui` in an empty folder to the plan screen of a new infra, driven by keys as a user would
(issue 18): the program runs in a tmux pane; each step waits for its text on screen, then sends the keys
(enter: the short form; ctrl+s: write it; y: yes). Whole process, wall clock. `python benchmarks/first_run_guide.py`
"""

from __future__ import annotations

import os
import shlex
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tui_first_row import SIZE, Tmux, tmux_server  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PROGRAM = str(ROOT / ".venv/bin/anklume-tui")
# (what to wait for on screen, the keys to send then)
STEPS = [
    ("A new infra from a short form", ["Enter"]),
    ("valid: ctrl+s writes it", ["C-s"]),
    ("Write (y)", ["y"]),
    ("plan / apply", []),
]


def wait_for(tmux: Tmux, session: str, text: str, t0: float, timeout: float = 60) -> None:
    while text not in tmux.screen(session):
        if time.perf_counter() - t0 > timeout:
            raise TimeoutError(f"{text!r} not on screen after {timeout} s:\n{tmux.screen(session)}")
        time.sleep(0.005)


def one_run(tmux: Tmux) -> tuple[float, list[float]]:
    with tempfile.TemporaryDirectory(prefix="anklume-first-run-") as folder:
        env = {
            "HOME": folder,
            "PATH": os.environ.get("PATH", ""),
            "ANKLUME_INCUS": "unix:///nonexistent/unix.socket",  # no Incus: the guide says so, the flow goes on
            "ANKLUME_SKIP_HOST_SUBNET_CHECK": "1",
        }
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in sorted(env.items()))
        session = f"guide{time.monotonic_ns()}"
        line = f'cd {shlex.quote(folder)} && exec env -i TERM="$TERM" {exports} {shlex.quote(PROGRAM)}'
        t0 = time.perf_counter()
        tmux("new-session", "-d", "-s", session, "-x", str(SIZE[0]), "-y", str(SIZE[1]), line)
        marks = []
        try:
            for text, keys in STEPS:
                wait_for(tmux, session, text, t0)
                marks.append(time.perf_counter() - t0)
                if keys:
                    tmux("send-keys", "-t", session, *keys)
            assert (Path(folder) / "infra.yml").is_file(), "no infra.yml written"
        finally:
            tmux("kill-session", "-t", session, check=False)
        return marks[-1], marks


def main(runs: int = 5) -> None:
    with tmux_server() as tmux:
        results = [one_run(tmux) for _ in range(runs)]
    totals = [total for total, _ in results]
    print(f"first run, empty folder -> plan screen by keys: median {statistics.median(totals):.2f} s over {runs} runs")
    labels = ["guide shown", "form valid", "question shown", "plan screen"]
    for i, label in enumerate(labels):
        print(f"  {label:<15} {statistics.median(marks[i] for _, marks in results):.2f} s after start")
    print("  (the keys themselves are sent at once when their text shows; a person adds their reading time)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
