"""Disposable readiness on a throwaway real Incus (tests/incusd_helpers.py): create + start + first command of an
Incus-ephemeral busybox container in a domain project (target: under 1 s), as `disp -- CMD` does it."""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine_plan_apply import available  # noqa: E402

from anklume_tui.engine.incus.client import IncusClient  # noqa: E402
from anklume_tui.engine.machines.disposables import create_disposable  # noqa: E402
from anklume_tui.engine.reconcile.apply import apply  # noqa: E402
from anklume_tui.psot.context import HostContext  # noqa: E402
from anklume_tui.psot.pipeline import run_psot  # noqa: E402
from tests.incusd_helpers import ThrowawayIncus  # noqa: E402

CTX = HostContext(skip_subnet_check=True)
INFRA = """\
project_name: bench-disp
global:
  addressing: {}
  default_os_image: busybox
domains:
  throw:
    trust_level: disposable
    machines:
      throw-box: {}
"""


async def figures(daemon: ThrowawayIncus, infra, state: Path, runs: int) -> list[tuple[float, float]]:
    """(create+start seconds, first-exec seconds) per run; each disposable is stopped (destroyed) after."""
    async with IncusClient(daemon.url) as client:
        result = await apply(client, infra, host=CTX, state_dir=state)
        assert result.ok, "apply of the disposable domain failed"
        found = []
        for _ in range(runs):
            t0 = time.perf_counter()
            disp = await create_disposable(client, infra)
            t1 = time.perf_counter()
            ran = await client.exec(disp.name, ["true"], project=disp.project)
            t2 = time.perf_counter()
            assert ran.ok, ran.stderr
            found.append((t1 - t0, t2 - t1))
            await client.change_state(disp.name, "stop", force=True, project=disp.project)
        return found


def main(runs: int = 7) -> None:
    why = available()
    if why:
        print(f"disposable benchmark skipped: {why}")
        return
    daemon = ThrowawayIncus().start()
    try:
        with tempfile.TemporaryDirectory() as tmp, daemon.nft_inside(Path(tmp)):
            path = Path(tmp) / "infra.yml"
            path.write_text(INFRA)
            loaded = run_psot(path, CTX)
            assert loaded.valid, [f.render() for f in loaded.findings]
            found = asyncio.run(figures(daemon, loaded.infra, Path(tmp) / "state", runs))
    finally:
        daemon.stop()
    ready = [a + b for a, b in found]
    median = statistics.median(ready)
    print(
        f"disposable ready for a command (busybox, create+start+first exec), median of {runs}: "
        f"{median * 1000:.0f} ms (create+start {statistics.median(a for a, _ in found) * 1000:.0f} ms, "
        f"first exec {statistics.median(b for _, b in found) * 1000:.0f} ms; min {min(ready) * 1000:.0f}, "
        f"max {max(ready) * 1000:.0f}); target < 1000 ms: {'met' if median < 1 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
