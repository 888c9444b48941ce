"""Run every benchmark: `python benchmarks/run.py [--quick]` (figures and ratios on stdout; --quick: fewer runs of
the whole-process benchmark, which also reads AnKLuMe's source from $ANKLUME_V2_SRC for its anchors)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import cluster_apply  # noqa: E402
import disposable  # noqa: E402
import engine_plan_apply  # noqa: E402
import psot_pipeline  # noqa: E402
import tui_domains  # noqa: E402
import whole_process  # noqa: E402

if __name__ == "__main__":
    psot_pipeline.main()
    engine_plan_apply.main()  # skips itself (with the reason) when no incusd can be started
    disposable.main()  # likewise
    cluster_apply.main()  # likewise
    tui_domains.main()  # the event part likewise
    whole_process.main(["--quick"] if "--quick" in sys.argv else [])  # its Incus lines likewise
