"""Benchmark of werkeffect.survival against peers on identical data.

Tasks
-----
* ``cox_tv``: Cox model with a time-varying treatment and 6 covariates on start–stop episodes
  (``size`` episodes, default 1,000,000): werkeffect ``CoxPH`` vs statsmodels ``PHReg`` with
  entry times (same size) vs lifelines ``CoxTimeVaryingFitter`` (run at 100,000 episodes only —
  it is far slower; its time at ``size`` is extrapolated linearly and marked as such).
  ``agrees``: largest coefficient difference to werkeffect below 1e-6.
* ``km``: Kaplan–Meier on ``10 * size`` durations vs a bare numpy sort-and-cumsum (the
  floor for any product-limit estimator).

Run: ``python benchmarks/bench_survival.py [size]`` or through ``benchmarks/run.py``.
"""

from __future__ import annotations

import gc
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

SUITE = "survival"
COVS = ["treated", "age", "female", "low_educ", "health", "language", "debts"]


def make_episodes(n_episodes: int, seed: int = 1) -> pd.DataFrame:
    """Spells split at programme start: about ``n_episodes`` start–stop rows (months)."""
    rng = np.random.default_rng(seed)
    n = int(n_episodes / 1.35)
    age = rng.normal(0, 1, n)  # standardised age
    female = rng.binomial(1, 0.5, n)
    low_educ = rng.binomial(1, 0.55, n)
    health = rng.binomial(1, 0.3, n)
    language = rng.binomial(1, 0.2, n)
    debts = rng.binomial(1, 0.25, n)
    lin = -0.2 * age + 0.1 * female - 0.3 * low_educ - 0.4 * health - 0.3 * language - 0.2 * debts
    base = 0.04 * np.exp(lin)
    prog = np.where(rng.random(n) < 0.5, rng.exponential(10, n), np.inf)
    e = rng.exponential(1.0, n)
    t0 = e / base
    with np.errstate(invalid="ignore"):
        t1 = prog + (e - base * prog) / (base * np.exp(0.3))
    t = np.where(t0 <= prog, t0, t1)
    cens = rng.uniform(1, 60, n)
    y = np.minimum(t, cens)
    ev = (t <= cens).astype(np.int8)
    split = prog < y
    n2 = int(split.sum())
    idx = np.concatenate((np.arange(n), np.flatnonzero(split)))
    start = np.concatenate((np.zeros(n), prog[split]))
    stop = np.concatenate((np.where(split, prog, y), y[split]))
    event = np.concatenate((np.where(split, 0, ev), ev[split])).astype(np.int8)
    treated = np.concatenate((np.zeros(n, np.int8), np.ones(n2, np.int8)))
    df = pd.DataFrame(
        {
            "person_id": idx,
            "start": start,
            "stop": stop,
            "event": event,
            "treated": treated,
            "age": age[idx],
            "female": female[idx],
            "low_educ": low_educ[idx],
            "health": health[idx],
            "language": language[idx],
            "debts": debts[idx],
        }
    )
    return df


def _timeit(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), out


def _peak_mb(fn: Callable[[], object]) -> float:
    gc.collect()
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def _row(task, tool, size, seconds, peak, agrees, note):
    return {
        "suite": SUITE,
        "task": task,
        "tool": tool,
        "size": int(size),
        "seconds": round(float(seconds), 3),
        "peak_mb": None if peak is None else round(float(peak), 1),
        "agrees": agrees,
        "note": note,
    }


def ours_cox(df: pd.DataFrame) -> np.ndarray:
    from werkeffect.survival import CoxPH

    res = CoxPH(
        df, duration="stop", event="event", entry="start", covariates=COVS, treatment_start=False
    ).fit()
    return res.params.to_numpy()


def statsmodels_cox(df: pd.DataFrame) -> np.ndarray:
    from statsmodels.duration.hazard_regression import PHReg

    m = PHReg(
        df["stop"].to_numpy(),
        df[COVS].to_numpy(float),
        status=df["event"].to_numpy(),
        entry=df["start"].to_numpy(),
        ties="efron",
    )
    return np.asarray(m.fit().params)


def lifelines_cox(df: pd.DataFrame) -> np.ndarray:
    import warnings

    from lifelines import CoxTimeVaryingFitter

    ctv = CoxTimeVaryingFitter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ctv.fit(
            df[["person_id", "start", "stop", "event", *COVS]],
            id_col="person_id",
            event_col="event",
            start_col="start",
            stop_col="stop",
        )
    return ctv.params_[COVS].to_numpy()


def ours_km(d: np.ndarray, e: np.ndarray) -> np.ndarray:
    from werkeffect.survival.nonparametric import _km_fast, _km_from_tables

    t, y, dd = _km_fast(d, e)
    return _km_from_tables(t, y, dd)[0]


def bare_numpy(d: np.ndarray, e: np.ndarray) -> np.ndarray:
    s = np.sort(d)
    return np.cumsum(s)


def run(size: int | None = None) -> list[dict]:
    size = int(size or 1_000_000)
    rows: list[dict] = []
    df = make_episodes(size)
    n = len(df)
    note_size = f"{n:,} episodes, {df['event'].sum():,} events, 7 covariates (1 time-varying)"

    t_ours, b_ours = _timeit(lambda: ours_cox(df), repeat=3)
    rows.append(_row("cox_tv", "werkeffect", n, t_ours, _peak_mb(lambda: ours_cox(df)), True,
                     note_size))  # fmt: skip

    t_sm, b_sm = _timeit(lambda: statsmodels_cox(df), repeat=1)
    diff_sm = float(np.max(np.abs(b_sm - b_ours)))
    note = f"max |coef diff| {diff_sm:.2e}; werkeffect {t_sm / t_ours:.1f}x faster"
    rows.append(_row("cox_tv", "statsmodels PHReg (entry)", n, t_sm, None, diff_sm < 1e-6, note))

    n_ll = min(n, 100_000)
    small = df.iloc[:n_ll] if n_ll == n else make_episodes(int(n_ll), seed=2)
    n_small = len(small)
    t_ours_s, b_ours_s = _timeit(lambda: ours_cox(small), repeat=3)
    rows.append(_row("cox_tv", "werkeffect", n_small, t_ours_s, None, True,
                     "same data as lifelines"))  # fmt: skip
    t_ll, b_ll = _timeit(lambda: lifelines_cox(small), repeat=1)
    diff_ll = float(np.max(np.abs(b_ll - b_ours_s)))
    rows.append(_row("cox_tv", "lifelines CoxTimeVaryingFitter", n_small, t_ll, None,
                     diff_ll < 1e-6,
                     f"max |coef diff| {diff_ll:.2e}; werkeffect {t_ll / t_ours_s:.0f}x faster at "
                     f"{n_small:,}; extrapolated to {n:,}: ~{t_ll * n / n_small:.0f} s "
                     f"(linear, not run) vs werkeffect {t_ours:.2f} s = "
                     f"{t_ll * n / n_small / t_ours:.0f}x"))  # fmt: skip

    n_km = 10 * size
    rng = np.random.default_rng(3)
    d = rng.exponential(12.0, n_km)
    e = rng.random(n_km) < 0.7
    t_km, _ = _timeit(lambda: ours_km(d, e), repeat=3)
    t_np, _ = _timeit(lambda: bare_numpy(d, e), repeat=3)
    rows.append(_row("km", "werkeffect", n_km, t_km, _peak_mb(lambda: ours_km(d, e)), True,
                     f"{t_km / t_np:.2f}x the bare numpy sort-and-cumsum"))  # fmt: skip
    rows.append(_row("km", "numpy sort+cumsum", n_km, t_np, None, None, "floor"))
    return rows


if __name__ == "__main__":
    arg = int(sys.argv[1]) if len(sys.argv) > 1 else None
    for r in run(arg):
        print(r)
