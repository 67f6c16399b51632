"""Vectorised partial-likelihood core for Cox models on (start, stop] data.

Everything is computed with a handful of ``bincount``/``cumsum`` passes over the rows:

* distinct event times are indexed per stratum once (``K`` of them, ordered by stratum and
  time); row ``i`` is at risk at event time ``j`` iff ``lo[i] <= j < hi[i]``, where ``lo``/``hi``
  come from ``searchsorted`` on the start and stop times. Risk-set sums are then the cumulative
  sum of a difference array (rows added at ``lo`` and removed at ``hi``) — entry times (left
  truncation, start–stop episodes) are handled by subtracting rows not yet entered.
* the second-moment sum ``sum_j S2_j / S0_j`` is never formed per event time: it equals
  ``X' diag(r_i c_i) X`` with ``c_i`` a difference of cumulative hazards over the row's interval,
  so the information matrix costs one weighted ``X'X`` per iteration.
* Efron ties are handled by expanding each tie group of ``d`` deaths into its ``d`` fractional
  risk sets (one entry per death), Breslow is the case where the fractions are zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from werkeffect.exceptions import EstimationError


@dataclass
class CoxData:
    """Rows prepared for the partial likelihood (prepared once, reused by every iteration)."""

    X: np.ndarray  # (n, p) centred covariates
    means: np.ndarray  # (p,) column means that were subtracted
    weights: np.ndarray  # (n,) case weights
    event: np.ndarray  # (n,) bool
    lo: np.ndarray  # (n,) first event-time index at which the row is at risk
    hi: np.ndarray  # (n,) one past the last event-time index
    jd: np.ndarray  # (n_events,) event-time index of each event row
    ev_rows: np.ndarray  # (n_events,) row numbers of the events
    K: int  # number of distinct (stratum, event time) pairs
    d: np.ndarray  # (K,) number of deaths at each event time
    dw: np.ndarray  # (K,) weighted deaths
    jl: np.ndarray  # (n_events,) event-time index of each fractional risk set
    frac: np.ndarray  # (n_events,) Efron fraction l/d (0 for Breslow)
    times: np.ndarray  # (K,) event times
    strata_of_time: np.ndarray  # (K,) stratum code of each event time


def prepare(
    start: np.ndarray | None,
    stop: np.ndarray,
    event: np.ndarray,
    X: np.ndarray,
    strata: np.ndarray | None = None,
    weights: np.ndarray | None = None,
    ties: str = "efron",
) -> CoxData:
    n = stop.shape[0]
    event = np.asarray(event, dtype=bool)
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    means = (w @ X) / w.sum() if X.shape[1] else np.zeros(0)
    Xc = X - means
    if start is None:
        start = np.full(n, -np.inf)
    s = np.zeros(n, dtype=np.int64) if strata is None else np.asarray(strata, dtype=np.int64)

    ut = np.unique(stop[event])  # global distinct event times
    M = ut.shape[0] + 1
    q_ev = np.searchsorted(ut, stop[event])
    keys = np.unique(s[event] * M + q_ev)  # sorted (stratum, time) keys of event times
    K = keys.shape[0]
    hi_local = np.searchsorted(ut, stop, side="right")
    lo_local = np.searchsorted(ut, start, side="right")
    base = s * M
    hi = np.searchsorted(keys, base + hi_local, side="left")
    lo = np.searchsorted(keys, base + lo_local, side="left")
    ev_rows = np.flatnonzero(event)
    jd = hi[ev_rows] - 1
    d = np.bincount(jd, minlength=K)
    dw = np.bincount(jd, weights=w[ev_rows], minlength=K)
    # fractional risk sets: for each event row its rank within its tie group
    order = np.argsort(jd, kind="stable")
    jl = jd[order]
    first = np.concatenate(([0], np.cumsum(d)[:-1]))
    rank = np.arange(jl.shape[0]) - first[jl]
    if ties == "efron":
        frac = rank / d[jl]
    elif ties == "breslow":
        frac = np.zeros(jl.shape[0])
    else:
        raise ValueError(f"ties must be 'efron' or 'breslow', got {ties!r}")
    times = ut[keys % M]
    return CoxData(
        X=Xc,
        means=means,
        weights=w,
        event=event,
        lo=lo,
        hi=hi,
        jd=jd,
        ev_rows=ev_rows,
        K=K,
        d=d,
        dw=dw,
        jl=jl,
        frac=frac,
        times=times,
        strata_of_time=keys // M,
    )


def _riskset_sum(cd: CoxData, values: np.ndarray) -> np.ndarray:
    """Sum of ``values`` over the risk set of every event time (K,) or (K, p)."""
    K = cd.K
    if values.ndim == 1:
        diff = np.bincount(cd.lo, weights=values, minlength=K + 1)
        diff -= np.bincount(cd.hi, weights=values, minlength=K + 1)
        return np.cumsum(diff[:K])
    out = np.empty((K, values.shape[1]))
    for k in range(values.shape[1]):
        diff = np.bincount(cd.lo, weights=values[:, k], minlength=K + 1)
        diff -= np.bincount(cd.hi, weights=values[:, k], minlength=K + 1)
        out[:, k] = np.cumsum(diff[:K])
    return out


def _death_sum(cd: CoxData, values: np.ndarray) -> np.ndarray:
    K = cd.K
    v = values[cd.ev_rows]
    if v.ndim == 1:
        return np.bincount(cd.jd, weights=v, minlength=K)
    return np.stack(
        [np.bincount(cd.jd, weights=v[:, k], minlength=K) for k in range(v.shape[1])], 1
    )


def _linear_predictor(cd: CoxData, beta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    eta = cd.X @ beta if cd.X.shape[1] else np.zeros(cd.X.shape[0])
    top = eta.max() if eta.size else 0.0
    shift = top - 500.0 if top > 500.0 else 0.0
    ex = np.exp(eta - shift)
    return eta - shift, ex


@dataclass
class _Pieces:
    eta: np.ndarray
    ex: np.ndarray
    r: np.ndarray
    den: np.ndarray  # (n_events,) fractional-risk-set denominators
    xbar: np.ndarray  # (n_events, p)
    mw: np.ndarray  # (n_events,) mean death weight of the tie group


def _pieces(cd: CoxData, beta: np.ndarray) -> _Pieces:
    eta, ex = _linear_predictor(cd, beta)
    r = cd.weights * ex
    rX = r[:, None] * cd.X
    S0 = _riskset_sum(cd, r)
    S1 = _riskset_sum(cd, rX)
    D0 = _death_sum(cd, r)
    D1 = _death_sum(cd, rX)
    jl, frac = cd.jl, cd.frac
    den = S0[jl] - frac * D0[jl]
    num = S1[jl] - frac[:, None] * D1[jl]
    with np.errstate(divide="ignore", invalid="ignore"):
        xbar = num / den[:, None]
    mw = (cd.dw / cd.d)[jl]
    return _Pieces(eta, ex, r, den, xbar, mw)


def loglik_score_info(
    cd: CoxData, beta: np.ndarray, time_weight: np.ndarray | None = None, info: bool = True
) -> tuple[float, np.ndarray, np.ndarray | None, _Pieces]:
    """Log partial likelihood, score and observed information at ``beta``.

    ``time_weight`` (K,) multiplies every event time's contribution to the score and the
    information (used by the proportional-hazards test); the log likelihood ignores it.
    """
    pc = _pieces(cd, beta)
    w = cd.weights
    ev = cd.ev_rows
    with np.errstate(divide="ignore", invalid="ignore"):
        ll = float(w[ev] @ pc.eta[ev] - pc.mw @ np.log(pc.den))
    mw = pc.mw if time_weight is None else pc.mw * time_weight[cd.jl]
    wd = w[ev] if time_weight is None else w[ev] * time_weight[cd.jd]
    score = wd @ cd.X[ev] - mw @ pc.xbar
    if not info:
        return ll, score, None, pc
    K = cd.K
    h = mw / pc.den
    A = np.bincount(cd.jl, weights=h, minlength=K)
    B = np.bincount(cd.jl, weights=h * cd.frac, minlength=K)
    cumA = np.concatenate(([0.0], np.cumsum(A)))
    coef = cumA[cd.hi] - cumA[cd.lo]
    coef[ev] -= B[cd.jd]
    c = pc.r * coef
    imat = (cd.X * c[:, None]).T @ cd.X - (pc.xbar * mw[:, None]).T @ pc.xbar
    return ll, score, imat, pc


def score_residuals(cd: CoxData, beta: np.ndarray) -> np.ndarray:
    """Unweighted score residuals per row (R: ``residuals(fit, type="score")``)."""
    pc = _pieces(cd, beta)
    K = cd.K
    h = pc.mw / pc.den  # hazard increment per fractional risk set (per unit risk weight r)
    A = np.bincount(cd.jl, weights=h, minlength=K)
    B = np.bincount(cd.jl, weights=h * cd.frac, minlength=K)
    p = cd.X.shape[1]
    HX = np.stack([np.bincount(cd.jl, weights=h * pc.xbar[:, k], minlength=K) for k in range(p)], 1)
    BX = np.stack(
        [np.bincount(cd.jl, weights=h * cd.frac * pc.xbar[:, k], minlength=K) for k in range(p)], 1
    )
    XB = np.stack([np.bincount(cd.jl, weights=pc.xbar[:, k], minlength=K) for k in range(p)], 1)
    xbarbar = XB / cd.d[:, None]
    cumA = np.concatenate(([0.0], np.cumsum(A)))
    cumHX = np.vstack((np.zeros((1, p)), np.cumsum(HX, axis=0)))
    ex = pc.ex
    U = -ex[:, None] * (cd.X * (cumA[cd.hi] - cumA[cd.lo])[:, None] - (cumHX[cd.hi] - cumHX[cd.lo]))
    ev, jd = cd.ev_rows, cd.jd
    U[ev] += cd.X[ev] - xbarbar[jd]
    U[ev] += ex[ev, None] * (cd.X[ev] * B[jd][:, None] - BX[jd])
    return U


def martingale_residuals(cd: CoxData, beta: np.ndarray) -> np.ndarray:
    pc = _pieces(cd, beta)
    K = cd.K
    h = pc.mw / pc.den
    A = np.bincount(cd.jl, weights=h, minlength=K)
    B = np.bincount(cd.jl, weights=h * cd.frac, minlength=K)
    cumA = np.concatenate(([0.0], np.cumsum(A)))
    cumhaz = cumA[cd.hi] - cumA[cd.lo]
    cumhaz[cd.ev_rows] -= B[cd.jd]
    return cd.event.astype(float) - pc.ex * cumhaz


def baseline_hazard(cd: CoxData, beta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Breslow/Efron baseline hazard increments at each event time (covariates at their means)."""
    pc = _pieces(cd, beta)
    h = pc.mw / pc.den
    A = np.bincount(cd.jl, weights=h, minlength=cd.K)
    # pc.ex is relative to a shift; undo it so the hazard refers to eta = 0 (centred X)
    eta_true = cd.X @ beta if cd.X.shape[1] else np.zeros(cd.X.shape[0])
    shift = float((eta_true - pc.eta)[0]) if eta_true.size else 0.0
    return cd.times, cd.strata_of_time, A * np.exp(-shift)


@dataclass
class NewtonResult:
    beta: np.ndarray
    loglik: float
    loglik_null: float
    score: np.ndarray
    imat: np.ndarray
    n_iter: int


def newton(
    cd: CoxData,
    names: list[str],
    init: np.ndarray | None = None,
    max_iter: int = 50,
    tol: float = 1e-10,
) -> NewtonResult:
    """Newton–Raphson with step halving; raises on separation and non-convergence."""
    p = cd.X.shape[1]
    beta = np.zeros(p) if init is None else np.asarray(init, dtype=float).copy()
    ll, g, imat, _ = loglik_score_info(cd, beta)
    ll0 = ll if init is None else loglik_score_info(cd, np.zeros(p), info=False)[0]
    if p == 0:
        return NewtonResult(beta, ll, ll, g, np.zeros((0, 0)), 0)
    for it in range(1, max_iter + 1):
        try:
            step = np.linalg.solve(imat, g)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(imat, g, rcond=None)[0]
        halvings = 0
        while True:
            nb = beta + step
            ll2, g2, i2, _ = loglik_score_info(cd, nb)
            if np.isfinite(ll2) and ll2 >= ll - 1e-12 * abs(ll):
                break
            step = step / 2
            halvings += 1
            if halvings > 40:
                raise EstimationError(
                    "Cox model: the partial likelihood could not be improved (step halving "
                    "failed). Try: rescale covariates (e.g. age in decades), drop collinear "
                    "covariates, or give starting values via fit(init=...)."
                )
        change = abs(ll2 - ll)
        small_ll = change <= tol * max(abs(ll2), 1.0)
        beta, ll, g, imat = nb, ll2, g2, i2
        if small_ll:
            try:
                nxt = np.linalg.solve(imat, g)
            except np.linalg.LinAlgError:
                nxt = np.full(p, np.inf)
            if np.all(np.abs(nxt) <= 1e-7 * (1 + np.abs(beta))):
                return NewtonResult(beta, ll, ll0, g, imat, it)
            # log likelihood flat but coefficients still moving: monotone likelihood
            moving = np.abs(nxt) > 1e-4 * (1 + np.abs(beta))
            if np.any(moving & (np.abs(beta) > 4)) or not np.all(np.isfinite(nxt)):
                bad = [names[k] for k in np.flatnonzero(moving)] or names
                raise EstimationError(
                    "Cox model: monotone likelihood (perfect separation) — the coefficient(s) "
                    f"of {', '.join(bad)} diverge to ±infinity "
                    f"(current values {np.round(beta[moving], 2).tolist()}). Typically all "
                    "events occur in one category (or none in one), so the hazard ratio is 0 or "
                    "infinite. Collapse categories, drop the covariate, or use a penalised model."
                )
    raise EstimationError(
        f"Cox model did not converge in {max_iter} Newton–Raphson iterations "
        f"(last change in log likelihood {change:.3g}). Try: fit(max_iter=...) larger, "
        "rescale covariates (e.g. age in decades), remove near-collinear covariates, check for "
        "categories with (almost) no events, or pass starting values via fit(init=...)."
    )
