"""Cox proportional hazards on (start–stop) episodes, with strata, ties and sandwich errors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from werkeffect._inputs import check_clusters, cluster_codes, example_rows
from werkeffect.exceptions import DataValidationError, EstimationError
from werkeffect.results.base import EstimationResult
from werkeffect.survival import _coxcore as core
from werkeffect.survival._checks import (
    check_immortal_time,
    check_overlap,
    event_column,
    numeric_column,
    require_columns,
    time_columns,
)

COX_ASSUMPTIONS = (
    "Proportional hazards: covariate effects multiply the baseline hazard by a constant factor "
    "over time (check with test_proportional_hazards()).",
    "Independent censoring given the covariates (e.g. administrative censoring at the extract "
    "date).",
    "With entry times: left truncation is independent given the covariates (people observed "
    "from their elapsed duration at entry are comparable to those at risk then).",
    "Treatment effects are causal only without unmeasured confounding of the treatment hazard "
    "(conditional on covariates and elapsed duration).",
)


@dataclass(frozen=True, eq=False)
class CoxPHResult(EstimationResult):
    """Result of :class:`CoxPH`: ``params`` are log hazard ratios named after the covariates."""

    @property
    def hazard_ratios(self) -> pd.Series:
        return np.exp(self.params).rename("hazard_ratio")

    @property
    def loglik(self) -> float:
        return float(self.extra["loglik"])

    @property
    def cov_params(self) -> pd.DataFrame:
        return self.extra["cov"]

    @property
    def naive_std_errors(self) -> pd.Series:
        """Model-based (inverse information) standard errors."""
        return self.extra["naive_se"]

    def hazard_ratio_frame(self, level: float = 0.95) -> pd.DataFrame:
        ci = self.conf_int(level)
        return pd.DataFrame(
            {
                "hazard_ratio": np.exp(self.params),
                "lower": np.exp(ci["lower"]),
                "upper": np.exp(ci["upper"]),
                "p_value": self.pvalues,
            }
        )

    def likelihood_ratio_test(self) -> tuple[float, int, float]:
        stat = 2 * (self.extra["loglik"] - self.extra["loglik_null"])
        df = len(self.params)
        return float(stat), df, float(stats.chi2.sf(stat, df))

    def score_residuals(self) -> pd.DataFrame:
        cd = self.extra["_core"]
        U = core.score_residuals(cd, self.params.to_numpy())
        return pd.DataFrame(U, columns=self.params.index, index=self.extra["_index"])

    def martingale_residuals(self) -> pd.Series:
        cd = self.extra["_core"]
        m = core.martingale_residuals(cd, self.params.to_numpy())
        return pd.Series(m, index=self.extra["_index"], name="martingale")

    def baseline_cumulative_hazard(self) -> pd.DataFrame:
        """Breslow (or Efron) baseline cumulative hazard at covariates equal to their means."""
        cd = self.extra["_core"]
        times, strata, dh = core.baseline_hazard(cd, self.params.to_numpy())
        out = pd.DataFrame({"time": times, "stratum": strata, "hazard": dh})
        out["cumulative_hazard"] = out.groupby("stratum")["hazard"].cumsum()
        labels = self.extra.get("strata_labels")
        if labels is not None:
            out["stratum"] = np.asarray(labels)[out["stratum"].to_numpy()]
        return out

    def test_proportional_hazards(self, transform: str = "km") -> pd.DataFrame:
        """Score test of proportional hazards on scaled Schoenfeld residuals (R ``cox.zph``).

        For each covariate the model is extended with ``x * g(t)`` where ``g`` is the
        transformed event time (``"km"``: 1 − Kaplan–Meier, R's default; ``"identity"``,
        ``"log"``, ``"rank"``) centred at its mean over events; the score test of the extra
        coefficient at the fitted ``beta`` is reported per covariate and jointly (``GLOBAL``).
        A small p-value means the hazard ratio changes with time.
        """
        cd: core.CoxData = self.extra["_core"]
        beta = self.params.to_numpy()
        p = len(beta)
        ev_times = cd.times[cd.jd]  # per event row
        if transform == "identity":
            g_ev = ev_times
        elif transform == "log":
            g_ev = np.log(ev_times)
        elif transform == "rank":
            g_ev = stats.rankdata(cd.stop)[cd.ev_rows]
        elif transform == "km":
            from werkeffect.survival.nonparametric import _km_left_limit

            entry = None if self.extra["_start"] is None else cd.start
            g_ev = 1 - _km_left_limit(cd.stop, cd.event, entry, ev_times)
        else:
            raise ValueError("transform must be 'km', 'identity', 'log' or 'rank'")
        g_ev = g_ev - g_ev.mean()
        g = np.zeros(cd.K)
        g[cd.jd] = g_ev  # constant within an event time for km/identity/log
        _, _, i11, _ = core.loglik_score_info(cd, beta)
        _, u2, i12, _ = core.loglik_score_info(cd, beta, time_weight=g)
        _, _, i22, _ = core.loglik_score_info(cd, beta, time_weight=g * g)
        imat = np.block([[i11, i12], [i12.T, i22]])
        rows = []
        u0 = np.zeros(p)
        for k in range(p):
            kk = list(range(p)) + [p + k]
            u = np.concatenate((u0, [u2[k]]))
            chi = float(u @ np.linalg.solve(imat[np.ix_(kk, kk)], u))
            rows.append((chi, 1, stats.chi2.sf(chi, 1)))
        u = np.concatenate((u0, u2))
        chi = float(u @ np.linalg.solve(imat, u))
        rows.append((chi, p, stats.chi2.sf(chi, p)))
        return pd.DataFrame(
            rows, columns=["chisq", "df", "p"], index=[*self.params.index, "GLOBAL"]
        )


def _centred_crossprod(
    X: np.ndarray, codes: np.ndarray | None = None, chunk: int = 1_000_000
) -> np.ndarray:
    """``Z'Z / n`` of ``X`` centred on its column means, or on its stratum means when
    ``codes`` (0..S-1) are given; in chunks of rows, so no second copy of ``X`` is made."""
    n, p = X.shape
    if codes is None:
        means = X.mean(axis=0)[None, :]
        codes = np.zeros(n, dtype=np.intp)
    else:
        counts = np.bincount(codes)
        means = (
            np.column_stack(
                [np.bincount(codes, weights=X[:, j], minlength=len(counts)) for j in range(p)]
            )
            / np.maximum(counts, 1)[:, None]
        )
    out = np.zeros((p, p))
    for lo in range(0, n, chunk):
        Z = X[lo : lo + chunk] - means[codes[lo : lo + chunk]]
        out += Z.T @ Z
    return out / max(n, 1)


def _collinear(C: np.ndarray, names: Sequence[str], tol: float = 1e-10) -> list[str]:
    """Covariates involved in an exact linear dependence, from the centred cross-product
    matrix ``C`` (:func:`_centred_crossprod`); empty when the design has full rank."""
    if C.shape[0] < 2:
        return []
    d = np.sqrt(np.diag(C))
    evals, evecs = np.linalg.eigh(C / np.outer(d, d))
    null = evals < tol * max(evals[-1], 1.0)
    if not null.any():
        return []
    load = np.abs(evecs[:, null]).max(axis=1)
    return [n for n, v in zip(names, load, strict=True) if v > 1e-6]


class CoxPH:
    """Cox proportional hazards model, on one row per spell or on start–stop episodes.

    Estimand: log hazard ratios ``beta`` in ``h(t | x) = h0_s(t) exp(x'beta)`` (``s`` the
    stratum), estimated by maximum partial likelihood. With ``entry`` the rows are
    ``(entry, duration]`` intervals: left truncation (a stock sample entering at its elapsed
    duration) and time-varying covariates such as a treatment that switches on at programme
    start (rows from ``werkeffect.episodes``).

    Parameters
    ----------
    df : DataFrame
    duration : column with the stop time (elapsed months at exit, censoring or episode end).
    event : column, 1 if the spell ends at ``duration`` (by the exit of interest), else 0.
    covariates : numeric columns (encode categories as indicators first).
    entry : column with the start time of each row (left truncation / start–stop data).
    strata : column(s); each stratum gets its own baseline hazard.
    ties : ``"efron"`` (default, as R) or ``"breslow"``.
    cluster : column for cluster-robust (sandwich) errors, e.g. the person id for
        start–stop rows, or caseworker team / wijk. Matches R ``coxph(..., cluster=)``.
    id : person/spell id; used to check that episodes of the same id do not overlap.
    weights : column of case weights (e.g. inverse probability weights).
    treatment_start : column with the elapsed time at which a treatment started, for the
        immortal-time guard (default: ``programme_start`` when present; False disables).
    """

    def __init__(
        self,
        df: pd.DataFrame,
        duration: str,
        event: str,
        covariates: Sequence[str],
        entry: str | None = None,
        strata: str | Sequence[str] | None = None,
        ties: str = "efron",
        cluster: str | None = None,
        id: str | None = None,
        weights: str | None = None,
        treatment_start: str | None | bool = None,
    ) -> None:
        what = "CoxPH"
        covariates = [covariates] if isinstance(covariates, str) else list(covariates)
        strata_cols = [strata] if isinstance(strata, str) else list(strata or [])
        require_columns(
            df, [duration, event, entry, cluster, id, weights, *covariates, *strata_cols], what
        )
        if ties not in ("efron", "breslow"):
            raise ValueError(f"ties must be 'efron' or 'breslow', got {ties!r}")
        if len(set(covariates)) != len(covariates):
            raise ValueError(f"{what}: covariates listed twice: {covariates}")
        self.df = df
        self.duration, self.event, self.entry = duration, event, entry
        self.covariates = covariates
        self.strata = strata_cols
        self.ties, self.cluster, self.id, self.weights = ties, cluster, id, weights
        self._stop, self._start = time_columns(df, duration, entry, what)
        self._event = event_column(df, event, what)
        self._X = (
            np.column_stack([numeric_column(df, c, what) for c in covariates])
            if covariates
            else np.zeros((len(df), 0))
        )
        self._w = None if weights is None else numeric_column(df, weights, what)
        if self._w is not None and (self._w < 0).any():
            raise EstimationError(f"{what}: weights in {weights!r} must be non-negative")
        if self._w is not None and not (self._w[self._event] > 0).any():
            raise EstimationError(
                f"{what}: the weights in {weights!r} are 0 for "
                + ("every row" if not (self._w > 0).any() else "every row with an event")
                + f" ({len(df):,} rows): nothing is left to estimate from. Check the weights"
            )
        self._cluster_codes = None if cluster is None else cluster_codes(df, cluster, what)
        for col in strata_cols:
            missing = df[col].isna().to_numpy()
            if missing.any():
                raise DataValidationError(
                    f"{what}: strata column {col!r} is missing in "
                    f"{example_rows(df.index, missing)}; these rows would form a stratum of "
                    "their own. Fill in the value or drop the rows first"
                )
        if id is not None:
            check_overlap(df, id, self._start, self._stop, what)
        check_immortal_time(df, covariates, treatment_start, self._start, what)

    @classmethod
    def cause_specific(
        cls, df: pd.DataFrame, duration: str, cause: str, cause_of_interest: int, **kwargs: Any
    ) -> CoxPH:
        """Cause-specific Cox model: exits by other causes are treated as censored."""
        require_columns(df, [cause], "CoxPH.cause_specific")
        ev = (df[cause].to_numpy() == cause_of_interest).astype(np.int8)
        col = f"_event_cause_{cause_of_interest}"
        return cls(df.assign(**{col: ev}), duration=duration, event=col, **kwargs)

    def fit(
        self,
        robust: bool | None = None,
        max_iter: int = 50,
        init: Sequence[float] | None = None,
        tol: float = 1e-10,
    ) -> CoxPHResult:
        """Maximise the partial likelihood (Newton–Raphson with step halving).

        ``robust`` (default: True when ``cluster`` is given) reports sandwich standard errors
        ``I^-1 (sum_c U_c U_c') I^-1`` from the (weighted) score residuals summed per cluster,
        as R's ``coxph(..., cluster=)`` does; without a cluster each row is its own cluster.
        """
        what = "CoxPH"
        if not self._event.any():
            raise EstimationError(
                f"{what}: no events in column {self.event!r} ({len(self.df)} rows): the hazard "
                "ratio cannot be estimated. Check the event coding or the selection."
            )
        X = self._X
        sd = X.std(axis=0)
        const = [c for c, s in zip(self.covariates, sd, strict=True) if s == 0]
        if const:
            raise EstimationError(f"{what}: covariate(s) {const} take a single value; drop them")
        strata_codes = None
        labels = None
        if self.strata:
            grouped = self.df.groupby(self.strata, sort=True, dropna=False)
            strata_codes = grouped.ngroup().to_numpy()
            labels = [k if isinstance(k, tuple) else (k,) for k in grouped.size().index]
            labels = ["|".join(map(str, k)) for k in labels]
        # each stratum has its own baseline: only variation within strata identifies beta
        C = _centred_crossprod(X, strata_codes)
        flat = np.diag(C) <= 1e-24 * np.maximum(np.abs(X).max(axis=0), 1e-300) ** 2
        if flat.any():
            names = [c for c, f in zip(self.covariates, flat, strict=True) if f]
            raise EstimationError(
                f"{what}: covariate(s) {names} do not vary within any stratum of "
                f"{list(self.strata)}, so each stratum's own baseline hazard absorbs their "
                "effect; drop them or stratify on fewer columns"
            )
        collinear = _collinear(C, self.covariates)
        if collinear:
            raise EstimationError(
                f"{what}: covariates {collinear} are collinear (one is an exact linear "
                "combination of the others, e.g. the same measure twice or in other units"
                + (", or within the strata" if self.strata else "")
                + "), so their effects cannot be told apart; drop one of them"
            )
        cd = core.prepare(
            self._start, self._stop, self._event, X, strata_codes, self._w, ties=self.ties
        )
        res = core.newton(
            cd,
            self.covariates,
            init=None if init is None else np.asarray(init, float),
            max_iter=max_iter,
            tol=tol,
        )
        p = len(self.covariates)
        try:
            cov = np.linalg.inv(res.imat)
        except np.linalg.LinAlgError as exc:
            raise EstimationError(
                f"{what}: the information matrix is singular — covariates are collinear or a "
                "covariate has no variation among the people at risk at event times"
            ) from exc
        if np.any(np.diag(cov) <= 0):
            raise EstimationError(f"{what}: information matrix not positive definite (collinear?)")
        naive_se = np.sqrt(np.diag(cov))
        use_robust = (self.cluster is not None) if robust is None else robust
        n_clusters = None
        if use_robust:
            U = core.score_residuals(cd, res.beta)
            if self._w is not None:
                U *= self._w[:, None]
            if self.cluster is not None:
                codes = self._cluster_codes
                n_clusters = int(codes.max()) + 1 if len(codes) else 0
                check_clusters(n_clusters, self.cluster, what)
                Uc = np.stack(
                    [np.bincount(codes, weights=U[:, k], minlength=n_clusters) for k in range(p)],
                    1,
                )
            else:
                Uc = U
                n_clusters = len(U)
            dfb = Uc @ cov
            vcov = dfb.T @ dfb
        else:
            vcov = cov
        se = np.sqrt(np.diag(vcov))
        names = self.covariates
        n_ev = int(self._event.sum())
        n = {"n": len(self.df), "n_events": n_ev}
        if self.id is not None:
            n["n_ids"] = int(self.df[self.id].nunique())
        if n_clusters is not None and self.cluster is not None:
            n["n_clusters"] = int(n_clusters)
        notes = []
        if self.cluster is not None:
            notes.append(f"Standard errors robust to clustering on {self.cluster!r}.")
        if self.entry is not None:
            notes.append(f"Rows are (start, stop] intervals: {self.entry!r} to {self.duration!r}.")
        if self.strata:
            notes.append(f"Stratified on {self.strata} (separate baseline hazards).")
        method = f"Cox PH ({self.ties.capitalize()} ties)"
        return CoxPHResult(
            params=pd.Series(res.beta, index=names),
            std_errors=pd.Series(se, index=names),
            method=method,
            estimand="log hazard ratio per unit of each covariate",
            n=n,
            assumptions=COX_ASSUMPTIONS,
            notes=tuple(notes),
            extra={
                "loglik": res.loglik,
                "loglik_null": res.loglik_null,
                "n_iter": res.n_iter,
                "cov": pd.DataFrame(vcov, index=names, columns=names),
                "naive_se": pd.Series(naive_se, index=names, name="std_error"),
                "robust": bool(use_robust),
                "_core": cd,
                "_stop": self._stop,
                "_start": self._start,
                "_index": self.df.index,
                "strata_labels": None if labels is None else list(labels),
            },
        )
