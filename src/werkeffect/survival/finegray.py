"""Fine–Gray proportional subdistribution hazards for one exit type among competing exits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from werkeffect.exceptions import EstimationError
from werkeffect.results.base import EstimationResult
from werkeffect.survival._checks import (
    cause_column,
    numeric_column,
    require_columns,
    time_columns,
)
from werkeffect.survival.nonparametric import _km_left_limit


@dataclass
class _FGData:
    X: np.ndarray
    means: np.ndarray
    T: np.ndarray
    ev: np.ndarray  # rows with the event of interest
    comp: np.ndarray  # rows with a competing event
    ut: np.ndarray  # distinct event times of interest
    d: np.ndarray  # events of interest per time
    hi: np.ndarray  # number of event times <= T_i (regular risk set: j < hi)
    jd: np.ndarray  # event-time index of each event row
    G_t: np.ndarray  # censoring survival just before each event time
    G_i: np.ndarray  # censoring survival just before each row's own time


def _prepare(T: np.ndarray, cause: np.ndarray, X: np.ndarray, k: int) -> _FGData:
    ev = cause == k
    comp = (cause > 0) & ~ev
    ut = np.unique(T[ev])
    hi = np.searchsorted(ut, T, side="right")
    jd = hi[ev] - 1
    d = np.bincount(jd, minlength=ut.shape[0]).astype(float)
    cens = cause == 0
    G_t = _km_left_limit(T, cens, None, ut)
    G_i = _km_left_limit(T, cens, None, T)
    means = X.mean(axis=0)
    return _FGData(X - means, means, T, ev, comp, ut, d, hi, jd, G_t, G_i)


def _sums(fd: _FGData, beta: np.ndarray):
    K = fd.ut.shape[0]
    eta = fd.X @ beta
    r = np.exp(eta - eta.max())
    p = fd.X.shape[1]

    def suffix(v):  # sum over rows with hi > j  (T_i >= ut_j)
        return np.cumsum(np.bincount(fd.hi, weights=v, minlength=K + 1)[::-1])[::-1][1:]

    rc = np.where(fd.comp, r / np.where(fd.G_i > 0, fd.G_i, np.inf), 0.0)

    def comp_sum(v):  # sum over competing rows with T_i < ut_j, weight 1/G_i
        return np.cumsum(np.bincount(fd.hi, weights=v, minlength=K + 1))[:K]

    S0 = suffix(r) + fd.G_t * comp_sum(rc)
    S1 = np.empty((K, p))
    for c in range(p):
        S1[:, c] = suffix(r * fd.X[:, c]) + fd.G_t * comp_sum(rc * fd.X[:, c])
    return eta - eta.max(), r, rc, S0, S1


def _lsi(fd: _FGData, beta: np.ndarray):
    eta, r, rc, S0, S1 = _sums(fd, beta)
    K = fd.ut.shape[0]
    xbar = S1 / S0[:, None]
    ll = float(eta[fd.ev].sum() - fd.d @ np.log(S0))
    score = fd.X[fd.ev].sum(0) - fd.d @ xbar
    h = fd.d / S0
    cumH = np.concatenate(([0.0], np.cumsum(h)))
    GH = fd.G_t * h
    cumGH = np.concatenate(([0.0], np.cumsum(GH)))
    coef = r * cumH[fd.hi] + rc * (cumGH[K] - cumGH[fd.hi])
    imat = (fd.X * coef[:, None]).T @ fd.X - (xbar * fd.d[:, None]).T @ xbar
    return ll, score, imat


def _influence(fd: _FGData, beta: np.ndarray, with_censoring_term: bool) -> np.ndarray:
    """eta_i (+ psi_i): per-row influence of the estimating equation (Fine & Gray 1999)."""
    eta, r, rc, S0, S1 = _sums(fd, beta)
    K = fd.ut.shape[0]
    X = fd.X
    xbar = S1 / S0[:, None]
    h = fd.d / S0
    GH = fd.G_t * h
    cumH = np.concatenate(([0.0], np.cumsum(h)))
    cumHX = np.vstack((np.zeros((1, X.shape[1])), np.cumsum(h[:, None] * xbar, axis=0)))
    cumGH = np.concatenate(([0.0], np.cumsum(GH)))
    cumGHX = np.vstack((np.zeros((1, X.shape[1])), np.cumsum(GH[:, None] * xbar, axis=0)))
    U = -r[:, None] * (X * cumH[fd.hi][:, None] - cumHX[fd.hi])
    U -= rc[:, None] * (X * (cumGH[K] - cumGH[fd.hi])[:, None] - (cumGHX[K] - cumGHX[fd.hi]))
    U[fd.ev] += X[fd.ev] - xbar[fd.jd]
    if not with_censoring_term:
        return U
    # psi_i = int q(u)/pi(u) dM^c_i(u), q(u) = sum_{comp i, T_i < u} int_{t >= u} (X_i -
    # xbar(t)) w_i(t) r_i dLambda0(t) (the part of eta_i that depends on G after u)
    cens = ~(fd.ev | fd.comp)
    uc = np.unique(fd.T[cens])  # censoring times
    if uc.size == 0:
        return U
    # competing rows with T_i < u
    a = np.searchsorted(uc, fd.T, side="right")  # censoring times <= T_i ; u index >= a -> u > T_i
    nU = uc.shape[0]
    C0 = np.cumsum(np.bincount(a[fd.comp], weights=rc[fd.comp], minlength=nU + 1))[:nU]
    C1 = np.stack(
        [
            np.cumsum(np.bincount(a[fd.comp], weights=(rc * X[:, c])[fd.comp], minlength=nU + 1))[
                :nU
            ]
            for c in range(X.shape[1])
        ],
        1,
    )
    # suffix sums over event times t >= u
    b = np.searchsorted(fd.ut, uc, side="left")  # first event time >= u
    sufGH = np.concatenate((np.cumsum(GH[::-1])[::-1], [0.0]))[b]
    sufGHX = np.vstack(
        (np.cumsum((GH[:, None] * xbar)[::-1], axis=0)[::-1], np.zeros((1, X.shape[1])))
    )[b]
    q = C1 * sufGH[:, None] - C0[:, None] * sufGHX
    pi = (fd.T[None, :] >= uc[:, None]).sum(1).astype(float) if nU * len(fd.T) < 5e7 else None
    if pi is None:
        Ts = np.sort(fd.T)
        pi = (len(Ts) - np.searchsorted(Ts, uc, side="left")).astype(float)
    dNc = np.bincount(np.searchsorted(uc, fd.T[cens]), minlength=nU).astype(float)
    qp = q / pi[:, None]
    # dM^c_i(u) = dN^c_i(u) - I(T_i >= u) dN^c(u)/pi(u)
    cum = np.vstack((np.zeros((1, X.shape[1])), np.cumsum(qp * (dNc / pi)[:, None], axis=0)))
    upto = np.searchsorted(uc, fd.T, side="right")  # censoring times <= T_i
    psi = -cum[upto]
    ci = np.flatnonzero(cens)
    psi[ci] += qp[np.searchsorted(uc, fd.T[ci])]
    return U + psi


@dataclass(frozen=True, eq=False)
class FineGrayResult(EstimationResult):
    """``params`` are log subdistribution hazard ratios for the exit of interest."""

    @property
    def hazard_ratios(self) -> pd.Series:
        return np.exp(self.params).rename("subdistribution_hazard_ratio")


class FineGray:
    """Fine–Gray model for the cumulative incidence of one exit type (``cmprsk::crr``).

    Estimand: log subdistribution hazard ratios: covariate effects on the hazard of the
    exit of interest in a risk set that keeps people who left by a competing exit (weighted
    by the inverse probability of censoring, ``G(t-)/G(T_i-)``). Unlike a cause-specific
    hazard ratio, its sign tells the direction of the effect on the cumulative incidence.
    Breslow ties. Standard errors: ``"crr"`` (Fine & Gray's sandwich including the
    estimation of the censoring distribution, as ``crr``) or ``"robust"`` (weights treated
    as known). Assumes censoring independent of covariates (one censoring distribution).
    """

    def __init__(
        self,
        df: pd.DataFrame,
        duration: str,
        cause: str,
        cause_of_interest: int,
        covariates: Sequence[str],
    ) -> None:
        what = "FineGray"
        covariates = [covariates] if isinstance(covariates, str) else list(covariates)
        require_columns(df, [duration, cause, *covariates], what)
        self.df, self.duration, self.cause = df, duration, cause
        self.cause_of_interest = int(cause_of_interest)
        self.covariates = covariates
        self._T, _ = time_columns(df, duration, None, what)
        self._cause = cause_column(df, cause, what)
        self._X = np.column_stack([numeric_column(df, c, what) for c in covariates])

    def fit(self, variance: str = "crr", max_iter: int = 50, tol: float = 1e-10):
        what = "FineGray"
        if not (self._cause == self.cause_of_interest).any():
            raise EstimationError(
                f"{what}: no exits of cause {self.cause_of_interest} in column {self.cause!r}"
            )
        const = [c for c, s in zip(self.covariates, self._X.std(0), strict=True) if s == 0]
        if const:
            raise EstimationError(f"{what}: covariate(s) {const} take a single value")
        fd = _prepare(self._T, self._cause, self._X, self.cause_of_interest)
        p = len(self.covariates)
        beta = np.zeros(p)
        ll, g, imat = _lsi(fd, beta)
        for _it in range(max_iter):
            step = np.linalg.solve(imat, g)
            for _h in range(40):
                nb = beta + step
                ll2, g2, i2 = _lsi(fd, nb)
                if np.isfinite(ll2) and ll2 >= ll - 1e-12 * abs(ll):
                    break
                step = step / 2
            change = abs(ll2 - ll)
            beta, ll, g, imat = nb, ll2, g2, i2
            if change <= tol * max(abs(ll), 1):
                nxt = np.linalg.solve(imat, g)
                if np.all(np.abs(nxt) <= 1e-7 * (1 + np.abs(beta))):
                    break
                if np.any(np.abs(beta) > 4):
                    raise EstimationError(
                        f"{what}: monotone likelihood (perfect separation): coefficients "
                        f"{dict(zip(self.covariates, np.round(beta, 2), strict=True))} diverge"
                    )
        else:
            raise EstimationError(
                f"{what} did not converge in {max_iter} iterations; rescale covariates, drop "
                "collinear ones or raise max_iter"
            )
        inv = np.linalg.inv(imat)
        if variance not in ("crr", "robust"):
            raise ValueError("variance must be 'crr' or 'robust'")
        infl = _influence(fd, beta, with_censoring_term=(variance == "crr"))
        vcov = inv @ (infl.T @ infl) @ inv
        names = self.covariates
        return FineGrayResult(
            params=pd.Series(beta, index=names),
            std_errors=pd.Series(np.sqrt(np.diag(vcov)), index=names),
            method="Fine–Gray subdistribution hazards",
            estimand=f"log subdistribution hazard ratio of exit type {self.cause_of_interest}",
            n={
                "n": len(self.df),
                "n_events": int((self._cause == self.cause_of_interest).sum()),
                "n_competing": int(
                    ((self._cause > 0) & (self._cause != self.cause_of_interest)).sum()
                ),
            },
            assumptions=(
                "Proportional subdistribution hazards.",
                "Censoring independent of covariates and exits (single censoring distribution).",
            ),
            notes=(f"Breslow ties; {variance} standard errors.",),
            extra={
                "loglik": ll,
                "cov": pd.DataFrame(vcov, index=names, columns=names),
                "naive_se": pd.Series(np.sqrt(np.diag(inv)), index=names),
            },
        )
