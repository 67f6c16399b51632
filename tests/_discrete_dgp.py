"""Person-months with a known truth for the discrete-time hazard tests.

A continuous-time proportional hazards model whose hazard is constant within each month of
elapsed duration: in month m (0, 1, ...) a person at risk with ``z`` (fixed, 0/1) and ``d``
(a treatment that switches on at a random month and stays on) has hazard
``base_hazard(m) * exp(BETA_Z * z + GAMMA_D * d)`` per month, so the chance to exit in that
month is ``1 - exp(-base_hazard(m) * exp(eta))``: exactly the complementary log-log model
with a log baseline ``log base_hazard(m)`` per month and log hazard ratios BETA_Z and GAMMA_D.
``log base_hazard`` is linear in m, so a cubic B-spline baseline contains it exactly too.
Censoring: each person is observed for a uniform number of months (3 to ``months``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

BETA_Z = 0.5
GAMMA_D = -0.3


def base_hazard(m) -> np.ndarray:
    """Integrated baseline hazard over month ``m`` (the hazard per month, constant in it)."""
    return 0.3 * np.exp(-0.08 * np.asarray(m, dtype=float))


def _simulate(n: int, seed: int, months: int):
    rng = np.random.default_rng(seed)
    z = rng.binomial(1, 0.5, n)
    switch = rng.geometric(0.15, n)  # d = 1 from this month on (1, 2, ...)
    observed = rng.integers(3, months + 1, n)  # months 0 .. observed-1 are seen
    alive = np.ones(n, dtype=bool)
    for m in range(months):
        at = np.flatnonzero(alive & (m < observed))
        d = (m >= switch[at]).astype(int)
        p = 1.0 - np.exp(-base_hazard(m) * np.exp(BETA_Z * z[at] + GAMMA_D * d))
        y = (rng.random(at.size) < p).astype(int)
        alive[at[y == 1]] = False
        yield m, at, z[at], d, y


def person_months(n: int, seed: int, months: int = 12) -> pd.DataFrame:
    """One row per person-month at risk: ``id``, ``duration``, ``z``, ``d``, ``exit``."""
    parts = [
        pd.DataFrame({"id": at, "duration": m, "z": z, "d": d, "exit": y})
        for m, at, z, d, y in _simulate(n, seed, months)
    ]
    return pd.concat(parts, ignore_index=True).sort_values(["id", "duration"], ignore_index=True)


def person_month_cells(n: int, seed: int, months: int = 12) -> pd.DataFrame:
    """The same person-months counted by (``duration``, ``z``, ``d``, ``exit``) in ``count``
    (for frequency weights: the binomial likelihood of the cells is that of the rows)."""
    parts = []
    for m, _, z, d, y in _simulate(n, seed, months):
        cnt = np.bincount(4 * z + 2 * d + y, minlength=8)
        k = np.arange(8)
        parts.append(
            pd.DataFrame(
                {"duration": m, "z": k // 4, "d": (k // 2) % 2, "exit": k % 2, "count": cnt}
            )
        )
    out = pd.concat(parts, ignore_index=True)
    return out[out["count"] > 0].reset_index(drop=True)
