"""Propensity score by logistic regression (statsmodels)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from werkeffect.exceptions import EstimationError, warn_estimation
from werkeffect.formatting import nl_int
from werkeffect.matching._utils import (
    MIN_GROUP,
    check_columns,
    covariate_matrix,
    treatment_array,
)
from werkeffect.results.base import EstimationResult

__all__ = ["PropensityScore", "PropensityScoreResult", "CommonSupport", "common_support"]


def _q(name: str) -> str:
    return f'Q("{name}")'


@dataclass(frozen=True, eq=False)
class PropensityScoreResult(EstimationResult):
    """Fitted propensity model. ``params`` are logit coefficients.

    Attributes in ``extra``: ``ps`` (Series of scores aligned to the input rows),
    ``linear_predictor`` (logit of the score), ``design`` (the model matrix, intercept first)
    and ``treatment`` (0/1 array).
    """

    @property
    def ps(self) -> pd.Series:
        return self.extra["ps"]

    @property
    def linear_predictor(self) -> pd.Series:
        return self.extra["linear_predictor"]

    @property
    def design(self) -> np.ndarray:
        return self.extra["design"]

    @property
    def treatment(self) -> np.ndarray:
        return self.extra["treatment"]

    def distance(self, link: str = "logit") -> pd.Series:
        """The matching distance: ``"logit"`` (linear predictor) or ``"probability"``."""
        if link == "logit":
            return self.linear_predictor
        if link == "probability":
            return self.ps
        raise ValueError("link must be 'logit' or 'probability'")

    def information(self) -> np.ndarray:
        """Average Fisher information of the logit, (1/N) sum p(1-p) x x'."""
        p = self.ps.to_numpy()
        X = self.design
        return (X * (p * (1 - p))[:, None]).T @ X / len(p)

    def common_support(self, method: str = "minmax") -> CommonSupport:
        return common_support(
            self.ps.to_numpy(), self.treatment, method=method, index=self.ps.index
        )

    def overlap_plot(self, ax=None, bins: int = 30):
        from werkeffect.matching.balance import overlap_plot

        return overlap_plot(self.ps, self.treatment, ax=ax, bins=bins)


class PropensityScore:
    """Propensity score P(treated | covariates) by logistic regression.

    Parameters
    ----------
    df
        One row per unit.
    treatment
        0/1 column.
    covariates
        Columns entering linearly; text/categorical columns become dummies (first level is
        the reference).
    terms
        Extra formula terms in patsy syntax, for splines and interactions, e.g.
        ``["bs(age, df=4)", "age:education", "I(age**2)"]``.

    Estimand: the propensity score e(x) = P(D=1 | X=x). Assumes the logit specification is
    flexible enough; check balance afterwards (:func:`balance`), not the fit of this model.
    """

    def __init__(
        self,
        df: pd.DataFrame,
        treatment: str,
        covariates: Sequence[str],
        terms: Sequence[str] | None = None,
    ) -> None:
        check_columns(df, [treatment, *covariates])
        self.df = df
        self.treatment = treatment
        self.covariates = list(covariates)
        self.terms = list(terms or [])
        if not self.covariates and not self.terms:
            raise ValueError("give at least one covariate or term")

    def _design(self) -> tuple[np.ndarray, list[str]]:
        X, names = covariate_matrix(self.df, self.covariates, drop_first=True)
        if self.terms:
            import patsy

            extra = patsy.dmatrix(
                "0 + " + " + ".join(self.terms), self.df, return_type="dataframe", eval_env=1
            )
            X = np.hstack([X, extra.to_numpy(dtype=float)])
            names += list(extra.columns)
        return np.hstack([np.ones((len(X), 1)), X]), ["Intercept", *names]

    def fit(self, maxiter: int = 100) -> PropensityScoreResult:
        import statsmodels.api as sm

        d = treatment_array(self.df, self.treatment, MIN_GROUP)
        X, names = self._design()
        rank = np.linalg.matrix_rank(X[: min(len(X), 200_000)])
        if rank < X.shape[1]:
            raise EstimationError(
                f"the propensity design ({', '.join(names[1:])}) is collinear (rank {rank} of "
                f"{X.shape[1]} columns); drop redundant covariates or terms"
            )
        _check_separation(X, d, names)
        start, hess, settled = _newton_start(X, d)
        caught: list = []
        if settled and len(d) > 200_000 and np.abs(start).max() < 15:
            # the numpy Newton steps converged (step < 1e-10): the statsmodels fit would
            # return the same MLE after one more step; take it and the inverse Hessian
            params, bse = start, np.sqrt(np.diag(np.linalg.inv(hess)))
            converged = True
        else:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                model = sm.Logit(d.astype(float), X, check_rank=False)
                fit = model.fit(method="newton", disp=0, maxiter=maxiter, start_params=start)
            params, bse = fit.params, fit.bse
            converged = bool(fit.mle_retvals.get("converged", True))
        lin = X @ params
        p = 1.0 / (1.0 + np.exp(-lin))
        sep_msgs = [str(w.message) for w in caught if "separation" in str(w.message).lower()]
        extreme = (p < 1e-8) | (p > 1 - 1e-8)
        complete = extreme.mean() > 0.5 or extreme[d == 1].mean() > 0.5
        if complete or (
            sep_msgs
            and extreme[d == 1].any()
            and extreme[d == 0].any()
            and np.all(extreme | (np.abs(lin) > 15))
        ):
            raise EstimationError(
                "perfect separation in the propensity model: the covariates predict treatment "
                f"(almost) perfectly ({int(extreme.sum()):,} of {len(p):,} units get a score "
                "of 0 or 1). Treated and controls do not overlap; restrict the sample or "
                "coarsen the covariates"
            )
        if extreme.any() or sep_msgs:
            warn_estimation(
                f"quasi-separation in the propensity model: {int(extreme.sum()):,} unit(s) "
                "have a score within 1e-8 of 0 or 1 (e.g. a category without treated "
                "units); they cannot be compared and overlap is poor for them",
                f"bijna-separatie in het propensity-model: {nl_int(extreme.sum())} eenheid/"
                "eenheden hebben een score vrijwel gelijk aan 0 of 1 (bijvoorbeeld een "
                "categorie zonder deelnemers); zij zijn niet te vergelijken en de overlap is "
                "voor hen slecht",
                stacklevel=2,
            )
        if not converged:
            warn_estimation(
                "the propensity model did not converge; check for separation or collinearity",
                "het propensity-model convergeerde niet; controleer op separatie of collineariteit",
                stacklevel=2,
            )
        idx = self.df.index
        n1 = int(d.sum())
        return PropensityScoreResult(
            params=pd.Series(params, index=names),
            std_errors=pd.Series(bse, index=names),
            method="Propensity score (logit MLE; statsmodels, or numpy Newton steps on large data)",
            estimand="log odds of treatment per covariate unit",
            n={"n_treated": n1, "n_control": len(d) - n1},
            assumptions=("logit model for P(treated | covariates)",),
            extra={
                "ps": pd.Series(p, index=idx, name="ps"),
                "linear_predictor": pd.Series(lin, index=idx, name="logit_ps"),
                "design": X,
                "treatment": d,
                "names": names,
                "converged": converged,
            },
        )


def _newton_start(
    X: np.ndarray, d: np.ndarray, iterations: int = 25
) -> tuple[np.ndarray | None, np.ndarray | None, bool]:
    """Plain Newton steps on the logit log-likelihood with numpy (a few matrix products per
    step). On more than 200,000 rows the steps start on an evenly spaced subsample of about
    100,000 rows and finish on all rows (Newton converges quadratically, so the full data
    need only two or three steps). Returns (beta, Hessian of the negative log-likelihood at
    the last step, converged); beta is None when the steps do not settle (statsmodels then
    starts at 0)."""
    beta = None
    if len(d) > 200_000:
        k = len(d) // 100_000
        beta, _, _ = _newton(X[::k], d[::k], np.zeros(X.shape[1]), iterations, tol=1e-6)
    if beta is None:
        beta = np.zeros(X.shape[1])
    return _newton(X, d, beta, iterations, tol=1e-10)


def _newton(
    X: np.ndarray, d: np.ndarray, beta: np.ndarray, iterations: int, tol: float
) -> tuple[np.ndarray | None, np.ndarray | None, bool]:
    y = d.astype(float)
    H = None
    for _ in range(iterations):
        eta = np.clip(X @ beta, -30, 30)
        mu = 1.0 / (1.0 + np.exp(-eta))
        W = mu * (1 - mu)
        H = (X * W[:, None]).T @ X
        g = X.T @ (y - mu)
        try:
            step = np.linalg.solve(H, g)
        except np.linalg.LinAlgError:
            return None, None, False
        beta = beta + step
        if not np.all(np.isfinite(beta)) or np.abs(beta).max() > 50:
            return None, None, False
        if np.max(np.abs(step)) < tol:
            return beta, H, True
    return beta, H, False


def _check_separation(X: np.ndarray, d: np.ndarray, names: list[str]) -> None:
    """Detect complete separation by a single covariate before fitting (clear message)."""
    for j in range(1, X.shape[1]):
        x = X[:, j]
        x1, x0 = x[d == 1], x[d == 0]
        if x1.min() > x0.max() or x1.max() < x0.min():
            raise EstimationError(
                f"perfect separation in the propensity model: covariate '{names[j]}' separates "
                f"treated (range {x1.min():g}..{x1.max():g}) from controls "
                f"(range {x0.min():g}..{x0.max():g}); there is no overlap on it"
            )


@dataclass(frozen=True)
class CommonSupport:
    """Common-support report: the region of overlap and who falls outside it."""

    lower: float
    upper: float
    keep: pd.Series
    n_treated_dropped: int
    n_control_dropped: int
    n_treated: int
    n_control: int
    method: str

    def report(self) -> str:
        return (
            f"Common support ({self.method}): propensity score in [{self.lower:.4f}, "
            f"{self.upper:.4f}]. Treated dropped: {self.n_treated_dropped:,} of "
            f"{self.n_treated:,}; controls dropped: {self.n_control_dropped:,} of "
            f"{self.n_control:,}."
        )

    def __str__(self) -> str:
        return self.report()


def common_support(
    ps: np.ndarray | pd.Series,
    treatment: np.ndarray | pd.Series,
    method: str = "minmax",
    index: pd.Index | None = None,
) -> CommonSupport:
    """Overlap region of the propensity score.

    ``method="minmax"``: [max of the group minima, min of the group maxima] (MatchIt's
    ``discard="both"``); ``method="treated"``: drop treated outside the controls' range (ATT
    support, MatchIt's ``discard="treated"``).
    """
    if index is None:
        index = ps.index if isinstance(ps, pd.Series) else pd.RangeIndex(len(ps))
    p = np.asarray(ps, dtype=float)
    d = np.asarray(treatment).astype(int)
    p1, p0 = p[d == 1], p[d == 0]
    if method == "minmax":
        lo, hi = max(p1.min(), p0.min()), min(p1.max(), p0.max())
        keep = (p >= lo) & (p <= hi)
    elif method == "treated":
        lo, hi = p0.min(), p0.max()
        keep = (d == 0) | ((p >= lo) & (p <= hi))
    else:
        raise ValueError("method must be 'minmax' or 'treated'")
    if lo > hi or not keep[d == 1].any():
        raise EstimationError(
            "no overlap: the propensity scores of treated "
            f"({p1.min():.4f}..{p1.max():.4f}) and controls ({p0.min():.4f}..{p0.max():.4f}) "
            "do not overlap"
        )
    return CommonSupport(
        lower=float(lo),
        upper=float(hi),
        keep=pd.Series(keep, index=index, name="in_support"),
        n_treated_dropped=int(((~keep) & (d == 1)).sum()),
        n_control_dropped=int(((~keep) & (d == 0)).sum()),
        n_treated=int((d == 1).sum()),
        n_control=int((d == 0).sum()),
        method=method,
    )
