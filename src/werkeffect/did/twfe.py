"""Two-way fixed effects regressions: event study (leads and lags) and the static TWFE.

Model: ``y_it = a_i + l_t + sum_e b_e 1{t - g_i = e} + x_it'c + u_it`` with the period before
treatment (e = -1) as reference; the outermost lead and lag bins collect all earlier /
later event times (``bin_endpoints=True``). Never-treated units have all dummies 0.

Estimated by the within transformation (exact two-way demeaning for balanced panels,
alternating projections otherwise) — the same estimator as linearmodels' ``PanelOLS`` with
entity and time effects, but with O(N x regressors) memory (no dummy matrices for the
fixed effects), so a 1M-unit x 12-period panel fits in well under 4 GB.

Inference: cluster-robust (CR1) errors, clustered by ``cluster`` (default: the unit). With
fewer than 30 clusters a warning is given; with fewer than 12 the restricted wild cluster
bootstrap (Webb weights) is used by default for p-values and intervals.

Caveat: under staggered adoption with heterogeneous effects the TWFE coefficients are
weighted averages that can put negative weight on some ATT(g,t) (Goodman-Bacon 2021; Sun &
Abraham 2021); compare with :class:`CallawaySantAnna` / :class:`SunAbraham`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from werkeffect.did._checks import (
    FEW_CLUSTERS_WARN,
    FEW_CLUSTERS_WILD,
    cluster_column,
    group_codes,
    numeric_column,
    require_columns,
    require_unique,
    warn_few_clusters,
)
from werkeffect.did.wild_bootstrap import fe_leverage, wild_cluster_bootstrap, wild_wald_test
from werkeffect.exceptions import DataValidationError, EstimationError
from werkeffect.results.base import EstimationResult


def demean_two_way(
    cols: np.ndarray,
    uid: np.ndarray,
    tid: np.ndarray,
    balanced: bool,
    tol: float = 1e-12,
    weights: np.ndarray | None = None,
) -> np.ndarray:
    """Remove unit and period (weighted) means from each column of ``cols`` (in place)."""
    n_u = int(uid.max()) + 1
    n_t = int(tid.max()) + 1
    w = np.ones(len(uid)) if weights is None else np.asarray(weights, dtype=float)
    if weights is not None:
        balanced = False
    cu = np.bincount(uid, weights=w, minlength=n_u)
    ct = np.bincount(tid, weights=w, minlength=n_t)
    for k in range(cols.shape[1]):
        v = cols[:, k]
        if balanced:
            mu = np.bincount(uid, weights=v, minlength=n_u) / cu
            mt = np.bincount(tid, weights=v, minlength=n_t) / ct
            m = v.mean()
            v -= mu[uid]
            v -= mt[tid]
            v += m
            continue
        scale = max(np.abs(v).max(), 1.0)
        for _ in range(10_000):
            v -= (np.bincount(uid, weights=w * v, minlength=n_u) / cu)[uid]
            mt = np.bincount(tid, weights=w * v, minlength=n_t) / ct
            v -= mt[tid]
            if (
                np.abs(mt).max() < tol * scale
                and np.abs(np.bincount(uid, weights=w * v, minlength=n_u) / cu).max() < tol * scale
            ):
                break
        else:  # pragma: no cover
            raise EstimationError("the two-way demeaning did not converge")
    return cols


@dataclass
class WithinFit:
    beta: np.ndarray
    vcov: np.ndarray
    n_obs: int
    n_clusters: int
    xt: np.ndarray  # demeaned design
    yt: np.ndarray  # demeaned outcome
    cluster: np.ndarray


def within_ols(
    y: np.ndarray,
    x: np.ndarray,
    uid: np.ndarray,
    tid: np.ndarray,
    cluster: np.ndarray,
    *,
    small_sample: bool = True,
    overwrite: bool = False,
    weights: np.ndarray | None = None,
) -> WithinFit:
    """OLS after two-way demeaning with cluster-robust covariance.

    ``small_sample=True`` applies CR1, ``G/(G-1) * (N-1)/(N-K)`` with K the regressors
    (fixed effects are nested in the clusters); False gives the plain sandwich (equal to
    linearmodels' ``PanelOLS`` clustered covariance with ``count_effects=False``).
    """
    n_u = int(uid.max()) + 1
    n_t = int(tid.max()) + 1
    balanced = (
        len(y) == n_u * n_t and (np.bincount(uid * n_t + tid, minlength=n_u * n_t) == 1).all()
    )
    xt = (
        x
        if (overwrite and x.flags.f_contiguous and x.dtype == float)
        else np.array(x, dtype=float, order="F")
    )
    xt = demean_two_way(xt, uid, tid, balanced, weights=weights)
    yt = demean_two_way(np.array(y, dtype=float)[:, None], uid, tid, balanced, weights=weights)[
        :, 0
    ]
    if weights is not None:  # WLS as OLS on sqrt(w)-scaled demeaned data
        sw = np.sqrt(np.asarray(weights, dtype=float))
        xt *= sw[:, None]
        yt *= sw
    xtx = xt.T @ xt
    if np.linalg.matrix_rank(xtx) < xt.shape[1]:
        raise EstimationError(
            "the event-study design is collinear after removing unit and period effects "
            "(too few periods, or an event time that every treated unit shares)"
        )
    xtx_inv = np.linalg.inv(xtx)
    beta = xtx_inv @ (xt.T @ yt)
    e = yt - xt @ beta
    codes = pd.factorize(cluster, sort=True)[0]
    g = int(codes.max()) + 1
    score = np.column_stack(
        [np.bincount(codes, weights=xt[:, k] * e, minlength=g) for k in range(xt.shape[1])]
    )
    meat = score.T @ score
    v = xtx_inv @ meat @ xtx_inv
    if small_sample:
        n, k = xt.shape
        v *= g / (g - 1) * (n - 1) / (n - k)
    return WithinFit(beta, (v + v.T) / 2, len(y), g, xt, yt, codes)


@dataclass(frozen=True, eq=False)
class EventStudyResult(EstimationResult):
    """Event-study coefficients by event time (reference period excluded, estimate 0).

    ``pretrend`` holds the joint Wald test that all leads are zero; ``vcov`` the
    cluster-robust covariance; ``wild`` the wild-bootstrap results per event time (when
    used); ``critical_value`` the sup-t value for uniform bands.
    """

    pretrend: dict | None = None
    vcov: pd.DataFrame | None = None
    wild: dict | None = None
    critical_value: float | None = None
    reference: int = -1

    def plot(
        self, ax=None, level: float = 0.95, uniform: bool = True, lang: str = "en", title=None
    ):
        """Event-time estimates with intervals (see :func:`werkeffect.did.event_study_plot`)."""
        from werkeffect.did.plot import event_study_plot

        return event_study_plot(self, ax=ax, level=level, uniform=uniform, lang=lang, title=title)


class EventStudy:
    """TWFE event study with leads and lags and a joint pre-trend test.

    Parameters
    ----------
    df
        Long panel: one row per unit and period.
    outcome, unit, time, group
        Columns; ``group`` holds the first treated period (0 / NaN: never treated).
    leads, lags
        Number of pre-treatment event times (e = -leads .. -2; -1 is the reference) and
        post-treatment ones (e = 0 .. lags).
    cluster
        Cluster column (default: ``unit``).
    covariates
        Optional time-varying controls.
    bin_endpoints
        Bin event times beyond the window into the end points (default) or drop them from
        the dummies (treating them like the reference period).
    bootstrap_cluster
        Optional finer level (nested in ``cluster``) at which the wild bootstrap draws its
        weights (wild subcluster bootstrap; residuals HC2-rescaled for small designs).

    With fewer than 12 clusters ``fit()`` uses the restricted wild cluster bootstrap for
    each coefficient and adds ``pretrend["wild_p_value"]`` (bootstrap Wald test of the
    leads). With a single treated cluster every cluster-based method is unreliable (the
    WCR is very conservative, the CR1 Wald test over-rejects); see the WW notes in the
    final report / module docs.
    """

    def __init__(
        self,
        df: pd.DataFrame,
        outcome: str,
        unit: str,
        time: str,
        group: str,
        leads: int = 3,
        lags: int = 3,
        cluster: str | None = None,
        *,
        covariates: Sequence[str] | None = None,
        bin_endpoints: bool = True,
        bootstrap_cluster: str | None = None,
    ) -> None:
        if leads < 0 or lags < 0:
            raise ValueError("leads and lags must be >= 0")
        covariates = list(covariates or [])
        require_columns(df, [outcome, unit, time, group, cluster, bootstrap_cluster, *covariates])
        self.bootstrap_cluster = bootstrap_cluster
        self.df, self.outcome, self.unit, self.time, self.group = df, outcome, unit, time, group
        self.leads, self.lags = int(leads), int(lags)
        self.cluster = cluster
        self.covariates = covariates
        self.bin_endpoints = bin_endpoints

    def event_times(self) -> list[int]:
        return [e for e in range(-self.leads, self.lags + 1) if e != -1]

    def _design(self):
        df = self.df
        require_unique(df, [self.unit, self.time], "EventStudy")
        y = numeric_column(df, self.outcome)
        t = numeric_column(df, self.time)
        g = group_codes(df, self.group)
        uid, _ = pd.factorize(df[self.unit], sort=False)
        tid, periods = pd.factorize(t, sort=True)
        periods = np.asarray(periods)
        # event time in period steps (periods need not be 1 apart)
        gpos = np.searchsorted(periods, g)
        e = tid - gpos
        treated = g > 0
        if not treated.any():
            raise EstimationError(
                f"EventStudy: no treated units: column '{self.group}' is 0 or missing (never "
                f"treated) for all {len(g):,} rows, so there are no event times to estimate"
            )
        ev = self.event_times()
        col = np.full(len(y), -1, dtype=np.int64)
        lo, hi = -self.leads, self.lags
        ee = e.copy()
        if self.bin_endpoints:
            ee = np.clip(ee, lo, hi)
        lookup = {v: i for i, v in enumerate(ev)}
        for v, i in lookup.items():
            col[treated & (ee == v)] = i
        x = np.zeros((len(y), len(ev) + len(self.covariates)), order="F")
        rows = np.flatnonzero(col >= 0)
        x[rows, col[rows]] = 1.0
        for j, c in enumerate(self.covariates):
            x[:, len(ev) + j] = numeric_column(df, c)
        if self.cluster is None:
            cl = uid
        else:
            cl = cluster_column(df, self.cluster, "EventStudy")
            lo_c = np.full(uid.max() + 1, np.iinfo(np.int64).max)
            hi_c = np.full(uid.max() + 1, -1)
            np.minimum.at(lo_c, uid, cl)
            np.maximum.at(hi_c, uid, cl)
            if (lo_c != hi_c).any():
                raise DataValidationError(
                    f"units move between clusters of '{self.cluster}'; cluster at a level "
                    "that contains each unit"
                )
        return y, x, uid, tid.astype(np.int64), cl, ev

    def fit(
        self,
        *,
        inference: str = "auto",
        n_boot: int = 9999,
        weights: str | None = None,
        seed: int | None = 0,
        level: float = 0.95,
        small_sample: bool = True,
    ) -> EventStudyResult:
        """Estimate; ``inference`` "auto" (wild bootstrap below 12 clusters), "analytic", "wild"."""
        y, x, uid, tid, cl, ev = self._design()
        names = ev + list(self.covariates)
        x_raw = x.copy() if (self.bootstrap_cluster is not None and len(y) <= 20_000) else None
        fit = within_ols(y, x, uid, tid, cl, small_sample=small_sample, overwrite=True)
        del x
        g = fit.n_clusters
        notes = []
        if g < FEW_CLUSTERS_WARN:
            warn_few_clusters(
                g, "wild" if g < FEW_CLUSTERS_WILD and inference == "auto" else "suggest"
            )
        use_wild = inference == "wild" or (inference == "auto" and g < FEW_CLUSTERS_WILD)
        se = np.sqrt(np.diag(fit.vcov))
        params = pd.Series(fit.beta, index=names)
        std = pd.Series(se, index=names)
        dist, df_resid = ("t", g - 1) if g < FEW_CLUSTERS_WARN else ("normal", None)
        # joint pre-trend test
        leads_idx = [i for i, e in enumerate(ev) if e < -1]
        pretrend = None
        if leads_idx:
            b = fit.beta[leads_idx]
            vv = fit.vcov[np.ix_(leads_idx, leads_idx)]
            w = float(b @ np.linalg.pinv(vv) @ b)
            q = len(leads_idx)
            pretrend = {
                "statistic": w,
                "df": q,
                "p_value": float(stats.chi2.sf(w, q)),
                "f_statistic": w / q,
                "f_p_value": float(stats.f.sf(w / q, q, max(g - 1, 1))),
            }
        intervals, wild, wild_p = None, None, None
        bc = (
            None
            if self.bootstrap_cluster is None
            else pd.factorize(self.df[self.bootstrap_cluster], sort=True)[0]
        )
        small = bc is not None and x_raw is not None

        def _lev(drop: list[int]):
            if not small:
                return None
            keep = [i for i in range(x_raw.shape[1]) if i not in drop]
            return fe_leverage(x_raw[:, keep], uid, tid)

        if use_wild and pretrend is not None:
            wt = wild_wald_test(
                fit.xt,
                fit.yt,
                fit.cluster,
                leads_idx,
                weights=weights,
                n_boot=n_boot,
                seed=seed,
                bootstrap_cluster=bc,
                leverage=_lev(leads_idx),
            )
            pretrend["wild_p_value"] = wt["p_value"]
            pretrend["wild_weights"] = wt["weights"]
        if use_wild:
            wild = {}
            lows, ups = [], []
            for j, name in enumerate(ev):
                r = wild_cluster_bootstrap(
                    fit.xt,
                    fit.yt,
                    fit.cluster,
                    j,
                    weights=weights,
                    n_boot=n_boot,
                    level=level,
                    seed=seed,
                    bootstrap_cluster=bc,
                    leverage=_lev([j]),
                )
                wild[name] = r
                lows.append(r.lower)
                ups.append(r.upper)
            intervals = pd.DataFrame(
                {
                    "lower": lows + [np.nan] * len(self.covariates),
                    "upper": ups + [np.nan] * len(self.covariates),
                },
                index=names,
            )
            wild_p = pd.Series({name: r.p_value for name, r in wild.items()})
            any_r = next(iter(wild.values()))
            notes.append(
                f"Wild cluster bootstrap (restricted, {any_r.weights} weights, {any_r.n_boot} "
                f"draws, {g} clusters): intervals by test inversion."
            )
            if pretrend is not None and g < FEW_CLUSTERS_WILD:
                notes.append(
                    "The joint pre-trend Wald test uses the cluster-robust covariance with an "
                    f"F({len(leads_idx)}, {g - 1}) reference; with so few clusters read it "
                    "together with the per-lead wild-bootstrap p-values."
                )
        return EventStudyResult(
            params=params,
            std_errors=std,
            method="TWFE event study (within estimator, "
            + ("wild cluster bootstrap intervals)" if wild else "cluster-robust CR1)"),
            estimand="event-time coefficients relative to the period before treatment",
            n={"n": fit.n_obs, "n_units": int(uid.max()) + 1, "n_clusters": g},
            assumptions=(
                "Parallel trends and no anticipation (leads test the former in pre-periods).",
                "Homogeneous effects across cohorts; otherwise TWFE weights can be negative "
                "(see the Goodman-Bacon decomposition and Sun & Abraham).",
            ),
            notes=tuple(notes),
            dist=dist,
            df_resid=df_resid,
            intervals=intervals,
            interval_level=level,
            p_values=wild_p,
            pretrend=pretrend,
            vcov=pd.DataFrame(fit.vcov, index=names, columns=names),
            wild=wild,
            reference=-1,
            extra={"event_times": ev},
        )


class TWFE:
    """Static two-way fixed effects: ``y_it = a_i + l_t + b D_it + u_it``.

    ``treatment`` is a 0/1 column (absorbing or not). ``fit()`` returns ``params["ATT"]``
    (the TWFE coefficient) with cluster-robust or wild-bootstrap inference.
    ``obs_weights``: column of observation weights (e.g. the number of people behind a
    municipality x period rate: the weighted fit then equals the individual-level one).
    ``bootstrap_cluster``: finer level for the wild (subcluster) bootstrap weights.
    """

    def __init__(
        self,
        df,
        outcome: str,
        unit: str,
        time: str,
        treatment: str,
        cluster: str | None = None,
        covariates: Sequence[str] | None = None,
        *,
        bootstrap_cluster: str | None = None,
        obs_weights: str | None = None,
    ):
        covariates = list(covariates or [])
        require_columns(
            df,
            [outcome, unit, time, treatment, cluster, bootstrap_cluster, obs_weights, *covariates],
        )
        self.bootstrap_cluster = bootstrap_cluster
        self.obs_weights = obs_weights
        self.df, self.outcome, self.unit, self.time = df, outcome, unit, time
        self.treatment, self.cluster, self.covariates = treatment, cluster, covariates

    def fit(
        self,
        *,
        inference: str = "auto",
        n_boot: int = 9999,
        weights: str | None = None,
        seed: int | None = 0,
        level: float = 0.95,
    ) -> EstimationResult:
        df = self.df
        require_unique(df, [self.unit, self.time], "TWFE")
        y = numeric_column(df, self.outcome)
        x = np.column_stack([numeric_column(df, c) for c in [self.treatment, *self.covariates]])
        uid = pd.factorize(df[self.unit], sort=False)[0]
        tid = pd.factorize(df[self.time], sort=True)[0]
        cl = uid if self.cluster is None else cluster_column(df, self.cluster, "TWFE")
        ow = None if self.obs_weights is None else numeric_column(df, self.obs_weights)
        fit = within_ols(y, x, uid, tid, cl, weights=ow)
        g = fit.n_clusters
        if g < FEW_CLUSTERS_WARN:
            warn_few_clusters(g)
        names = ["ATT", *self.covariates]
        intervals, notes, wild = None, [], None
        if inference == "wild" or (inference == "auto" and g < FEW_CLUSTERS_WILD):
            lev = None
            if self.bootstrap_cluster is not None and len(y) <= 20_000:
                lev = fe_leverage(x[:, 1:], uid, tid, ow)
            r = wild_cluster_bootstrap(
                fit.xt,
                fit.yt,
                fit.cluster,
                0,
                weights=weights,
                n_boot=n_boot,
                level=level,
                seed=seed,
                bootstrap_cluster=None
                if self.bootstrap_cluster is None
                else pd.factorize(df[self.bootstrap_cluster], sort=True)[0],
                leverage=lev,
            )
            wild = r
            intervals = pd.DataFrame(
                {
                    "lower": [r.lower] + [np.nan] * len(self.covariates),
                    "upper": [r.upper] + [np.nan] * len(self.covariates),
                },
                index=names,
            )
            notes.append(f"Wild cluster bootstrap (WCR, {r.weights}): p = {r.p_value:.4f}.")
        return EstimationResult(
            params=pd.Series(fit.beta, index=names),
            std_errors=pd.Series(np.sqrt(np.diag(fit.vcov)), index=names),
            method="TWFE (within estimator, cluster-robust CR1)",
            estimand="TWFE coefficient on the treatment indicator",
            n={"n": fit.n_obs, "n_clusters": g},
            notes=tuple(notes),
            dist="t" if g < FEW_CLUSTERS_WARN else "normal",
            df_resid=g - 1 if g < FEW_CLUSTERS_WARN else None,
            intervals=intervals,
            interval_level=level,
            p_values=None if wild is None else pd.Series({"ATT": wild.p_value}),
            extra={"wild": wild},
        )
