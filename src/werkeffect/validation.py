"""Monte Carlo validation of estimators against the simulator's known truth.

``monte_carlo(estimator, ...)`` simulates ``reps`` fresh worlds (in parallel with joblib),
runs ``estimator(dataset, seed)`` on each and compares the estimates with that replication's
true value (``Truth.values[estimand]``): bias, relative bias, RMSE and the coverage of the
estimator's intervals.
"""

from __future__ import annotations

import math
import traceback
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

Estimate = tuple[float, float, float]


def _one_rep(
    estimator: Callable[..., Any],
    scenario: str,
    scale: str | float,
    sim_seed: int,
    est_seed: int,
    estimand: str | None,
    sim_params: dict[str, Any],
    rep: int,
) -> list[dict[str, Any]]:
    from werkeffect.simulate import simulate

    dataset, truth = simulate(scenario=scenario, seed=sim_seed, scale=scale, **sim_params)
    try:
        out = estimator(dataset, est_seed)
        error = ""
    except Exception as exc:  # a failing replication is recorded, not fatal
        out, error = None, f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}"
    rows = []
    if out is None:
        keys = [estimand] if estimand else []
        for k in keys:
            rows.append(_row(rep, sim_seed, k, truth.values.get(k, math.nan), None, error))
        if not keys:
            rows.append(_row(rep, sim_seed, "<unknown>", math.nan, None, error))
        return rows
    if isinstance(out, Mapping):
        items = list(out.items())
    else:
        if estimand is None:
            raise ValueError(
                "the estimator returned one (estimate, lower, upper) tuple; pass estimand= "
                "to name the truth key it estimates (e.g. 'jobcoaching.hazard_ratio')"
            )
        items = [(estimand, out)]
    for key, val in items:
        if key not in truth.values:
            raise KeyError(
                f"estimand {key!r} is not a key of Truth.values; known keys include "
                f"{sorted(truth.values)[:8]} ..."
            )
        rows.append(_row(rep, sim_seed, key, truth.values[key], val, ""))
    return rows


def _row(rep, sim_seed, key, truth, val, error) -> dict[str, Any]:
    if val is None:
        est = lo = hi = math.nan
    else:
        if len(val) != 3:
            raise ValueError(f"estimator must return (estimate, lower, upper), got {val!r}")
        est, lo, hi = (float(v) if v is not None else math.nan for v in val)
    return {
        "rep": rep,
        "sim_seed": sim_seed,
        "estimand": key,
        "truth": float(truth),
        "estimate": est,
        "lower": lo,
        "upper": hi,
        "error": error,
    }


def monte_carlo(
    estimator: Callable[..., Any],
    scenario: str = "groningen-observables",
    reps: int = 100,
    n_jobs: int = 2,
    seed: int = 0,
    estimand: str | None = None,
    scale: str | float = "groningen",
    level: float = 0.95,
    progress: bool = False,
    scheduler: Any = None,
    **sim_params: Any,
) -> pd.DataFrame:
    """Run ``estimator`` on ``reps`` simulated datasets and summarise against the truth.

    Parameters
    ----------
    estimator
        ``estimator(dataset, seed)`` returning ``(estimate, lower, upper)`` for ``estimand``,
        or a mapping ``{estimand_key: (estimate, lower, upper)}``. Keys are those of
        ``Truth.values`` (e.g. ``"jobcoaching.hazard_ratio"``). Use a module-level function
        (or anything cloudpickle can ship) when ``n_jobs > 1``.
    scenario, scale, **sim_params
        Passed to :func:`werkeffect.simulate.simulate` (``scale=0.25`` gives a quarter-size
        world for fast runs).
    reps, n_jobs, seed
        Number of replications, joblib workers, master seed (replication ``r`` uses
        simulation seed and estimator seed spawned from ``SeedSequence(seed)``).
    estimand
        Truth key for a tuple-returning estimator.
    level
        Nominal level of the intervals (reported; coverage is computed from the intervals).
    progress
        Show joblib's progress messages.
    scheduler
        A Dask scheduler address (or ``distributed.Client``): run the replications on that
        cluster through joblib's dask backend (:func:`werkeffect.parallel.compute_backend`).

    Returns
    -------
    DataFrame
        Indexed by estimand with ``reps`` (successful), ``failures``, ``truth`` (mean of the
        per-replication truths), ``mean_estimate``, ``bias`` (mean of estimate − truth),
        ``relative_bias`` (bias / mean truth), ``rmse``, ``coverage`` (share of intervals that
        contain that replication's truth), ``mean_ci_width``, ``mc_se_bias`` (Monte Carlo
        standard error of the bias) and ``level``. The per-replication rows are in
        ``result.attrs["replications"]``.
    """
    from joblib import Parallel, delayed

    if reps < 1:
        raise ValueError(f"reps must be at least 1, got {reps}")
    children = np.random.SeedSequence(seed).spawn(reps)
    seeds = [c.generate_state(2, dtype=np.uint32) for c in children]
    jobs = (
        delayed(_one_rep)(estimator, scenario, scale, int(s[0]), int(s[1]), estimand, sim_params, r)
        for r, s in enumerate(seeds)
    )
    if n_jobs == 1 and scheduler is None:
        results = [fn(*args, **kw) for fn, args, kw in jobs]
    else:
        from werkeffect.parallel import compute_backend

        with compute_backend(scheduler):
            results = Parallel(n_jobs=n_jobs, verbose=10 if progress else 0)(jobs)
    reps_df = pd.DataFrame([row for rows in results for row in rows])
    failed = reps_df["error"] != ""
    if failed.any():
        first = reps_df.loc[failed, "error"].iloc[0].splitlines()[0]
        warnings.warn(
            f"{int(failed.sum())} of {len(reps_df)} replications failed; first error: {first}",
            RuntimeWarning,
            stacklevel=2,
        )
    summary = []
    for key, g in reps_df.groupby("estimand", sort=True):
        ok = g[(g["error"] == "") & np.isfinite(g["estimate"])]
        err = ok["estimate"] - ok["truth"]
        n = len(ok)
        mean_truth = float(ok["truth"].mean()) if n else math.nan
        bias = float(err.mean()) if n else math.nan
        has_ci = np.isfinite(ok["lower"]) & np.isfinite(ok["upper"])
        cover = (ok["lower"] <= ok["truth"]) & (ok["truth"] <= ok["upper"])
        summary.append(
            {
                "estimand": key,
                "reps": n,
                "failures": int(len(g) - n),
                "truth": mean_truth,
                "mean_estimate": float(ok["estimate"].mean()) if n else math.nan,
                "bias": bias,
                "relative_bias": bias / mean_truth if n and mean_truth != 0 else math.nan,
                "rmse": float(np.sqrt(np.mean(err**2))) if n else math.nan,
                "coverage": float(cover[has_ci].mean()) if has_ci.any() else math.nan,
                "mean_ci_width": float((ok["upper"] - ok["lower"])[has_ci].mean())
                if has_ci.any()
                else math.nan,
                "mc_se_bias": float(err.std(ddof=1) / np.sqrt(n)) if n > 1 else math.nan,
                "level": level,
            }
        )
    out = pd.DataFrame(summary).set_index("estimand")
    out.attrs["replications"] = reps_df
    return out
