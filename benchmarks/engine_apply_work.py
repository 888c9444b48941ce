"""What apply does after start, counted: HTTP requests to Incus by kind, subprocesses (nft, systemctl) and
wall time, for an apply of 3 domains x 10 busybox containers from nothing and for the no-op apply after it,
on a throwaway real Incus (tests/incusd_helpers.py), in-process (start-up imports are not in these figures).

`python benchmarks/engine_apply_work.py [--runs N] [--profile]`: N no-op applies (median), and with
--profile a cProfile of the apply from nothing (top 25 by cumulative time) on stderr.
"""

from __future__ import annotations

import asyncio
import collections
import cProfile
import os
import pstats
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine_plan_apply import CTX, timed_apply  # noqa: E402

from anklume_tui.engine.incus import transport  # noqa: E402
from anklume_tui.psot.pipeline import run_psot  # noqa: E402
from tests.engine.apply_helpers import many_machines  # noqa: E402
from tests.incusd_helpers import ThrowawayIncus, incus_installed  # noqa: E402

NAME = re.compile(r"/d\d+-m\d+")
OPERATION = re.compile(r"/operations/[0-9a-f-]+")


def counted(original, kind_of, counts, seconds):  # type: ignore[no-untyped-def]
    """The transport method `original`, counting each call in `counts` and its wall time in `seconds` under
    the kind `kind_of(method, path)` names."""

    async def wrapper(self, method, path, **kwargs):  # type: ignore[no-untyped-def]
        kind = kind_of(method, path)
        t0 = time.perf_counter()
        try:
            return await original(self, method, path, **kwargs)
        finally:
            counts[kind] += 1
            seconds[kind] += time.perf_counter() - t0

    return wrapper


class Counter:
    """Every request the transport sends and every subprocess run, by kind, while installed."""

    def __init__(self) -> None:
        self.requests: collections.Counter[str] = collections.Counter()
        self.seconds: collections.Counter[str] = collections.Counter()
        self.processes: collections.Counter[str] = collections.Counter()
        self.process_seconds: collections.Counter[str] = collections.Counter()
        self.calls: collections.Counter[str] = collections.Counter()
        self.call_seconds: collections.Counter[str] = collections.Counter()

    @contextmanager
    def installed(self) -> Iterator[Counter]:
        send, call, run = transport.IncusTransport.send, transport.IncusTransport.call, subprocess.run
        counter = self
        timed_call = counted(
            call,
            lambda method, path: f"{method} {NAME.sub('/{m}', path)} (with its wait)",
            self.calls,
            self.call_seconds,
        )
        counted_send = counted(
            send,
            lambda method, path: f"{method} {OPERATION.sub('/operations/{id}', NAME.sub('/{m}', path))}",
            self.requests,
            self.seconds,
        )

        def counted_run(args, *rest, **kwargs):  # type: ignore[no-untyped-def]
            words = [str(a) for a in args][:3] if isinstance(args, list | tuple) else [str(args)]
            tool = Path(words[0]).name
            shown = " ".join([tool, *(w for w in [str(a) for a in args] if not w.startswith(("/", "-")))][:4])
            t0 = time.perf_counter()
            try:
                return run(args, *rest, **kwargs)
            finally:
                counter.processes[shown] += 1
                counter.process_seconds[shown] += time.perf_counter() - t0

        transport.IncusTransport.send = counted_send  # type: ignore[method-assign]
        transport.IncusTransport.call = timed_call  # type: ignore[method-assign]
        subprocess.run = counted_run  # type: ignore[assignment]
        try:
            yield self
        finally:
            transport.IncusTransport.send = send  # type: ignore[method-assign]
            transport.IncusTransport.call = call  # type: ignore[method-assign]
            subprocess.run = run

    def report(self, title: str) -> None:
        print(f"  {title}: {sum(self.requests.values())} requests, {sum(self.processes.values())} subprocesses")
        for kind, n in self.requests.most_common():
            print(f"    {n:4d}  {self.seconds[kind] * 1000:8.1f} ms  {kind}")
        for kind, n in self.calls.most_common():
            if "/operations/" not in kind and self.call_seconds[kind] > 0.2:
                print(f"    {n:4d}  {self.call_seconds[kind] * 1000:8.1f} ms  {kind}")
        for kind, n in self.processes.most_common():
            print(f"    {n:4d}  {self.process_seconds[kind] * 1000:8.1f} ms  process {kind}")


def main() -> None:
    if not incus_installed() or os.geteuid() != 0:
        print("engine apply work: skipped (needs incusd and root)")
        return
    runs = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 5
    daemon = ThrowawayIncus().start()
    try:
        with tempfile.TemporaryDirectory() as tmp, daemon.nft_inside(Path(tmp)):
            path = Path(tmp) / "infra.yml"
            path.write_text(many_machines(3, 10))
            infra = run_psot(path, CTX).infra
            print(f"engine apply work, 3 x 10 busybox containers ({os.cpu_count()} CPUs)")
            profile = cProfile.Profile() if "--profile" in sys.argv else None
            with Counter().installed() as first:
                if profile is not None:
                    profile.enable()
                seconds, to_first, to_last, ok = asyncio.run(timed_apply(daemon, infra, Path(tmp) / "state"))
                if profile is not None:
                    profile.disable()
            assert ok, "apply from nothing failed"
            print(
                f"  apply from nothing: {seconds:.2f} s (first instance action at {to_first:.2f} s, "
                f"last instance done at {to_last:.2f} s)"
            )
            first.report("apply from nothing")
            times = []
            for run in range(runs):
                with Counter().installed() as again:
                    seconds, _, _, ok = asyncio.run(timed_apply(daemon, infra, Path(tmp) / "state"))
                assert ok, "no-op apply failed"
                times.append(seconds)
                if run == 0:
                    again.report("no-op apply")
            print(
                f"  no-op apply: median {statistics.median(times) * 1000:.0f} ms of {runs}: "
                + " ".join(f"{t * 1000:.0f}" for t in times)
            )
            if profile is not None:
                pstats.Stats(profile, stream=sys.stderr).sort_stats("cumulative").print_stats(25)
    finally:
        daemon.stop()


if __name__ == "__main__":
    main()
