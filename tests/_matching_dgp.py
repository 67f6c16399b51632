"""Data-generating processes with known effects for the matching tests."""

from __future__ import annotations

import numpy as np
import pandas as pd


def confounded(
    n: int, seed: int, effect: float = 1.0, heterogeneous: bool = True, intercept: float = -1.2
) -> tuple[pd.DataFrame, float]:
    """Selection on observables. Y = 1 + X1 + 0.5 X2 - 0.5 X3 + tau(X) D + e,
    tau(X) = effect + 0.5 X1 (heterogeneous) or effect; logit P(D=1) = intercept + 0.8 X1
    - 0.5 X2 + 0.3 X3. Returns the data and the population ATT."""
    rng = np.random.default_rng(seed)
    x1 = rng.standard_normal(n)
    x2 = (rng.random(n) < 0.4).astype(float)
    x3 = rng.standard_normal(n)
    lin = intercept + 0.8 * x1 - 0.5 * x2 + 0.3 * x3
    d = (rng.random(n) < 1 / (1 + np.exp(-lin))).astype(int)
    tau = effect + (0.5 * x1 if heterogeneous else 0.0)
    y = 1 + x1 + 0.5 * x2 - 0.5 * x3 + tau * d + rng.standard_normal(n)
    df = pd.DataFrame({"d": d, "x1": x1, "x2": x2, "x3": x3, "y": y})
    return df, population_att(effect, heterogeneous, intercept)


def population_att(effect: float, heterogeneous: bool, intercept: float) -> float:
    """E[tau(X) | D=1] by numerical integration over X1 (X2, X3 integrated exactly)."""
    if not heterogeneous:
        return effect
    # E[X1 | D=1] = E[X1 p(X)] / E[p(X)] with a fixed quadrature (Gauss-Hermite) grid
    z, wz = np.polynomial.hermite_e.hermegauss(60)
    wz = wz / wz.sum()
    num = den = 0.0
    for x2, p2 in ((0.0, 0.6), (1.0, 0.4)):
        lin = intercept + 0.8 * z[:, None] - 0.5 * x2 + 0.3 * z[None, :]
        p = 1 / (1 + np.exp(-lin))
        w = p2 * wz[:, None] * wz[None, :]
        num += np.sum(w * p * z[:, None])
        den += np.sum(w * p)
    return effect + 0.5 * num / den
