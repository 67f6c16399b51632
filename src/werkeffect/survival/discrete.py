"""Discrete-time hazard models on the person-month panel (logit / complementary log-log).

The econometrician's default for monthly data: each row is a month at risk, the outcome is 1
in the month the spell ends (by the exit of interest). The baseline hazard is a free
parameter per month of elapsed duration (``baseline="dummies"``) or a B-spline in duration
(``baseline="spline"``). With the cloglog link the coefficients are log hazard ratios of the
underlying continuous-time proportional hazards model with interval-censored exits; with the
logit link they are log odds ratios of the monthly exit probability.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from werkeffect._inputs import check_clusters, cluster_codes
from werkeffect.exceptions import EstimationError, EstimationWarning
from werkeffect.results.base import EstimationResult
from werkeffect.survival._checks import numeric_column, require_columns


def _bspline_basis(x: np.ndarray, df: int, degree: int = 3) -> np.ndarray:
    from scipy.interpolate import BSpline

    n_inner = df - degree + 1
    inner = np.unique(np.quantile(x, np.linspace(0, 1, max(n_inner, 2))))
    lo, hi = inner[0], inner[-1]
    t = np.concatenate(([lo] * degree, inner, [hi] * degree))
    xx = np.clip(x, lo, hi)
    B = BSpline.design_matrix(xx, t, degree).toarray()
    return B  # rows sum to one: acts as the intercept


@dataclass(frozen=True, eq=False)
class DiscreteTimeHazardResult(EstimationResult):
    """``params``: covariate coefficients (log hazard ratios for cloglog, log odds for logit)."""

    @property
    def baseline(self) -> pd.DataFrame:
        """Baseline monthly exit probability by elapsed duration (covariates at zero)."""
        return self.extra["baseline"]

    @property
    def ratios(self) -> pd.Series:
        return np.exp(self.params)


class DiscreteTimeHazard:
    """Discrete-time hazard model: GLM (binomial, logit or cloglog) on person-months.

    Parameters
    ----------
    df : person-month panel, one row per month at risk (e.g. ``werkeffect.person_months``
        restricted to ``on_benefit == 1``).
    duration : integer elapsed months in the spell (0, 1, 2, ...).
    event : 0/1, the spell ends in this month (by the exit of interest); or give ``cause`` and
        ``cause_of_interest`` (other exits then end the spell without counting as events).
    covariates : numeric columns (time-varying allowed, e.g. ``treated`` switching on).
    link : ``"cloglog"`` (log hazard ratios) or ``"logit"`` (log odds ratios).
    baseline : ``"dummies"`` (one parameter per month; months at or beyond ``max_duration``
        pooled) or ``"spline"`` (cubic B-spline with ``spline_df`` degrees of freedom).
    cluster : column for cluster-robust errors (default: person id if given as ``id``).
    """

    def __init__(
        self,
        df: pd.DataFrame,
        duration: str,
        event: str | None = None,
        covariates: Sequence[str] = (),
        link: str = "cloglog",
        baseline: str = "dummies",
        max_duration: int | None = None,
        spline_df: int = 5,
        cluster: str | None = None,
        id: str | None = None,
        weights: str | None = None,
        cause: str | None = None,
        cause_of_interest: int | None = None,
    ) -> None:
        what = "DiscreteTimeHazard"
        covariates = [covariates] if isinstance(covariates, str) else list(covariates)
        if (event is None) == (cause is None):
            raise ValueError(f"{what}: give either event= or cause= with cause_of_interest=")
        require_columns(df, [duration, event, cause, cluster, id, weights, *covariates], what)
        if link not in ("logit", "cloglog"):
            raise ValueError("link must be 'logit' or 'cloglog'")
        if baseline not in ("dummies", "spline"):
            raise ValueError("baseline must be 'dummies' or 'spline'")
        self.df, self.duration, self.covariates = df, duration, covariates
        self.link, self.baseline, self.max_duration, self.spline_df = (
            link,
            baseline,
            max_duration,
            spline_df,
        )
        self.cluster = cluster if cluster is not None else id
        self.weights = weights
        dur = numeric_column(df, duration, what)
        if (dur < 0).any() or (dur != np.round(dur)).any():
            raise EstimationError(f"{what}: {duration!r} must hold whole months >= 0")
        self._dur = dur.astype(np.int64)
        if cause is not None:
            if cause_of_interest is None:
                raise ValueError(f"{what}: cause= needs cause_of_interest=")
            self._y = (numeric_column(df, cause, what) == cause_of_interest).astype(float)
            self.event = f"{cause}=={cause_of_interest}"
        else:
            y = numeric_column(df, event, what)
            if not np.isin(y, (0, 1)).all():
                raise EstimationError(f"{what}: {event!r} must be 0/1")
            self._y = y
            self.event = event
        self._X = (
            np.column_stack([numeric_column(df, c, what) for c in covariates])
            if covariates
            else np.zeros((len(df), 0))
        )

    def _baseline_design(self) -> tuple[np.ndarray, list[str], np.ndarray]:
        dur = self._dur
        if self.baseline == "dummies":
            cap = dur.max() if self.max_duration is None else self.max_duration
            d = np.minimum(dur, cap)
            levels = np.unique(d)
            ev_per = np.bincount(np.searchsorted(levels, d), weights=self._y)
            empty = levels[ev_per == 0]
            if empty.size:
                raise EstimationError(
                    f"DiscreteTimeHazard: no exits at elapsed month(s) {empty[:10].tolist()}: "
                    "their baseline dummies would diverge (perfect separation). Pool long "
                    "durations with max_duration=..., or use baseline='spline'."
                )
            B = (d[:, None] == levels[None, :]).astype(float)
            names = [
                f"month[{v}]" + ("+" if v == cap and self.max_duration else "") for v in levels
            ]
            return B, names, levels
        B = _bspline_basis(dur.astype(float), self.spline_df)
        return B, [f"spline[{k}]" for k in range(B.shape[1])], np.unique(dur)

    def fit(self, maxiter: int = 100) -> DiscreteTimeHazardResult:
        import statsmodels.api as sm

        what = "DiscreteTimeHazard"
        if self._y.sum() == 0:
            raise EstimationError(f"{what}: no events in {self.event!r}")
        B, bnames, levels = self._baseline_design()
        X = np.column_stack([B, self._X])
        names = bnames + self.covariates
        link = sm.families.links.CLogLog() if self.link == "cloglog" else sm.families.links.Logit()
        fam = sm.families.Binomial(link=link)
        w = None if self.weights is None else numeric_column(self.df, self.weights, what)
        model = sm.GLM(self._y, X, family=fam, freq_weights=w)
        kw = {}
        if self.cluster is not None:
            groups = cluster_codes(self.df, self.cluster, what)
            check_clusters(int(groups.max()) + 1, self.cluster, what)
            kw = {"cov_type": "cluster", "cov_kwds": {"groups": groups}}
        import warnings

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                fit = model.fit(maxiter=maxiter, **kw)
            except Exception as exc:
                raise EstimationError(f"{what}: GLM failed ({exc}); check separation") from exc
        if not fit.converged:
            raise EstimationError(
                f"{what}: the GLM did not converge in {maxiter} iterations; try fit(maxiter=...)"
                ", baseline='spline' or pooling long durations (max_duration=...)"
            )
        for c in caught:
            if "separation" in str(c.message).lower():
                raise EstimationError(f"{what}: perfect separation: {c.message}")
        params = pd.Series(np.asarray(fit.params), index=names)
        se = pd.Series(np.asarray(fit.bse), index=names)
        cov = pd.DataFrame(np.asarray(fit.cov_params()), index=names, columns=names)
        big = params[self.covariates].abs() > 15 if self.covariates else pd.Series(dtype=bool)
        if big.any():
            raise EstimationError(
                f"{what}: coefficient(s) {list(big.index[big])} diverge (|beta| > 15): perfect "
                "separation — all or none of the exits occur in one category"
            )
        # baseline hazard by month (covariates at 0)
        if self.baseline == "dummies":
            lin = params[bnames].to_numpy()
            mon = levels
        else:
            mon = np.arange(self._dur.min(), self._dur.max() + 1)
            lin = (
                _bspline_basis_eval(self._dur.astype(float), self.spline_df, mon)
                @ params[bnames].to_numpy()
            )
        haz = fam.link.inverse(lin)
        base = pd.DataFrame({"month": mon, "hazard": haz})
        base["survival"] = np.cumprod(1 - base["hazard"])
        ratio = "hazard ratio" if self.link == "cloglog" else "odds ratio"
        if self.covariates and (self.link == "logit") and (haz.max() > 0.1):
            import warnings as _w

            _w.warn(
                "Monthly exit probabilities above 10%: logit coefficients (odds ratios) then "
                "differ from hazard ratios; use link='cloglog' for hazard ratios",
                EstimationWarning,
                stacklevel=2,
            )
        return DiscreteTimeHazardResult(
            params=params[self.covariates],
            std_errors=se[self.covariates],
            method=f"Discrete-time hazard ({self.link} GLM, baseline {self.baseline})",
            estimand=f"log {ratio} of a monthly exit ({self.event})",
            n={"n": len(self.df), "n_events": int(self._y.sum())}
            | ({"n_clusters": int(self.df[self.cluster].nunique())} if self.cluster else {}),
            assumptions=(
                "Exits are recorded per month; the baseline hazard is flexible in elapsed months.",
                "Independent censoring given covariates; no unmeasured confounding for causal "
                "reading of a treatment coefficient.",
            ),
            notes=(f"Standard errors clustered on {self.cluster!r}." if self.cluster else "",)
            if self.cluster
            else (),
            extra={
                "baseline": base,
                "all_params": params,
                "all_std_errors": se,
                "cov": cov,
                "glm": fit,
            },
        )


def _bspline_basis_eval(x_fit: np.ndarray, df: int, at: np.ndarray, degree: int = 3) -> np.ndarray:
    from scipy.interpolate import BSpline

    n_inner = df - degree + 1
    inner = np.unique(np.quantile(x_fit, np.linspace(0, 1, max(n_inner, 2))))
    lo, hi = inner[0], inner[-1]
    t = np.concatenate(([lo] * degree, inner, [hi] * degree))
    return BSpline.design_matrix(np.clip(at.astype(float), lo, hi), t, degree).toarray()
