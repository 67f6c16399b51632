"""Benchmark of werkeffect.dynamic: estimate plus 200 bootstrap replications.

Default size: 100,000 spells with about 10,000 programme starts, continuous elapsed times,
eight covariates, right-censoring at a random extract date; ATT(u, h) for every month u with
at least 10 starts and h = 6, 12, 24, bootstrap over persons on 2 workers (joblib).
Target (issue 7): under 2 minutes on 2 cores. No peer exists in Python for dynamic
evaluation, so ``agrees`` is None.

Run: ``python benchmarks/bench_dynamic.py [size]``.
"""

from __future__ import annotations

import os
import resource
import sys
import time
import warnings

import numpy as np
import pandas as pd

N_BOOT = 200


def make_spells(n: int, seed: int = 0) -> pd.DataFrame:
    """Spells with exponential exit and start times; the start raises the exit hazard by 40%."""
    rng = np.random.default_rng(seed)
    k = 8
    X = rng.normal(size=(n, k))
    X[:, 4:] = (X[:, 4:] > 0.5).astype(float)
    b_exit = np.array([0.2, -0.1, 0.1, 0.0, -0.2, 0.1, 0.0, 0.1])
    b_start = np.array([0.3, 0.1, -0.1, 0.2, 0.0, 0.2, -0.2, 0.0])
    rate_exit = np.exp(np.log(1 / 24) + X @ b_exit)
    rate_start = np.exp(np.log(1 / 185) + X @ b_start)
    t0 = rng.exponential(1 / rate_exit)
    s = rng.exponential(1 / rate_start)
    treated = s < t0
    resid = rng.exponential(1 / (rate_exit * 1.4))
    t = np.where(treated, s + resid, t0)
    cause = np.where(rng.random(n) < 0.6, 1, 3)
    followup = rng.uniform(1, 120, n)
    cens = t > followup
    duration = np.minimum(t, followup)
    start = np.where(treated & (s < duration), s, np.nan)
    df = pd.DataFrame(X, columns=[f"x{j}" for j in range(k)])
    df.insert(0, "person_id", np.arange(n) // 1)
    df["duration"] = np.maximum(duration, 1e-3)
    df["cause"] = np.where(cens, 0, cause)
    df["programme_start"] = start
    return df


def _peak_mb() -> float:
    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(self_kb, child_kb) / 1024


def run(size: int | None = None) -> list[dict]:
    from werkeffect.dynamic import DynamicIPW, DynamicMatch, SurvivalMatch
    from werkeffect.dynamic.bootstrap import LAST_RUN

    n = int(size or 100_000)
    df = make_spells(n)
    covs = [f"x{j}" for j in range(8)]
    out = []
    for cls in (DynamicMatch, DynamicIPW, SurvivalMatch):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t = time.perf_counter()
            cpu = time.process_time()
            model = cls(df, covariates=covs, horizons=(6, 12, 24))
            t_fit = time.perf_counter()
            model.fit(n_boot=0)
            t_fit = time.perf_counter() - t_fit
            res = model.fit(n_boot=N_BOOT, n_jobs=2, seed=1, progress=False)
            sec = time.perf_counter() - t - t_fit
            cpu = time.process_time() - cpu + LAST_RUN.get("cpu_seconds", 0.0)
        out.append(
            {
                "suite": "dynamic",
                "task": f"{cls.__name__}: ATT(u,h) for {len(res.u_values)} u x 3 h "
                f"+ {N_BOOT} resamples (2 workers)",
                "tool": "werkeffect",
                "size": n,
                "seconds": round(sec, 2),
                "peak_mb": round(_peak_mb(), 1),
                "agrees": None,
                "note": f"{int(df['programme_start'].notna().sum()):,} starts; point estimate "
                f"alone {t_fit:.1f} s; ATT(12) = {res.params[('ATT', 12)]:.4f} "
                f"(SE {res.std_errors[('ATT', 12)]:.4f}); load average "
                f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; CPU seconds (all "
                f"processes) {cpu:.0f}, i.e. {cpu / 2:.0f} s on 2 idle cores",
            }
        )
    return out


if __name__ == "__main__":
    size = int(sys.argv[1]) if len(sys.argv) > 1 else None
    for row in run(size):
        print(row)
