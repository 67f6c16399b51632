"""Entropy balancing (Hainmueller 2012, Political Analysis 20(1))."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import optimize

from werkeffect.exceptions import EstimationError
from werkeffect.matching._utils import (
    MIN_GROUP,
    check_columns,
    covariate_matrix,
    outcome_array,
    treatment_array,
    weighted_effect_regression,
)
from werkeffect.matching.effects import WeightingResult

__all__ = ["EntropyBalance", "entropy_weights"]


def entropy_weights(
    X: np.ndarray, target: np.ndarray, base: np.ndarray | None = None, tol: float = 1e-8
) -> np.ndarray:
    """Weights closest to ``base`` (in entropy) whose weighted means of ``X`` equal ``target``.

    Solves the convex dual min_l log sum_i q_i exp(l'(x_i - target)) by Newton's method
    (scipy trust-region with exact Hessian); weights w_i ∝ q_i exp(l'(x_i - target)), summing
    to one. Raises :class:`EstimationError` when the target lies outside the convex hull of
    the rows of ``X`` (no weights can balance: no overlap).
    """
    n, k = X.shape
    q = np.full(n, 1.0 / n) if base is None else base / base.sum()
    sd = X.std(axis=0)
    sd[sd == 0] = 1.0
    Z = (X - target) / sd
    logq = np.log(q)

    def parts(lam):
        a = Z @ lam + logq
        m = a.max()
        e = np.exp(a - m)
        s = e.sum()
        w = e / s
        return m + np.log(s), w

    def f(lam):
        return parts(lam)[0]

    def grad(lam):
        return Z.T @ parts(lam)[1]

    def hess(lam):
        w = parts(lam)[1]
        mu = Z.T @ w
        return (Z * w[:, None]).T @ Z - np.outer(mu, mu)

    res = optimize.minimize(
        f, np.zeros(k), jac=grad, hess=hess, method="trust-exact", options={"gtol": tol}
    )
    w = parts(res.x)[1]
    gap = np.abs(Z.T @ w).max()
    if not np.isfinite(gap) or gap > 1e-6:
        raise EstimationError(
            "entropy balancing found no weights that balance the covariate means (largest "
            f"remaining standardised difference {gap:.3g}): the treated means lie outside the "
            "range the controls can reach; there is no overlap on some covariate"
        )
    return w


class EntropyBalance:
    """Entropy balancing weights (Hainmueller 2012) and the weighted effect.

    For the ATT, control weights are chosen as close as possible to uniform (minimum
    Kullback–Leibler divergence) subject to the weighted control means of the covariates
    (and, with ``moments=2``, their squares) equalling the treated means exactly. For the ATE
    both groups are reweighted to the full-sample means. The effect is the coefficient of
    treatment in the weighted regression, with robust (or cluster-robust) standard errors.

    Estimand: ATT (or ATE). Assumes no unmeasured confounding and that balancing the chosen
    moments removes the confounding (e.g. an outcome model linear in them).
    """

    def __init__(
        self,
        df: pd.DataFrame,
        treatment: str,
        covariates: Sequence[str],
        estimand: str = "ATT",
        moments: int = 1,
        cluster: str | None = None,
    ) -> None:
        check_columns(df, [treatment, *covariates, *([cluster] if cluster else [])])
        if estimand not in ("ATT", "ATE"):
            raise ValueError("estimand must be 'ATT' or 'ATE'")
        if moments not in (1, 2):
            raise ValueError("moments must be 1 or 2")
        self.df = df
        self.treatment = treatment
        self.covariates = list(covariates)
        self.estimand = estimand
        self.moments = moments
        self.cluster = cluster

    def weights(self) -> pd.Series:
        d = treatment_array(self.df, self.treatment, MIN_GROUP)
        X, _ = covariate_matrix(self.df, self.covariates, drop_first=True)
        if self.moments == 2:
            cont = [j for j in range(X.shape[1]) if not np.all(np.isin(X[:, j], (0, 1)))]
            X = np.column_stack([X, X[:, cont] ** 2])
        w = np.zeros(len(d))
        if self.estimand == "ATT":
            target = X[d == 1].mean(axis=0)
            w[d == 1] = 1.0
            wc = entropy_weights(X[d == 0], target)
            w[d == 0] = wc * (d == 0).sum()
        else:
            target = X.mean(axis=0)
            for g in (0, 1):
                wg = entropy_weights(X[d == g], target)
                w[d == g] = wg * (d == g).sum()
        return pd.Series(w, index=self.df.index, name="weights")

    def fit(self, outcome: str) -> WeightingResult:
        y = outcome_array(self.df, outcome)
        d = treatment_array(self.df, self.treatment)
        w = self.weights().to_numpy()
        cl = self.df[self.cluster].to_numpy() if self.cluster else None
        est, se, _ = weighted_effect_regression(y, d, w, cluster=cl)
        return WeightingResult(
            params=pd.Series({self.estimand: est}),
            std_errors=pd.Series({self.estimand: se}),
            method="Entropy balancing (Hainmueller 2012), weighted regression",
            estimand=f"{self.estimand} on '{outcome}'",
            n={"n_treated": int(d.sum()), "n_control": int((d == 0).sum())},
            assumptions=(
                "no unmeasured confounding given the covariates",
                "balance on the chosen moments removes confounding",
            ),
            notes=(
                "standard errors treat the weights as fixed (robust sandwich of the weighted "
                "regression)",
            ),
            extra={
                "weights": pd.Series(w, index=self.df.index, name="weights"),
                "data": self.df,
                "treatment": self.treatment,
                "covariates": self.covariates,
                "estimand": self.estimand,
            },
        )
