"""Helpers for ``benchmarks/bench_*.py``: time a call (median of several runs) and its peak
memory (one extra run under ``tracemalloc``, which sees numpy and pandas allocations)."""

from __future__ import annotations

import gc
import statistics
import time
import tracemalloc
from collections.abc import Callable
from typing import Any


def measure(
    fn: Callable[[], Any], repeat: int = 3, memory: bool = True
) -> tuple[float, float | None, Any]:
    """Return ``(median wall seconds, peak MB or None, result of the last call)``.

    The median CPU seconds of the same runs are kept in ``measure.last_cpu`` (useful on a
    shared machine, where wall time includes waiting for a core).
    """
    times, cpu = [], []
    result = None
    for _ in range(repeat):
        gc.collect()
        t0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    measure.last_cpu = statistics.median(cpu)
    peak = None
    if memory:
        gc.collect()
        tracemalloc.start()
        try:
            fn()
            peak = tracemalloc.get_traced_memory()[1] / 2**20
        finally:
            tracemalloc.stop()
    return statistics.median(times), peak, result


def row(
    suite: str,
    task: str,
    tool: str,
    size: int,
    seconds: float,
    peak_mb: float | None,
    agrees: bool | None = None,
    note: str = "",
) -> dict:
    """One result row in the format ``benchmarks/run.py`` expects."""
    return {
        "suite": suite,
        "task": task,
        "tool": tool,
        "size": int(size),
        "seconds": float(seconds),
        "peak_mb": None if peak_mb is None else float(peak_mb),
        "agrees": agrees,
        "note": note,
    }
