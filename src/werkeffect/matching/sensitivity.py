"""Sensitivity to unmeasured confounding: Rosenbaum bounds and E-values."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["rosenbaum_bounds", "evalue"]


def _pairs_from(
    data,
    treated: str | None,
    control: str | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Treated and control outcomes of matched pairs from a matching effect result, a
    DataFrame with columns (``treated``, ``control``) or a 2-tuple of arrays."""
    from werkeffect.matching.effects import MatchingEffectResult

    if isinstance(data, MatchingEffectResult):
        pairs = data.extra["pairs"]
        return pairs["y_treated"].to_numpy(float), pairs["y_control"].to_numpy(float)
    if isinstance(data, pd.DataFrame):
        treated = treated or "y_treated"
        control = control or "y_control"
        return data[treated].to_numpy(float), data[control].to_numpy(float)
    yt, yc = data
    return np.asarray(yt, dtype=float), np.asarray(yc, dtype=float)


def rosenbaum_bounds(
    data,
    gamma: Sequence[float] | None = None,
    outcome_type: str = "auto",
    alpha: float = 0.05,
    treated: str | None = None,
    control: str | None = None,
) -> pd.DataFrame:
    """Rosenbaum (2002) sensitivity bounds for matched pairs.

    ``data``: the result of ``MatchResult.att(outcome)`` (its matched-pair outcomes; with
    k:1 matching the control outcome is the mean of the matched controls), a DataFrame with
    treated/control outcome columns, or a tuple ``(y_treated, y_control)``.

    For each Gamma (the factor by which an unobserved confounder may change the odds of
    treatment within a pair) the one-sided p-value for "no effect" against "positive
    effect" is bounded: ``p_upper`` (worst case) and ``p_lower`` (best case).

    * continuous outcomes: Wilcoxon signed-rank test on the pair differences (zero
      differences dropped, tied absolute differences get average ranks), normal
      approximation with E = p+ sum r, V = p+(1-p+) sum r^2, p+ = Gamma/(1+Gamma);
    * binary outcomes: McNemar's test on discordant pairs, exact binomial with
      probability Gamma/(1+Gamma) (upper) and 1/(1+Gamma) (lower).

    For a negative observed effect the test is of "no effect" against "negative effect"
    (differences are negated). ``gamma_critical`` in the result's attrs is the smallest
    Gamma in the grid at which the upper p-value exceeds ``alpha``: the strength of hidden
    bias at which the conclusion would change (NaN if never, or if not significant at 1).
    """
    yt, yc = _pairs_from(data, treated, control)
    diff = yt - yc
    if outcome_type == "auto":
        both = np.concatenate([yt, yc])
        outcome_type = "binary" if np.all(np.isin(both, (0.0, 1.0))) else "continuous"
    if gamma is None:
        gamma = [1, 1.1, 1.2, 1.3, 1.4, 1.5, 1.75, 2, 2.5, 3, 4, 5, 6, 8, 10]
    gamma = np.asarray(list(gamma), dtype=float)
    if np.any(gamma < 1):
        raise ValueError("gamma values must be >= 1")
    sign = 1.0 if np.sum(diff) >= 0 else -1.0
    diff = diff * sign
    rows = []
    if outcome_type == "binary":
        t = int(np.sum(diff > 0))  # discordant pairs favouring the observed direction
        n_disc = int(np.sum(diff != 0))
        for g in gamma:
            pp = g / (1 + g)
            pm = 1 / (1 + g)
            rows.append(
                {
                    "gamma": g,
                    "p_upper": float(stats.binom.sf(t - 1, n_disc, pp)) if n_disc else 1.0,
                    "p_lower": float(stats.binom.sf(t - 1, n_disc, pm)) if n_disc else 1.0,
                    "statistic": t,
                    "n_informative": n_disc,
                }
            )
        test = "McNemar (exact binomial on discordant pairs)"
    elif outcome_type == "continuous":
        nz = diff[diff != 0]
        r = stats.rankdata(np.abs(nz))
        t = float(r[nz > 0].sum())
        for g in gamma:
            pp = g / (1 + g)
            pm = 1 / (1 + g)
            e_up, v_up = pp * r.sum(), pp * (1 - pp) * np.sum(r**2)
            e_lo, v_lo = pm * r.sum(), pm * (1 - pm) * np.sum(r**2)
            rows.append(
                {
                    "gamma": g,
                    "p_upper": float(stats.norm.sf((t - e_up) / np.sqrt(v_up))) if len(r) else 1.0,
                    "p_lower": float(stats.norm.sf((t - e_lo) / np.sqrt(v_lo))) if len(r) else 1.0,
                    "statistic": t,
                    "n_informative": len(r),
                }
            )
        test = "Wilcoxon signed-rank (normal approximation)"
    else:
        raise ValueError("outcome_type must be 'auto', 'continuous' or 'binary'")
    out = pd.DataFrame(rows).set_index("gamma")
    crit = out.index[out["p_upper"] > alpha]
    sig_at_1 = out["p_upper"].iloc[0] <= alpha if out.index[0] == 1 else True
    out.attrs["gamma_critical"] = float(crit[0]) if (len(crit) and sig_at_1) else np.nan
    out.attrs["test"] = test
    out.attrs["alpha"] = alpha
    out.attrs["direction"] = "positive" if sign > 0 else "negative"
    out.attrs["n_pairs"] = len(diff)
    return out


def evalue(
    estimate: float,
    lower: float | None = None,
    upper: float | None = None,
    scale: str = "RR",
    baseline_risk: float | None = None,
    sd: float | None = None,
    rare: bool = True,
) -> pd.Series:
    """E-value of VanderWeele & Ding (2017, Annals of Internal Medicine 167(4)).

    The minimum strength of association (risk-ratio scale) that an unmeasured confounder
    would need with both treatment and outcome, beyond the measured covariates, to fully
    explain away the estimate (``point``) or to move the confidence limit closest to the
    null to the null (``ci``; 1 if the interval already contains the null).

    ``scale``: ``"RR"`` (risk ratio); ``"OR"`` (converted with the square root when the
    outcome is common, ``rare=False``); ``"HR"`` (for a common outcome converted as
    VanderWeele 2020, Biometrics 76(3): RR = (1 - 0.5^sqrt(HR)) / (1 - 0.5^sqrt(1/HR)), as
    R's EValue package does); ``"RD"``  (risk difference, needs
    ``baseline_risk`` = risk without treatment; RR = (p0 + RD) / p0); ``"SMD"`` or
    ``"difference"`` (standardised mean difference d, or a raw difference divided by ``sd``;
    RR ≈ exp(0.91 d)).
    """

    def to_rr(x: float | None) -> float | None:
        if x is None:
            return None
        if scale == "RR":
            return x
        if scale == "OR":
            return x if rare else float(np.sqrt(x))
        if scale == "HR":
            if rare:
                return x
            return float((1 - 0.5 ** np.sqrt(x)) / (1 - 0.5 ** np.sqrt(1 / x)))
        if scale == "RD":
            if baseline_risk is None or not 0 < baseline_risk < 1:
                raise ValueError("scale='RD' needs baseline_risk in (0, 1)")
            rr = (baseline_risk + x) / baseline_risk
            if rr <= 0:
                raise ValueError("baseline_risk + RD must be positive")
            return rr
        if scale in ("SMD", "difference"):
            d = x if scale == "SMD" else x / sd if sd else None
            if d is None:
                raise ValueError("scale='difference' needs sd")
            return float(np.exp(0.91 * d))
        raise ValueError("scale must be RR, OR, HR, RD, SMD or difference")

    def e(rr: float) -> float:
        if rr < 1:
            rr = 1 / rr
        return float(rr + np.sqrt(rr * (rr - 1)))

    rr = to_rr(estimate)
    lo, hi = to_rr(lower), to_rr(upper)
    point = e(rr)
    ci = np.nan
    if lo is not None or hi is not None:
        if rr >= 1:
            ci = 1.0 if lo is None or lo <= 1 else e(lo)
        else:
            ci = 1.0 if hi is None or hi >= 1 else e(hi)
    return pd.Series({"rr": rr, "point": point, "ci": ci}, name="evalue")
