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
    """Rows prepared for the partial likelihood (prepared once, reused by every iteration).

    Rows are stored sorted by (stratum, stop); ``perm`` maps sorted position -> input row.
    """

    X: np.ndarray  # (n, p) centred covariates, sorted
    means: np.ndarray  # (p,) column means that were subtracted
    weights: np.ndarray  # (n,) case weights, sorted
    event: np.ndarray  # (n,) bool, sorted
    stop: np.ndarray  # (n,) sorted
    start: np.ndarray  # (n,) sorted like stop (-inf without entry)
    perm: np.ndarray  # (n,) input row of each sorted position
    lo: np.ndarray  # (n,) first event-time index at which the row is at risk
    hi: np.ndarray  # (n,) one past the last event-time index (non-decreasing)
    pos: np.ndarray  # (K,) number of rows with hi <= j
    lo_rows: np.ndarray  # rows with lo > 0, sorted by lo
    poslo: np.ndarray  # (K,) number of lo_rows with lo <= j
    jd: np.ndarray  # (n_events,) event-time index of each event row (non-decreasing)
    ev_rows: np.ndarray  # (n_events,) sorted positions of the events
    gstart: np.ndarray  # (K,) first position in ev_rows of each event time
    K: int  # number of distinct (stratum, event time) pairs
    d: np.ndarray  # (K,) number of deaths at each event time
    dw: np.ndarray  # (K,) weighted deaths
    jl: np.ndarray  # (n_events,) event-time index of each fractional risk set (== jd)
    frac: np.ndarray  # (n_events,) Efron fraction l/d (0 for Breslow)
    times: np.ndarray  # (K,) event times
    strata_of_time: np.ndarray  # (K,) stratum code of each event time

    def to_input_order(self, a: np.ndarray) -> np.ndarray:
        out = np.empty_like(a)
        out[self.perm] = a
        return out


def prepare(
    start: np.ndarray | None,
    stop: np.ndarray,
    event: np.ndarray,
    X: np.ndarray,
    strata: np.ndarray | None = None,
    weights: np.ndarray | None = None,
    ties: str = "efron",
) -> CoxData:
    if ties not in ("efron", "breslow"):
        raise ValueError(f"ties must be 'efron' or 'breslow', got {ties!r}")
    n = stop.shape[0]
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    if strata is None:
        perm = np.argsort(stop, kind="stable")
        s = None
    else:
        s_in = np.asarray(strata, dtype=np.int64)
        perm = np.lexsort((stop, s_in))
        s = s_in[perm]
    stop = np.ascontiguousarray(stop[perm], dtype=float)
    event = np.asarray(event, dtype=bool)[perm]
    start = np.full(n, -np.inf) if start is None else np.asarray(start, dtype=float)[perm]
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)[perm]
    Xs = X[perm]
    means = (w @ Xs) / w.sum() if Xs.shape[1] else np.zeros(0)
    Xs -= means

    ev_rows = np.flatnonzero(event)
    ut = np.unique(stop[ev_rows])  # global distinct event times (sorted input: cheap)
    hi_local = np.searchsorted(ut, stop, side="right")
    lo_local = np.searchsorted(ut, start, side="right")
    if s is None:
        K = ut.shape[0]
        hi, lo = hi_local, lo_local
        times, strata_of_time = ut, np.zeros(K, dtype=np.int64)
    else:
        M = ut.shape[0] + 1
        keys = np.unique(s[ev_rows] * M + hi_local[ev_rows] - 1)
        K = keys.shape[0]
        base = s * M
        hi = np.searchsorted(keys, base + hi_local, side="left")
        lo = np.searchsorted(keys, base + lo_local, side="left")
        times, strata_of_time = ut[keys % M], keys // M
    jd = hi[ev_rows] - 1
    d = np.bincount(jd, minlength=K)
    dw = np.bincount(jd, weights=w[ev_rows], minlength=K)
    gstart = np.concatenate(([0], np.cumsum(d)[:-1]))
    rank = np.arange(jd.shape[0]) - gstart[jd]
    frac = rank / d[jd] if ties == "efron" else np.zeros(jd.shape[0])
    jgrid = np.arange(K)
    pos = np.searchsorted(hi, jgrid, side="right")
    lo_rows = np.flatnonzero(lo > 0)
    lo_rows = lo_rows[np.argsort(lo[lo_rows], kind="stable")]
    poslo = np.searchsorted(lo[lo_rows], jgrid, side="right")
    return CoxData(
        X=Xs, means=means, weights=w, event=event, stop=stop, start=start, perm=perm,
        lo=lo, hi=hi, pos=pos, lo_rows=lo_rows, poslo=poslo, jd=jd, ev_rows=ev_rows,
        gstart=gstart, K=K, d=d, dw=dw, jl=jd, frac=frac, times=times,
        strata_of_time=strata_of_time,
    )  # fmt: skip


def _suffix_from(cs: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Sum of rows from ``positions`` to the end, given the cumulative sum ``cs``."""
    tot = cs[-1]
    before = cs[np.maximum(positions - 1, 0)]
    before[positions == 0] = 0.0
    return tot - before


def _riskset_sum(cd: CoxData, V: np.ndarray) -> np.ndarray:
    """Sum of the rows of ``V`` (n, q) over the risk set of every event time: (K, q).

    Rows with ``hi > j`` (stop >= t_j) minus rows not yet entered (``lo > j``).
    """
    if V.shape[0] == 0:
        return np.zeros((cd.K, V.shape[1]))
    S = _suffix_from(np.cumsum(V, axis=0), cd.pos)
    if cd.lo_rows.size:
        S -= _suffix_from(np.cumsum(V[cd.lo_rows], axis=0), cd.poslo)
    return S


def _death_sum(cd: CoxData, V: np.ndarray) -> np.ndarray:
    """Sum of ``V`` over the deaths at each event time: (K, q)."""
    return np.add.reduceat(V[cd.ev_rows], cd.gstart, axis=0)


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
    V = np.empty((r.shape[0], cd.X.shape[1] + 1))
    V[:, 0] = r
    np.multiply(r[:, None], cd.X, out=V[:, 1:])
    S = _riskset_sum(cd, V)
    D = _death_sum(cd, V)
    jl, frac = cd.jl, cd.frac
    den = S[jl, 0] - frac * D[jl, 0]
    num = S[jl, 1:] - frac[:, None] * D[jl, 1:]
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
    return cd.to_input_order(U)


def martingale_residuals(cd: CoxData, beta: np.ndarray) -> np.ndarray:
    pc = _pieces(cd, beta)
    K = cd.K
    h = pc.mw / pc.den
    A = np.bincount(cd.jl, weights=h, minlength=K)
    B = np.bincount(cd.jl, weights=h * cd.frac, minlength=K)
    cumA = np.concatenate(([0.0], np.cumsum(A)))
    cumhaz = cumA[cd.hi] - cumA[cd.lo]
    cumhaz[cd.ev_rows] -= B[cd.jd]
    return cd.to_input_order(cd.event.astype(float) - pc.ex * cumhaz)


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
