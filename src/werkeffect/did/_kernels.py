"""The 2x2 DiD building blocks with their influence functions.

Outcome regression (Heckman, Ichimura & Todd 1997), normalised IPW (Abadie 2005) and the
doubly robust estimator of Sant'Anna & Zhao (2020, "traditional" DR for panels, locally
efficient DR for repeated cross sections) — the estimators R's ``did``/``DRDID`` use for each
ATT(g,t) cell. Each function returns ``(att, influence)`` where ``influence`` has one entry
per observation and is normalised so that ``sqrt(mean(influence**2) / n)`` is the
standard error (the DRDID convention).

``x`` is the covariate design **including** the intercept column.
"""

from __future__ import annotations

import numpy as np

from werkeffect.exceptions import EstimationError

TRIM_LEVEL = 0.995


class SingularDesign(EstimationError):
    """A covariate design is singular; the message names the cell and the sample."""


def _inv(mat: np.ndarray, label: str) -> np.ndarray:
    try:
        rc = 1.0 / np.linalg.cond(mat, 1)
    except np.linalg.LinAlgError:
        rc = 0.0
    if not np.isfinite(rc) or rc < np.finfo(float).eps:
        raise SingularDesign(f"the {label} design is singular (collinear or constant covariates)")
    return np.linalg.inv(mat)


def _wls(y: np.ndarray, x: np.ndarray, w: np.ndarray, label: str) -> np.ndarray:
    if np.count_nonzero(w > 0) < x.shape[1]:
        raise SingularDesign(f"the {label} design has fewer observations than covariates")
    xtwx = (x * w[:, None]).T @ x
    inv = _inv(xtwx / len(y), label)
    return inv @ ((x * w[:, None]).T @ y) / len(y)


def logit(d: np.ndarray, x: np.ndarray, w: np.ndarray, tol: float = 1e-12) -> np.ndarray:
    """Weighted logistic regression by Newton-Raphson; returns fitted probabilities."""
    if np.count_nonzero(w > 0) < x.shape[1]:
        raise SingularDesign("the propensity-score design has fewer observations than covariates")
    _inv((x * w[:, None]).T @ x / len(d), "propensity-score")
    pbar = np.average(d, weights=w)
    beta = np.zeros(x.shape[1])
    beta[0] = np.log(pbar / (1 - pbar))
    for _ in range(100):
        eta = x @ beta
        p = 1.0 / (1.0 + np.exp(-eta))
        grad = x.T @ (w * (d - p))
        hess = (x * (w * p * (1 - p))[:, None]).T @ x
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError as err:
            raise SingularDesign("the propensity-score Hessian is singular") from err
        beta = beta + step
        if np.max(np.abs(step)) < tol * (1 + np.max(np.abs(beta))):
            break
    else:  # pragma: no cover - pathological separation
        raise EstimationError(
            "the propensity-score model did not converge (perfect separation of treated "
            "and comparison units on the covariates?)"
        )
    return 1.0 / (1.0 + np.exp(-(x @ beta)))


def _pscore(d: np.ndarray, x: np.ndarray, w: np.ndarray):
    ps = np.minimum(logit(d, x, w), 1 - 1e-6)
    trim = np.ones(len(d), dtype=bool)
    ctrl = d == 0
    trim[ctrl] = ps[ctrl] < TRIM_LEVEL
    info = (x * (w * ps * (1 - ps))[:, None]).T @ x
    hess_inv = _inv(info, "propensity-score") * len(d)
    alr_ps = (x * (w * (d - ps))[:, None]) @ hess_inv
    return ps, trim.astype(float), alr_ps


def _alr_wols(y, x, w, mask, beta):
    n = len(y)
    wo = w * mask
    xtwx = (x * wo[:, None]).T @ x / n
    inv = _inv(xtwx, "outcome-regression")
    return (x * (wo * (y - x @ beta))[:, None]) @ inv


def _positive(*ws: np.ndarray) -> None:
    for w in ws:
        if not np.mean(w) > 0:
            raise EstimationError(
                "a treatment/period group has no observations with positive weight "
                "(after propensity-score trimming)"
            )


def panel_2x2(
    dy: np.ndarray, d: np.ndarray, x: np.ndarray, method: str, w: np.ndarray | None = None
) -> tuple[float, np.ndarray]:
    """ATT and influence function from a panel: ``dy`` = Y(post) - Y(pre), ``d`` = 0/1."""
    n = len(d)
    w = np.ones(n) if w is None else w / np.mean(w)
    if method == "reg":
        ctrl = d == 0
        beta = _wls(dy[ctrl], x[ctrl], w[ctrl], "outcome-regression (comparison units)")
        out = x @ beta
        wt = w * d
        _positive(wt)
        eta_t = np.mean(wt * dy) / np.mean(wt)
        eta_c = np.mean(wt * out) / np.mean(wt)
        alr = _alr_wols(dy, x, w, 1 - d, beta)
        inf_t = (wt * dy - wt * eta_t) / np.mean(wt)
        m1 = np.mean(wt[:, None] * x, axis=0)
        inf_c = (wt * out - wt * eta_c + alr @ m1) / np.mean(wt)
        return float(eta_t - eta_c), inf_t - inf_c
    ps, trim, alr_ps = _pscore(d, x, w)
    wt = trim * w * d
    wc = trim * w * ps * (1 - d) / (1 - ps)
    _positive(wt, wc)
    if method == "ipw":
        eta_t = np.mean(wt * dy) / np.mean(wt)
        eta_c = np.mean(wc * dy) / np.mean(wc)
        inf_t = (wt * dy - wt * eta_t) / np.mean(wt)
        m2 = np.mean((wc * (dy - eta_c))[:, None] * x, axis=0)
        inf_c = (wc * dy - wc * eta_c + alr_ps @ m2) / np.mean(wc)
        return float(eta_t - eta_c), inf_t - inf_c
    if method != "dr":
        raise ValueError(f"method must be 'dr', 'ipw' or 'reg', got {method!r}")
    ctrl = d == 0
    beta = _wls(dy[ctrl], x[ctrl], w[ctrl], "outcome-regression (comparison units)")
    out = x @ beta
    r = dy - out
    eta_t = np.mean(wt * r) / np.mean(wt)
    eta_c = np.mean(wc * r) / np.mean(wc)
    alr = _alr_wols(dy, x, w, 1 - d, beta)
    m1 = np.mean(wt[:, None] * x, axis=0)
    inf_t = (wt * r - wt * eta_t - alr @ m1) / np.mean(wt)
    m2 = np.mean((wc * (r - eta_c))[:, None] * x, axis=0)
    m3 = np.mean(wc[:, None] * x, axis=0)
    inf_c = (wc * r - wc * eta_c + alr_ps @ m2 - alr @ m3) / np.mean(wc)
    return float(eta_t - eta_c), inf_t - inf_c


def rc_2x2(
    y: np.ndarray,
    post: np.ndarray,
    d: np.ndarray,
    x: np.ndarray,
    method: str,
    w: np.ndarray | None = None,
) -> tuple[float, np.ndarray]:
    """ATT and influence function from repeated cross sections (one row per observation)."""
    n = len(d)
    w = np.ones(n) if w is None else w / np.mean(w)
    c_pre = (d == 0) & (post == 0)
    c_post = (d == 0) & (post == 1)
    if method == "reg":
        b_pre = _wls(y[c_pre], x[c_pre], w[c_pre], "outcome-regression (comparison, pre)")
        b_post = _wls(y[c_post], x[c_post], w[c_post], "outcome-regression (comparison, post)")
        o_pre, o_post = x @ b_pre, x @ b_post
        wtp, wtq, wt = w * d * (1 - post), w * d * post, w * d
        _positive(wtp, wtq)
        e_pre = np.mean(wtp * y) / np.mean(wtp)
        e_post = np.mean(wtq * y) / np.mean(wtq)
        e_c = np.mean(wt * (o_post - o_pre)) / np.mean(wt)
        alr_pre = _alr_wols(y, x, w, c_pre, b_pre)
        alr_post = _alr_wols(y, x, w, c_post, b_post)
        i_pre = (wtp * y - wtp * e_pre) / np.mean(wtp)
        i_post = (wtq * y - wtq * e_post) / np.mean(wtq)
        mom = np.mean(wt[:, None] * x, axis=0)
        i_c = (wt * (o_post - o_pre) - wt * e_c + alr_post @ mom - alr_pre @ mom) / np.mean(wt)
        return float(e_post - e_pre - e_c), i_post - i_pre - i_c
    ps, trim, alr_ps = _pscore(d, x, w)
    wtp = trim * w * d * (1 - post)
    wtq = trim * w * d * post
    wcp = trim * w * ps * (1 - d) * (1 - post) / (1 - ps)
    wcq = trim * w * ps * (1 - d) * post / (1 - ps)
    _positive(wtp, wtq, wcp, wcq)
    if method == "ipw":
        a_tp = np.mean(wtp * y) / np.mean(wtp)
        a_tq = np.mean(wtq * y) / np.mean(wtq)
        a_cp = np.mean(wcp * y) / np.mean(wcp)
        a_cq = np.mean(wcq * y) / np.mean(wcq)
        att = (a_tq - a_tp) - (a_cq - a_cp)
        i_t = (wtq * (y - a_tq)) / np.mean(wtq) - (wtp * (y - a_tp)) / np.mean(wtp)
        i_c = (wcq * (y - a_cq)) / np.mean(wcq) - (wcp * (y - a_cp)) / np.mean(wcp)
        m2p = np.mean((wcp * (y - a_cp))[:, None] * x, axis=0) / np.mean(wcp)
        m2q = np.mean((wcq * (y - a_cq))[:, None] * x, axis=0) / np.mean(wcq)
        i_c = i_c + alr_ps @ (m2q - m2p)
        return float(att), i_t - i_c
    if method != "dr":
        raise ValueError(f"method must be 'dr', 'ipw' or 'reg', got {method!r}")
    t_pre = (d == 1) & (post == 0)
    t_post = (d == 1) & (post == 1)
    b_cp = _wls(y[c_pre], x[c_pre], w[c_pre], "outcome-regression (comparison, pre)")
    b_cq = _wls(y[c_post], x[c_post], w[c_post], "outcome-regression (comparison, post)")
    b_tp = _wls(y[t_pre], x[t_pre], w[t_pre], "outcome-regression (treated, pre)")
    b_tq = _wls(y[t_post], x[t_post], w[t_post], "outcome-regression (treated, post)")
    o_cp, o_cq, o_tp, o_tq = x @ b_cp, x @ b_cq, x @ b_tp, x @ b_tq
    o_c = post * o_cq + (1 - post) * o_cp
    wd = trim * w * d
    wd1 = trim * w * d * post
    wd0 = trim * w * d * (1 - post)
    r = y - o_c

    def _m(v):
        return np.mean(v)

    a_tp = _m(wtp * r) / _m(wtp)
    a_tq = _m(wtq * r) / _m(wtq)
    a_cp = _m(wcp * r) / _m(wcp)
    a_cq = _m(wcq * r) / _m(wcq)
    a_dq = _m(wd * (o_tq - o_cq)) / _m(wd)
    a_d1 = _m(wd1 * (o_tq - o_cq)) / _m(wd1)
    a_dp = _m(wd * (o_tp - o_cp)) / _m(wd)
    a_d0 = _m(wd0 * (o_tp - o_cp)) / _m(wd0)
    att = (a_tq - a_tp) - (a_cq - a_cp) + (a_dq - a_d1) - (a_dp - a_d0)

    alr_cp = _alr_wols(y, x, w, c_pre, b_cp)
    alr_cq = _alr_wols(y, x, w, c_post, b_cq)
    alr_tp = _alr_wols(y, x, w, t_pre, b_tp)
    alr_tq = _alr_wols(y, x, w, t_post, b_tq)

    i_tp = wtp * r / _m(wtp) - wtp * a_tp / _m(wtp)
    i_tq = wtq * r / _m(wtq) - wtq * a_tq / _m(wtq)
    m1q = -np.mean((wtq * post)[:, None] * x, axis=0) / _m(wtq)
    m1p = -np.mean((wtp * (1 - post))[:, None] * x, axis=0) / _m(wtp)
    i_t_or = alr_cq @ m1q - alr_cp @ m1p
    i_cp = wcp * r / _m(wcp) - wcp * a_cp / _m(wcp)
    i_cq = wcq * r / _m(wcq) - wcq * a_cq / _m(wcq)
    m2p = np.mean((wcp * (r - a_cp))[:, None] * x, axis=0) / _m(wcp)
    m2q = np.mean((wcq * (r - a_cq))[:, None] * x, axis=0) / _m(wcq)
    i_c_ps = alr_ps @ (m2q - m2p)
    m3q = -np.mean((wcq * post)[:, None] * x, axis=0) / _m(wcq)
    m3p = -np.mean((wcp * (1 - post))[:, None] * x, axis=0) / _m(wcp)
    i_c_or = alr_cq @ m3q - alr_cp @ m3p
    e1 = wd * (o_tq - o_cq) / _m(wd) - wd * a_dq / _m(wd)
    e2 = wd1 * (o_tq - o_cq) / _m(wd1) - wd1 * a_d1 / _m(wd1)
    e3 = wd * (o_tp - o_cp) / _m(wd) - wd * a_dp / _m(wd)
    e4 = wd0 * (o_tp - o_cp) / _m(wd0) - wd0 * a_d0 / _m(wd0)
    i_eff = (e1 - e2) - (e3 - e4)
    mom_q = np.mean((wd / _m(wd) - wd1 / _m(wd1))[:, None] * x, axis=0)
    mom_p = np.mean((wd / _m(wd) - wd0 / _m(wd0))[:, None] * x, axis=0)
    i_or = (alr_tq - alr_cq) @ mom_q - (alr_tp - alr_cp) @ mom_p
    i_t = i_tq - i_tp + i_t_or
    i_c = i_cq - i_cp + i_c_ps + i_c_or
    return float(att), i_t - i_c + i_eff + i_or
