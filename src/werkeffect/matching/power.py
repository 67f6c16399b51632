"""Power and minimum detectable effect by simulation, for small groups (the pilot)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["power", "minimum_detectable_effect", "analytic_mde"]


def _pvalues(yt: np.ndarray, yc: np.ndarray, design: str, outcome: str, test: str) -> np.ndarray:
    """Two-sided p-values per simulated data set (rows)."""
    if design == "matched_pairs":
        diff = yt - yc
        if outcome == "binary":
            # exact McNemar: discordant pairs ~ Binomial(n_disc, 1/2) under the null
            up = (diff > 0).sum(axis=1)
            n_disc = (diff != 0).sum(axis=1)
            lo = np.minimum(up, n_disc - up)
            p = np.minimum(1.0, 2 * stats.binom.cdf(lo, n_disc, 0.5))
            return np.where(n_disc == 0, 1.0, p)
        res = stats.ttest_1samp(diff, 0.0, axis=1)
        return np.nan_to_num(res.pvalue, nan=1.0)
    if outcome == "binary" and test == "fisher":
        n1, n0 = yt.shape[1], yc.shape[1]
        x1 = yt.sum(axis=1).astype(int)
        m = x1 + yc.sum(axis=1).astype(int)  # total successes
        N = n1 + n0
        support = np.arange(0, n1 + 1)
        pmf = stats.hypergeom.pmf(support[None, :], N, m[:, None], n1)
        p_obs = stats.hypergeom.pmf(x1, N, m, n1)
        return np.minimum(1.0, (pmf * (pmf <= p_obs[:, None] * (1 + 1e-7))).sum(axis=1))
    res = stats.ttest_ind(yt, yc, axis=1, equal_var=False)
    return np.nan_to_num(res.pvalue, nan=1.0)


def _simulate(
    effect: float,
    n_treated: int,
    n_control: int,
    design: str,
    outcome: str,
    baseline: float,
    sd: float,
    pair_correlation: float,
    n_sim: int,
    seed: int | None,
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    if design == "matched_pairs":
        z0 = rng.standard_normal((n_sim, n_treated))
        e = rng.standard_normal((n_sim, n_treated))
        z1 = pair_correlation * z0 + np.sqrt(1 - pair_correlation**2) * e
        if outcome == "binary":
            q0 = stats.norm.ppf(baseline)
            q1 = stats.norm.ppf(np.clip(baseline + effect, 1e-12, 1 - 1e-12))
            return (z1 < q1).astype(float), (z0 < q0).astype(float)
        return effect + sd * z1, sd * z0
    if outcome == "binary":
        u1 = rng.random((n_sim, n_treated))
        u0 = rng.random((n_sim, n_control))
        return (u1 < baseline + effect).astype(float), (u0 < baseline).astype(float)
    return (
        effect + sd * rng.standard_normal((n_sim, n_treated)),
        sd * rng.standard_normal((n_sim, n_control)),
    )


def power(
    effect: float,
    n_treated: int,
    n_control: int | None = None,
    design: str = "two_groups",
    outcome: str = "binary",
    baseline: float = 0.3,
    sd: float = 1.0,
    pair_correlation: float = 0.0,
    alpha: float = 0.05,
    test: str = "auto",
    n_sim: int = 4000,
    seed: int | None = 0,
) -> pd.Series:
    """Power of a two-sided test at level ``alpha`` by simulation.

    Designs: ``"two_groups"`` (``n_treated`` vs ``n_control``, default equal) — binary
    outcomes tested with Fisher's exact test (the randomisation test for a 2x2 table),
    continuous with Welch's t-test; ``"matched_pairs"`` (``n_treated`` pairs) — binary with
    the exact McNemar test, continuous with the paired t-test; ``pair_correlation`` is the
    correlation of the (latent) outcomes within a pair, i.e. how much matching explains.
    ``baseline`` is the outcome probability without treatment (binary), ``sd`` the outcome
    standard deviation (continuous); ``effect`` is a risk difference or a mean difference.
    Returns power and its Monte Carlo standard error.
    """
    if design not in ("two_groups", "matched_pairs"):
        raise ValueError("design must be 'two_groups' or 'matched_pairs'")
    if outcome not in ("binary", "continuous"):
        raise ValueError("outcome must be 'binary' or 'continuous'")
    if outcome == "binary" and not 0 <= baseline + effect <= 1:
        raise ValueError("baseline + effect must be a probability")
    n_control = n_treated if n_control is None else n_control
    if test == "auto":
        test = "fisher" if outcome == "binary" else "t"
    yt, yc = _simulate(
        effect, n_treated, n_control, design, outcome, baseline, sd, pair_correlation, n_sim, seed
    )
    p = _pvalues(yt, yc, design, outcome, test)
    pw = float(np.mean(p <= alpha))
    return pd.Series(
        {"power": pw, "mc_se": float(np.sqrt(pw * (1 - pw) / n_sim)), "n_sim": n_sim},
        name="power",
    )


def minimum_detectable_effect(
    n_treated: int,
    n_control: int | None = None,
    target_power: float = 0.8,
    design: str = "two_groups",
    outcome: str = "binary",
    baseline: float = 0.3,
    sd: float = 1.0,
    pair_correlation: float = 0.0,
    alpha: float = 0.05,
    test: str = "auto",
    n_sim: int = 4000,
    seed: int | None = 0,
    tol: float = 1e-3,
) -> pd.Series:
    """Smallest positive effect with at least ``target_power`` (bisection on simulated power;
    the same random numbers at every effect size, so power is monotone in the effect).

    Returns the MDE (risk difference or mean difference) and the power reached there; the
    MDE is NaN when even the largest possible effect does not reach the target.
    """
    hi = (1 - baseline) if outcome == "binary" else 10 * sd

    def pw(e: float) -> float:
        return float(
            power(
                e,
                n_treated,
                n_control,
                design,
                outcome,
                baseline,
                sd,
                pair_correlation,
                alpha,
                test,
                n_sim,
                seed,
            )["power"]
        )

    if pw(hi) < target_power:
        return pd.Series({"mde": np.nan, "power": pw(hi)}, name="mde")
    lo = 0.0
    while hi - lo > tol:
        mid = (lo + hi) / 2
        if pw(mid) >= target_power:
            hi = mid
        else:
            lo = mid
    return pd.Series({"mde": hi, "power": pw(hi)}, name="mde")


def analytic_mde(
    n_treated: int,
    n_control: int | None = None,
    sd: float = 1.0,
    alpha: float = 0.05,
    target_power: float = 0.8,
) -> float:
    """Normal-approximation MDE for a difference in means: (z_{1-a/2} + z_power) sd
    sqrt(1/n1 + 1/n0). A cross-check for :func:`minimum_detectable_effect`."""
    n_control = n_treated if n_control is None else n_control
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(target_power)
    return float(z * sd * np.sqrt(1 / n_treated + 1 / n_control))
