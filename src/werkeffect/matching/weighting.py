"""Inverse probability weighting (IPW) and augmented IPW (doubly robust)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from werkeffect.exceptions import EstimationError, warn_estimation
from werkeffect.formatting import fmt_num, nl_int
from werkeffect.matching._utils import (
    MIN_GROUP,
    check_columns,
    covariate_matrix,
    outcome_array,
    treatment_array,
    weighted_effect_regression,
)
from werkeffect.matching.effects import WeightingResult
from werkeffect.matching.propensity import PropensityScore

__all__ = ["IPW", "AIPW", "crump_alpha", "ipw_weights"]


def crump_alpha(ps: np.ndarray) -> float:
    """Optimal trimming threshold of Crump, Hotz, Imbens & Mitnik (2009, Biometrika).

    Keep units with alpha <= e(x) <= 1 - alpha, where alpha = 0 if
    max 1/(e(1-e)) <= 2 E[1/(e(1-e))], else alpha solves
    1/(alpha(1-alpha)) = 2 E[1/(e(1-e)) | 1/(e(1-e)) <= 1/(alpha(1-alpha))].
    """
    g = 1.0 / (ps * (1 - ps))
    if g.max() <= 2 * g.mean():
        return 0.0
    gs = np.sort(g)
    csum = np.cumsum(gs) / np.arange(1, len(gs) + 1)
    # fixed point gamma = 2 * mean(g | g <= gamma) on the sorted values: on [g_k, g_k+1) the
    # conditional mean is the mean of the k smallest values
    ok = gs < 2 * csum
    k = np.flatnonzero(ok)
    gamma = 2 * csum[k[-1]] if len(k) else gs[0]
    # alpha from gamma = 1/(alpha(1-alpha))
    return float(0.5 - np.sqrt(max(0.25 - 1.0 / gamma, 0.0)))


def ipw_weights(d: np.ndarray, ps: np.ndarray, estimand: str, stabilize: bool = True) -> np.ndarray:
    """Inverse probability weights.

    ATE: 1/e for treated, 1/(1-e) for controls (stabilised: times the group's share).
    ATT: 1 for treated, e/(1-e) for controls (stabilised: controls scaled to sum to their
    number). Stabilising does not change the (Hajek) point estimate.
    """
    if estimand == "ATE":
        w = np.where(d == 1, 1 / ps, 1 / (1 - ps))
        if stabilize:
            p1 = d.mean()
            w = np.where(d == 1, w * p1, w * (1 - p1))
    elif estimand == "ATT":
        w = np.where(d == 1, 1.0, ps / (1 - ps))
        if stabilize:
            c = d == 0
            w[c] *= c.sum() / w[c].sum()
    else:
        raise ValueError("estimand must be 'ATT' or 'ATE'")
    return w


class _PSWeighting:
    def __init__(
        self,
        df: pd.DataFrame,
        treatment: str,
        covariates: Sequence[str],
        estimand: str = "ATT",
        trim: float | str | None = None,
        terms: Sequence[str] | None = None,
        ps: str | np.ndarray | pd.Series | None = None,
        cluster: str | None = None,
    ) -> None:
        check_columns(df, [treatment, *covariates, *([cluster] if cluster else [])])
        if estimand not in ("ATT", "ATE"):
            raise ValueError("estimand must be 'ATT' or 'ATE'")
        if trim is not None and trim != "crump" and not (0 < float(trim) < 0.5):
            raise ValueError("trim must be None, 'crump' or a number in (0, 0.5)")
        self.df = df
        self.treatment = treatment
        self.covariates = list(covariates)
        self.estimand = estimand
        self.trim = trim
        self.terms = list(terms or [])
        self.ps = ps
        self.cluster = cluster

    def _scores(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
        d = treatment_array(self.df, self.treatment, MIN_GROUP)
        if self.ps is None:
            res = PropensityScore(self.df, self.treatment, self.covariates, terms=self.terms).fit()
            p = res.ps.to_numpy()
        else:
            p = np.asarray(self.df[self.ps] if isinstance(self.ps, str) else self.ps, dtype=float)
        notes: list[str] = []
        keep = np.ones(len(d), dtype=bool)
        if self.trim is not None:
            alpha = crump_alpha(p) if self.trim == "crump" else float(self.trim)
            keep = (p >= alpha) & (p <= 1 - alpha)
            n_t = int(((~keep) & (d == 1)).sum())
            n_c = int(((~keep) & (d == 0)).sum())
            notes.append(
                f"trimmed units with propensity outside [{alpha:.4f}, {1 - alpha:.4f}] "
                f"(Crump et al. 2009): {n_t} treated and {n_c} controls dropped; the estimand "
                "is the effect in the trimmed population"
            )
            if not keep[d == 1].any() or not keep[d == 0].any():
                raise EstimationError("no overlap: trimming leaves no treated or no controls")
        else:
            lim = 0.01 if self.estimand == "ATE" else None
            extreme = (p > 0.99) & (d == 0) if lim is None else (p < lim) | (p > 1 - lim)
            if extreme.any():
                warn_estimation(
                    f"{int(extreme.sum()):,} unit(s) have propensity scores beyond 0.01/0.99: "
                    "overlap is poor and weights are extreme; consider trim='crump'",
                    f"{nl_int(extreme.sum())} eenheid/eenheden hebben een propensity score "
                    "onder 0,01 of boven 0,99: de overlap is slecht en de gewichten zijn "
                    "extreem; overweeg trim='crump'",
                    stacklevel=3,
                )
        return d, p, keep, notes


class IPW(_PSWeighting):
    """Inverse probability weighting estimator of the ATT or ATE.

    Weights are stabilised (Hajek); optional trimming of extreme scores per Crump et al.
    (``trim="crump"``) or at a fixed ``alpha``. The effect is the coefficient of treatment in a
    weighted regression of the outcome on treatment, with heteroskedasticity-robust (or, with
    ``cluster``, cluster-robust) standard errors; these ignore the estimation of the
    propensity score, which makes them conservative for the ATE (Hirano, Imbens & Ridder 2003).

    Estimand: ATT E[Y(1)-Y(0) | D=1] or ATE E[Y(1)-Y(0)]. Assumes no unmeasured confounding,
    overlap and a correct propensity model.
    """

    def fit(self, outcome: str) -> WeightingResult:
        y = outcome_array(self.df, outcome)
        d, p, keep, notes = self._scores()
        w = np.zeros(len(d))
        w[keep] = ipw_weights(d[keep], p[keep], self.estimand)
        cl = self.df[self.cluster].to_numpy() if self.cluster else None
        est, se, n_cl = weighted_effect_regression(y, d, w, cluster=cl)
        return _weighting_result(
            self, est, se, w, d, keep, notes, method="IPW (stabilised)", outcome=outcome, ps=p
        )


class AIPW(_PSWeighting):
    """Augmented inverse probability weighting (doubly robust) estimator.

    ATE: mean of mu1(X) - mu0(X) + D(Y - mu1(X))/e(X) - (1-D)(Y - mu0(X))/(1-e(X)).
    ATT: [sum D (Y - mu0(X)) - sum (1-D) e/(1-e) (Y - mu0(X)) * N1 / sum((1-D) e/(1-e))] / N1
    (normalised weights). Outcome models are linear regressions on the covariates fitted
    separately by group (``outcome_model="linear"``) or logits for a 0/1 outcome
    (``"logit"``). Standard errors from the estimated influence function (nuisance models
    taken as known), summed within clusters when ``cluster`` is given (e.g. a person who is a
    control in several cohorts). For the ATT a warning is raised when the control weights
    concentrate on a few people (Kish effective size below max(10, n_treated / 4)).

    Consistent if either the propensity model or the outcome model is correct.
    """

    def __init__(self, *args, outcome_model: str = "linear", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if outcome_model not in ("linear", "logit"):
            raise ValueError("outcome_model must be 'linear' or 'logit'")
        self.outcome_model = outcome_model

    def fit(self, outcome: str) -> WeightingResult:
        y_all = outcome_array(self.df, outcome)
        d, p, keep, notes = self._scores()
        X_all, _ = covariate_matrix(self.df, self.covariates, drop_first=True)
        d, p, y, X = d[keep], p[keep], y_all[keep], X_all[keep]
        n = len(d)
        mu0 = _outcome_fit(X, y, d == 0, self.outcome_model)
        if self.estimand == "ATE":
            mu1 = _outcome_fit(X, y, d == 1, self.outcome_model)
            psi = mu1 - mu0 + d * (y - mu1) / p - (1 - d) * (y - mu0) / (1 - p)
            est = float(psi.mean())
            infl = psi - est
        else:
            r = y - mu0
            odds = p / (1 - p)
            c = d == 0
            n1 = d.sum()
            wc = odds * c
            est = float((r * d).sum() / n1 - (r * wc).sum() / wc.sum())
            # influence function (nuisances treated as known)
            r1 = (r * d).sum() / n1
            infl = (d * (r - r1) - wc * (r - (r * wc).sum() / wc.sum()) * n1 / wc.sum()) / (n1 / n)
            _warn_few_controls(wc[c], n1)
        if self.cluster is None:
            se = float(np.sqrt(np.sum(infl**2)) / n)
        else:
            # cluster-robust: sum the influence function within clusters (CR1 factor G/(G-1))
            g = pd.factorize(self.df[self.cluster].to_numpy()[keep])[0]
            n_g = int(g.max()) + 1
            if n_g < 2:
                raise EstimationError(f"cluster '{self.cluster}' has fewer than 2 clusters")
            sums = np.bincount(g, weights=infl, minlength=n_g)
            se = float(np.sqrt(n_g / (n_g - 1) * np.sum(sums**2)) / n)
            notes.append(f"standard error clustered by '{self.cluster}' ({n_g:,} clusters)")
        w = np.zeros(len(keep))
        w[keep] = ipw_weights(d, p, self.estimand)
        return _weighting_result(
            self,
            est,
            se,
            w,
            treatment_array(self.df, self.treatment),
            keep,
            notes,
            method=f"AIPW (doubly robust, {self.outcome_model} outcome model)",
            outcome=outcome,
            ps=None,
        )


def _warn_few_controls(wc: np.ndarray, n_treated: float) -> None:
    """Warn when a handful of controls carry the ATT weights (Kish effective size)."""
    ess = float(wc.sum() ** 2 / np.sum(wc**2)) if np.sum(wc**2) > 0 else 0.0
    if ess < max(10.0, 0.25 * float(n_treated)):
        top = np.sort(wc)[::-1]
        share = float(top[:5].sum() / wc.sum())
        warn_estimation(
            f"the control weights e/(1-e) are concentrated: effective number of controls "
            f"{ess:.1f} for {int(n_treated)} treated (the 5 largest carry {share:.0%} of the "
            "weight); overlap is poor, the estimate rests on a few people and its standard "
            "error is unreliable. Consider matching, trim='crump' or a narrower population",
            "de gewichten e/(1-e) van de vergelijkingsgroep zijn geconcentreerd: effectief "
            f"{fmt_num(ess, 1)} vergelijkingspersonen voor {nl_int(n_treated)} deelnemers (de "
            f"5 grootste dragen {fmt_num(100 * share, 0)}% van het gewicht); de overlap is "
            "slecht, de schatting rust op enkele personen en haar standaardfout is "
            "onbetrouwbaar. Overweeg matching, trim='crump' of een smallere populatie",
            stacklevel=3,
        )


def _outcome_fit(X: np.ndarray, y: np.ndarray, sel: np.ndarray, model: str) -> np.ndarray:
    """Predictions for all rows from a regression fitted on the rows in ``sel``."""
    import statsmodels.api as sm

    Xd = np.column_stack([np.ones(len(X)), X])
    if model == "linear":
        beta, *_ = np.linalg.lstsq(Xd[sel], y[sel], rcond=None)
        return Xd @ beta
    fit = sm.Logit(y[sel], Xd[sel]).fit(disp=0, method="newton")
    return 1 / (1 + np.exp(-(Xd @ fit.params)))


def _weighting_result(model, est, se, w, d, keep, notes, method, outcome, ps) -> WeightingResult:
    df = model.df
    name = getattr(model, "estimand", "ATT")
    return WeightingResult(
        params=pd.Series({name: est}),
        std_errors=pd.Series({name: se}),
        method=method,
        estimand=f"{name} on '{outcome}'",
        n={
            "n_treated": int(((d == 1) & keep).sum()),
            "n_control": int(((d == 0) & keep).sum()),
        },
        assumptions=(
            "no unmeasured confounding given the covariates",
            "overlap (positivity)",
        ),
        notes=tuple(notes),
        extra={
            "weights": pd.Series(w, index=df.index, name="weights"),
            "data": df,
            "treatment": model.treatment,
            "covariates": list(model.covariates),
            "estimand": name,
            "ps": None if ps is None else pd.Series(ps, index=df.index, name="ps"),
        },
    )
