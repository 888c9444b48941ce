"""Shared by the usage tests (engine and TUI): a container kept busy, and Incus's own CPU and memory figures
read straight from the API with plain httpx (`incusd.query`), never through our client."""

from __future__ import annotations

import time

from tests.incusd_helpers import ThrowawayIncus

# What a spinning shell shows at least, in % of one CPU. Its share is what the machine's load leaves it (under
# 20 % on two loaded cores), so a busy machine is one well above an idle busybox (about 0.1 %), not one
# holding a fixed share of a CPU.
BUSY_PERCENT = 5.0


def keep_busy(daemon: ThrowawayIncus, name: str, project: str = "default") -> None:
    """A shell spinning in the background inside the (running) container: about one CPU's worth."""
    daemon.incus("exec", name, f"--project={project}", "--", "sh", "-c", "while :; do :; done >/dev/null 2>&1 &")


def incus_usage(daemon: ThrowawayIncus, name: str, project: str = "default", seconds: float = 1.0) -> tuple[float, int]:
    """(CPU % of one CPU over `seconds`, memory bytes), as Incus's state endpoint gives them."""
    path = f"/1.0/instances/{name}/state?project={project}"
    t0, first = time.monotonic(), daemon.query(path)
    time.sleep(seconds)
    t1, second = time.monotonic(), daemon.query(path)
    share = 100.0 * (second["cpu"]["usage"] - first["cpu"]["usage"]) / ((t1 - t0) * 1e9)
    return share, second["memory"]["usage"]
