"""Contrasts a council can read: differences in cumulative incidence and in RMST.

* ``cif_difference``: difference (treated minus comparison) in the probability of having left
  benefit for work within 6/12/24 months (Aalen–Johansen, competing exits handled).
* ``rmst_difference``: difference in restricted mean time on benefit within a horizon
  (area under the Kaplan–Meier curve up to the horizon).

Both come crude or adjusted for baseline covariates by inverse probability weighting (IPW,
logistic propensity score; ``estimand="ATE"`` or ``"ATT"``). Crude intervals are analytic
(cuminc variance / Greenwood-type RMST variance); IPW intervals come from a nonparametric
bootstrap that re-estimates the propensity score in every replicate.

These are *static* comparisons of groups defined at the start of the row (e.g. at spell
start or at a landmark). For a programme that starts during the spell, define the groups at
a landmark or use ``werkeffect.dynamic``; the immortal-time guard refuses a group that is
switched on before its start time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from werkeffect.exceptions import EstimationError
from werkeffect.results.base import EstimationResult
from werkeffect.survival._checks import (
    cause_column,
    check_immortal_time,
    event_column,
    numeric_column,
    require_columns,
    time_columns,
)
from werkeffect.survival.nonparametric import (
    _aalen_johansen,
    _event_tables,
    _km_from_tables,
    _step_at,
)


@dataclass(frozen=True, eq=False)
class ContrastResult(EstimationResult):
    """Differences between two groups; ``by_group`` holds each group's own estimate."""

    @property
    def by_group(self) -> pd.DataFrame:
        return self.extra["by_group"]


def _two_groups(df: pd.DataFrame, group: str, treated_value, what: str):
    vals = [v.item() if isinstance(v, np.generic) else v for v in pd.unique(df[group].dropna())]
    if len(vals) != 2:
        raise EstimationError(
            f"{what}: group column {group!r} must have exactly two values, found {list(vals)[:6]}"
        )
    if treated_value is None:
        vals = sorted(vals)
        treated_value = vals[1]
    if treated_value not in set(vals):
        raise EstimationError(f"{what}: treated_value {treated_value!r} not in {group!r}")
    control_value = [v for v in vals if v != treated_value][0]
    z = (df[group] == treated_value).to_numpy()
    return z, treated_value, control_value


def _propensity_weights(
    df: pd.DataFrame, z: np.ndarray, covariates: Sequence[str], estimand: str, what: str
) -> np.ndarray:
    import statsmodels.api as sm

    X = np.column_stack([np.ones(len(df))] + [numeric_column(df, c, what) for c in covariates])
    try:
        fit = sm.GLM(z.astype(float), X, family=sm.families.Binomial()).fit()
    except Exception as exc:  # perfect separation and friends
        raise EstimationError(f"{what}: propensity model failed: {exc}") from exc
    ps = np.clip(fit.predict(X), 1e-12, 1 - 1e-12)
    if ps[z].min() > 1 - 1e-6 or ps[~z].max() < 1e-6 or np.any((ps < 1e-8) | (ps > 1 - 1e-8)):
        raise EstimationError(
            f"{what}: propensity scores at 0 or 1 — no overlap between the groups on "
            f"{list(covariates)}; IPW cannot compare them. Restrict to the common support."
        )
    if estimand == "ATE":
        return np.where(z, 1 / ps, 1 / (1 - ps))
    if estimand == "ATT":
        return np.where(z, 1.0, ps / (1 - ps))
    raise ValueError("estimand must be 'ATE' or 'ATT'")


def _check_followup(t, Y_at, S_end, lab, horizon, what):
    if Y_at <= 0 and S_end > 0:
        raise EstimationError(
            f"{what}: no one in group {lab!r} is at risk at {horizon:g} months (follow-up ends "
            f"at {t.max() if t.size else 0:g}); the curve is not identified there — choose a "
            "shorter horizon"
        )


def _cif_points(stop, cause, entry, w, k, times, lab, what):
    K = max(int(cause.max()), k)
    t, Y, D = _event_tables(stop, cause, entry, w, K)
    if t.size == 0:
        return np.zeros(len(times)), np.zeros(len(times))
    F, V, S = _aalen_johansen(t, Y, D)
    at = np.asarray(times, float)
    from werkeffect.survival.nonparametric import _at_risk

    Yat = _at_risk(stop, entry, w, at)
    for h, y in zip(at, Yat, strict=True):
        _check_followup(t, y, S[-1], lab, h, what)
    return _step_at(t, F[:, k - 1], at, 0.0), _step_at(t, V[:, k - 1], at, 0.0)


def _rmst(stop, event, entry, w, horizon, lab, what):
    t, Y, D = _event_tables(stop, event.astype(np.int64), entry, w, 1)
    d = D[:, 0]
    S, _ = _km_from_tables(t, Y, d)
    from werkeffect.survival.nonparametric import _at_risk

    _check_followup(
        t,
        float(_at_risk(stop, entry, w, np.array([horizon]))[0]),
        S[-1] if S.size else 1.0,
        lab,
        horizon,
        what,
    )
    keep = t <= horizon
    tk, Sk, Yk, dk = t[keep], S[keep], Y[keep], d[keep]
    grid = np.concatenate(([0.0], tk, [horizon]))
    vals = np.concatenate(([1.0], Sk))
    areas = np.diff(grid) * vals
    rmst = float(areas.sum())
    # A_j = integral from t_j to horizon of S: suffix sums of the areas after t_j
    A = np.cumsum(areas[::-1])[::-1][1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(Yk > dk, A**2 * dk / (Yk * (Yk - dk)), 0.0)
    return rmst, float(term.sum())


def _finish(est, se_or_boot, names, by_group, method, estimand, n, level, notes, boot):
    params = pd.Series(est, index=names)
    if boot is None:
        return ContrastResult(
            params=params,
            std_errors=pd.Series(se_or_boot, index=names),
            method=method,
            estimand=estimand,
            n=n,
            notes=tuple(notes),
            extra={"by_group": by_group},
        )
    se = boot.std(axis=0, ddof=1)
    a = (1 - level) / 2
    lo, up = np.quantile(boot, a, axis=0), np.quantile(boot, 1 - a, axis=0)
    return ContrastResult(
        params=params,
        std_errors=pd.Series(se, index=names),
        method=method,
        estimand=estimand,
        n=n,
        notes=tuple(notes),
        intervals=pd.DataFrame({"lower": lo, "upper": up}, index=names),
        interval_level=level,
        extra={"by_group": by_group, "bootstrap": boot},
    )


def cif_difference(
    df: pd.DataFrame,
    duration: str,
    cause: str,
    group: str,
    cause_of_interest: int = 1,
    times: Sequence[float] = (6, 12, 24),
    entry: str | None = None,
    covariates: Sequence[str] | None = None,
    estimand: str = "ATE",
    treated_value=None,
    n_boot: int = 200,
    seed: int = 0,
    level: float = 0.95,
    treatment_start: str | None | bool = None,
) -> ContrastResult:
    """Difference in cumulative incidence of exit ``cause_of_interest`` by each time.

    ``params`` are indexed ``"CIF(t)"``: treated minus comparison, in probability points.
    Crude (``covariates=None``) or IPW-adjusted (``covariates=[...]``).
    """
    what = "cif_difference"
    require_columns(df, [duration, cause, group, entry, *(covariates or [])], what)
    stop, start = time_columns(df, duration, entry, what)
    cz = cause_column(df, cause, what)
    check_immortal_time(df, [group], treatment_start, start, what)
    z, tv, cv = _two_groups(df, group, treated_value, what)
    if not (cz == cause_of_interest).any():
        raise EstimationError(f"{what}: no exits of cause {cause_of_interest}")
    names = [f"CIF({t:g})" for t in times]

    def estimate(idx, w):
        out = []
        for m, lab in ((z[idx], tv), (~z[idx], cv)):
            sel = idx[m]
            f, v = _cif_points(
                stop[sel],
                cz[sel],
                None if start is None else start[sel],
                None if w is None else w[m],
                cause_of_interest,
                times,
                lab,
                what,
            )
            out.append((f, v))
        return out

    idx = np.arange(len(df))
    n = {
        "n_treated": int(z.sum()),
        "n_control": int((~z).sum()),
        "n_events": int((cz == cause_of_interest).sum()),
    }
    label = f"exit type {cause_of_interest}"
    if not covariates:
        (f1, v1), (f0, v0) = estimate(idx, None)
        by = pd.DataFrame({"time": list(times), f"CIF[{tv}]": f1, f"CIF[{cv}]": f0})
        return _finish(
            f1 - f0,
            np.sqrt(v1 + v0),
            names,
            by,
            "Aalen–Johansen difference (crude)",
            f"difference in cumulative incidence of {label} ({tv} minus {cv})",
            n,
            level,
            ["Analytic (cuminc) variance, groups independent."],
            None,
        )
    w = _propensity_weights(df, z, covariates, estimand, what)
    (f1, _), (f0, _) = estimate(idx, w)
    rng = np.random.default_rng(seed)
    boot = np.empty((n_boot, len(times)))
    sub = df[list(covariates)]
    for b in range(n_boot):
        bi = rng.integers(0, len(df), len(df))
        wb = _propensity_weights(sub.iloc[bi], z[bi], covariates, estimand, what)
        (g1, _), (g0, _) = estimate(bi, wb)
        boot[b] = g1 - g0
    by = pd.DataFrame({"time": list(times), f"CIF[{tv}]": f1, f"CIF[{cv}]": f0})
    return _finish(
        f1 - f0,
        None,
        names,
        by,
        f"Aalen–Johansen difference (IPW, {estimand})",
        f"difference in cumulative incidence of {label} ({tv} minus {cv}), "
        f"adjusted for {list(covariates)}",
        n,
        level,
        [
            f"Percentile bootstrap ({n_boot} replicates, seed {seed}), propensity "
            "re-estimated in each replicate."
        ],
        boot,
    )


def rmst_difference(
    df: pd.DataFrame,
    duration: str,
    event: str,
    group: str,
    horizon: float = 12.0,
    entry: str | None = None,
    covariates: Sequence[str] | None = None,
    estimand: str = "ATE",
    treated_value=None,
    n_boot: int = 200,
    seed: int = 0,
    level: float = 0.95,
    treatment_start: str | None | bool = None,
) -> ContrastResult:
    """Difference in restricted mean time on benefit within ``horizon`` months.

    RMST(τ) = ∫_0^τ S(t) dt: the average number of months, of the first τ, spent on benefit.
    ``params["RMST"]`` is treated minus comparison in months (negative: shorter on benefit).
    """
    what = "rmst_difference"
    require_columns(df, [duration, event, group, entry, *(covariates or [])], what)
    stop, start = time_columns(df, duration, entry, what)
    ev = event_column(df, event, what)
    check_immortal_time(df, [group], treatment_start, start, what)
    z, tv, cv = _two_groups(df, group, treated_value, what)
    if not ev.any():
        raise EstimationError(f"{what}: no events")

    def estimate(idx, w):
        res = []
        for m, lab in ((z[idx], tv), (~z[idx], cv)):
            sel = idx[m]
            res.append(
                _rmst(
                    stop[sel],
                    ev[sel],
                    None if start is None else start[sel],
                    None if w is None else w[m],
                    horizon,
                    lab,
                    what,
                )
            )
        return res

    idx = np.arange(len(df))
    n = {"n_treated": int(z.sum()), "n_control": int((~z).sum()), "n_events": int(ev.sum())}
    names = [f"RMST({horizon:g})"]
    if not covariates:
        (r1, v1), (r0, v0) = estimate(idx, None)
        by = pd.DataFrame({"group": [tv, cv], "rmst": [r1, r0], "std_error": np.sqrt([v1, v0])})
        return _finish(
            [r1 - r0],
            [np.sqrt(v1 + v0)],
            names,
            by,
            "RMST difference (crude, Kaplan–Meier)",
            f"difference in restricted mean months on benefit within {horizon:g} "
            f"months ({tv} minus {cv})",
            n,
            level,
            ["Greenwood-type variance as R print.survfit(rmean=)."],
            None,
        )
    w = _propensity_weights(df, z, covariates, estimand, what)
    (r1, _), (r0, _) = estimate(idx, w)
    rng = np.random.default_rng(seed)
    boot = np.empty((n_boot, 1))
    sub = df[list(covariates)]
    for b in range(n_boot):
        bi = rng.integers(0, len(df), len(df))
        wb = _propensity_weights(sub.iloc[bi], z[bi], covariates, estimand, what)
        (g1, _), (g0, _) = estimate(bi, wb)
        boot[b, 0] = g1 - g0
    by = pd.DataFrame({"group": [tv, cv], "rmst": [r1, r0]})
    return _finish(
        [r1 - r0],
        None,
        names,
        by,
        f"RMST difference (IPW, {estimand})",
        f"difference in restricted mean months on benefit within {horizon:g} months "
        f"({tv} minus {cv}), adjusted for {list(covariates)}",
        n,
        level,
        [f"Percentile bootstrap ({n_boot} replicates, seed {seed})."],
        boot,
    )
