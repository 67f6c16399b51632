"""Benchmark: generation time and peak memory of ``werkeffect.simulate``.

``run(size)``: ``size`` is the approximate stock (people on bijstand) to simulate; ``None``
runs the two named scales, Groningen (median of 3 runs) and national (1 run, target < 2
minutes and < 8 GB on a 2-core machine). Each run is a fresh Python process, so the peak
resident memory (``ru_maxrss``) belongs to that run alone.

    python benchmarks/bench_simulate.py --scale national
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

GRONINGEN_STOCK = 10_356

_CODE = r"""
import json, resource, time
t = time.perf_counter()
from werkeffect.simulate import simulate
ds, truth = simulate(scenario="groningen", seed=0, scale={scale!r})
sec = time.perf_counter() - t
import pandas as pd
sp = ds.spells
start = sp.start_date.clip(lower=pd.Timestamp("2015-01-01"))
end = sp.end_date.fillna(ds.extract_date)
pm = float(((end - start).dt.days.clip(lower=0) / (365.25 / 12)).sum())
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
rows = {{k: len(v) for k, v in ds.tables().items()}}
print(json.dumps({{"seconds": sec, "peak_mb": peak, "rows": rows, "person_months": pm}}))
"""


def _one(scale) -> dict:
    env = dict(os.environ)
    src = str(Path(__file__).resolve().parents[1] / "src")
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("OMP_NUM_THREADS", "1")
    out = subprocess.run(
        [sys.executable, "-c", _CODE.format(scale=scale)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _task(name: str, scale, repeats: int) -> dict:
    runs = [_one(scale) for _ in range(repeats)]
    rows = runs[0]["rows"]
    return {
        "suite": "simulate",
        "task": f"simulate {name}",
        "tool": "werkeffect",
        "size": rows["spells"],
        "seconds": statistics.median(r["seconds"] for r in runs),
        "peak_mb": max(r["peak_mb"] for r in runs),
        "agrees": None,
        "note": (
            f"scale={scale}; {repeats} run(s); person-months on benefit 2015-2025: "
            f"{runs[0]['person_months'] / 1e6:.1f}M; rows "
            + ", ".join(f"{k}={v:,}" for k, v in rows.items())
        ),
    }


def run(size: int | None = None) -> list[dict]:
    if size is None:
        return [_task("groningen", "groningen", 3), _task("national", "national", 1)]
    return [_task(f"stock~{size}", size / GRONINGEN_STOCK, 1)]


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", choices=["groningen", "national", "both"], default="both")
    args = ap.parse_args()
    if args.scale == "both":
        results = run(None)
    else:
        results = [_task(args.scale, args.scale, 3 if args.scale == "groningen" else 1)]
    for r in results:
        print(json.dumps(r))
