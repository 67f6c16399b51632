"""Small data-generating processes with known ATT(g,t), for tests and benchmarks."""

from __future__ import annotations

import numpy as np
import pandas as pd


def staggered_panel(
    n_units: int = 1000,
    n_periods: int = 6,
    *,
    seed: int = 0,
    first_cohort: int = 3,
    never_share: float = 0.3,
    effect: float = 1.0,
    dynamic: float = 0.5,
    covariate_trend: float = 0.0,
    noise: float = 1.0,
    dtype=np.float64,
) -> tuple[pd.DataFrame, dict[tuple[int, int], float]]:
    """A balanced staggered-adoption panel and its true ATT(g,t).

    ``y_it = a_i + l_t + covariate_trend * t * x_i + tau(g, t) + e_it`` with
    ``tau(g, t) = effect + dynamic * (t - g)`` for ``t >= g`` (0 before), periods 1..T,
    cohorts ``first_cohort..T`` and never treated (group 0). ``x`` differs by cohort, so
    with ``covariate_trend != 0`` parallel trends hold only conditional on ``x``.
    Returned sorted by unit then period (``unit, time, group, x, y``).
    """
    rng = np.random.default_rng(seed)
    cohorts = np.arange(first_cohort, n_periods + 1)
    probs = np.r_[never_share, np.full(len(cohorts), (1 - never_share) / len(cohorts))]
    g = rng.choice(np.r_[0, cohorts], size=n_units, p=probs)
    x = rng.normal(size=n_units) + 0.3 * (g > 0) + 0.05 * g
    a = rng.normal(size=n_units) + 0.5 * (g > 0)
    t = np.arange(1, n_periods + 1)
    lam = 0.2 * t
    tau = np.where(
        (g[:, None] > 0) & (t[None, :] >= g[:, None]),
        effect + dynamic * (t[None, :] - g[:, None]),
        0.0,
    )
    y = (
        a[:, None]
        + lam[None, :]
        + covariate_trend * t[None, :] * x[:, None]
        + tau
        + noise * rng.standard_normal((n_units, n_periods))
    )
    df = pd.DataFrame(
        {
            "unit": np.repeat(np.arange(n_units), n_periods),
            "time": np.tile(t, n_units),
            "group": np.repeat(g, n_periods),
            "x": np.repeat(x, n_periods),
            "y": y.astype(dtype).ravel(),
        }
    )
    truth = {
        (int(gg), int(tt)): (effect + dynamic * (tt - gg)) if tt >= gg else 0.0
        for gg in cohorts
        for tt in t[1:]
    }
    return df, truth
