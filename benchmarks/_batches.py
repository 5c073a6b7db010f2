"""Time an in-process request loop: the median of five batches, and a profile on request."""

from __future__ import annotations

import cProfile
import pstats
import statistics
import sys
import time
from collections.abc import Callable


def median_batch_ms(run: Callable[[int], None], requests: int, warm_up: int,
                    profile: bool = False, top: int = 30) -> float:
    """Milliseconds per request: ``run(warm_up)`` first (imports, pooled connection, prepared
    statements), then the median of five batches of ``requests // 5``, so one disturbed batch
    does not count. With ``profile``, ``requests`` more run under cProfile and its ``top``
    lines by cumulative time go to stderr."""
    run(warm_up)
    batches = []
    for _ in range(5):
        started = time.perf_counter()
        run(requests // 5)
        batches.append((time.perf_counter() - started) / (requests // 5) * 1000)
    if profile:
        profiler = cProfile.Profile()
        profiler.runcall(run, requests)
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(top)
    return statistics.median(batches)
