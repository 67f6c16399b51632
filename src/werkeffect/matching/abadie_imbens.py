"""ATT after nearest-neighbour matching with Abadie–Imbens standard errors.

References: Abadie & Imbens (2006, Econometrica 74(1)) for the variance of matching
estimators; Abadie & Imbens (2011, JBES 29(1)) for the bias correction; Abadie & Imbens
(2016, Econometrica 84(2)) for matching on an estimated propensity score.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from werkeffect.exceptions import EstimationError, warn_estimation
from werkeffect.matching._utils import covariate_matrix, knn_1d, outcome_array, stable_argsort
from werkeffect.matching.effects import MatchingEffectResult

if TYPE_CHECKING:
    from werkeffect.matching.nearest import MatchResult

__all__ = ["matching_att", "ai_variance_att", "ps_adjustment_att"]


def ai_variance_att(
    y: np.ndarray,
    unit_effect: np.ndarray,
    tau: float,
    control_y: np.ndarray,
    k_m: np.ndarray,
    k_m2: np.ndarray,
    sigma2_control: np.ndarray,
) -> dict[str, float]:
    """Abadie–Imbens (2006) variance of the matching ATT (population ATT).

    V = [ sum_treated (Y_i - Yhat_i(0) - tau)^2
          + sum_controls (K_M(i)^2 - K'_M(i)) sigma^2(X_i, 0) ] / N1^2,

    with K_M(i) = sum over treated l matched to i of 1/M_l and K'_M(i) = sum of 1/M_l^2
    (M_l = number of controls matched to l). Without replacement K_M(i) is 0 or 1/M_l and the
    second term is zero or negative only through multiple matches; it vanishes for 1:1 pairs.
    """
    n1 = len(unit_effect)
    term_t = float(np.sum((unit_effect - tau) ** 2))
    term_c = float(np.sum((k_m**2 - k_m2) * sigma2_control))
    var = (term_t + term_c) / n1**2
    return {"treated_term": term_t / n1**2, "control_term": term_c / n1**2, "variance": var}


_THREAD_MIN_ROWS = 200_000  # ps_adjustment_att runs its group passes in threads from here


def _runs(sorted_ref: np.ndarray, query: np.ndarray, right: np.ndarray, sizes: tuple[int, ...]):
    """Start/stop (in sorted order) of the ``L`` nearest reference values of each query, for
    every ``L`` in ``sizes``.

    ``right`` is each query's insertion position in ``sorted_ref``; on a line the L nearest
    neighbours are a contiguous run, grown by vectorised two-pointer steps (the run of size L
    is the state after L steps, so all sizes come from one pass)."""
    last = len(sorted_ref) - 1
    left = right - 1
    out = {}
    for step in range(1, max(sizes) + 1):
        dl = query - sorted_ref[np.maximum(left, 0)]
        dl[left < 0] = np.inf
        dr = sorted_ref[np.minimum(right, last)] - query
        dr[right > last] = np.inf
        take_left = dl <= dr
        left = left - take_left
        right = right + ~take_left
        if step in sizes:
            out[step] = (left + 1, right.copy())
    return out


def _window_weights(a: np.ndarray, b: np.ndarray, h: np.ndarray, n: int) -> np.ndarray:
    """C_j = sum of h_i over the windows [a_i, b_i) that contain j (j = 0..n-1): a sum over
    windows of window sums becomes one weighted sum over the reference units."""
    diff = np.bincount(a, weights=h, minlength=n + 1) - np.bincount(b, weights=h, minlength=n + 1)
    return np.cumsum(diff[:n])


def ps_adjustment_att(
    score: np.ndarray,
    p: np.ndarray,
    design: np.ndarray,
    d: np.ndarray,
    y: np.ndarray,
    tau: float,
    n_matches: int,
    L: int = 4,
    order: np.ndarray | None = None,
) -> dict[str, float]:
    """Abadie & Imbens (2016) adjustment of the ATT variance for an estimated logit score.

    Var_adj = V_AI - c' I^-1 c / N + g' I^-1 g / N, with (sums over all N units)
      c = (1/N1) sum_i f_i [cov(X, mu(1,X) | p_i) + p_i/(1-p_i) cov(X, mu(0,X) | p_i)],
      g = (1/N1) sum_i f_i X_i (Yhat_i(1) - Yhat_i(0) - tau),
      I = (1/N) sum_i f_i X_i X_i',  f_i = p_i (1 - p_i)  (logit density),
    where the conditional covariances are estimated from the ``L`` nearest units of each
    treatment group on the score, and Yhat_i(w) are the observed outcome for the unit's own
    group and the mean of its ``n_matches`` nearest neighbours on the score in the other group.

    All quantities are sums over units, so the work is done in score order: each group's
    sorted values are a subsequence of the globally sorted scores, insertion positions are
    running counts, and the neighbours of a unit are contiguous runs of that group. A weighted
    sum over units of window sums equals a sum over the group's units weighted by how much
    window weight covers them (:func:`_window_weights`), so c needs O(N) scalar work plus one
    product with the group's covariates (O(N log N) for the one sort). Returns the
    adjustment and its two parts.
    """
    N = len(d)
    n1 = int(d.sum())
    if order is None:  # else: the stable sort order of ``score``, computed by the caller
        order = stable_argsort(np.asarray(score, dtype=float))
    s, pp, dd = score[order], p[order], d[order]
    yy = y[order].astype(float)
    f = pp * (1 - pp)

    def group_pass(w: int) -> tuple[np.ndarray, np.ndarray]:
        in_w = dd == w
        n_w = int(in_w.sum())
        ref = s[in_w]
        right = np.cumsum(in_w) - in_w  # group-w units before each unit
        Xw = design[order[in_w]]
        Xw -= Xw.mean(axis=0)
        yw = yy[in_w] - yy[in_w].mean()
        Lw = min(L, n_w)
        M = min(n_matches, n_w)
        runs = _runs(ref, s, right, tuple(sorted({Lw, M})))
        a, b = runs[Lw]
        weight = f if w == 1 else f * pp / (1 - pp)
        # sum_i weight_i cov_i with cov_i = (S_XY - S_X S_Y / Lw) / (Lw - 1) over i's window
        SY = np.concatenate([[0.0], np.cumsum(yw)])
        h2 = weight * (SY[b] - SY[a]) / Lw
        C1 = _window_weights(a, b, weight, n_w)
        C2 = _window_weights(a, b, h2, n_w)
        c_w = (Xw.T @ (C1 * yw - C2)) / (Lw - 1)
        # mean outcome of the n_matches nearest group-w units, for units of the other group
        a, b = runs[M]
        Sy = np.concatenate([[0.0], np.cumsum(yy[in_w])])
        return c_w, np.where(in_w, yy, (Sy[b] - Sy[a]) / M)

    def information() -> np.ndarray:
        fo = np.empty(N)
        fo[order] = f
        return (design * fo[:, None]).T @ design / N

    if N >= _THREAD_MIN_ROWS:
        # numpy releases the GIL in these loops: the two groups and the information matrix
        # run in threads (helps the wall time when a second core is free)
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=3) as pool:
            jobs = [pool.submit(group_pass, 1), pool.submit(group_pass, 0)]
            job_info = pool.submit(information)
            (c1, yhat1), (c0, yhat0) = (j.result() for j in jobs)
            info = job_info.result()
    else:
        (c1, yhat1), (c0, yhat0) = group_pass(1), group_pass(0)
        info = information()
    cvec = (c1 + c0) / n1
    # g is a sum over units: no need to sort the design
    v = np.empty(N)
    v[order] = f * (yhat1 - yhat0 - tau)
    g = design.T @ v / n1
    Iinv = np.linalg.pinv(info)
    minus = float(cvec @ Iinv @ cvec) / N
    plus = float(g @ Iinv @ g) / N
    return {"ps_minus": minus, "ps_plus": plus, "adjustment": plus - minus}


def matching_att(
    res: MatchResult,
    outcome: str,
    se: str = "ai",
    bias_adjust: bool = False,
    ps_adjust: bool = True,
    variance_matches: int = 1,
) -> MatchingEffectResult:
    df = res.df
    y = outcome_array(df, outcome)
    d = res.d
    mm = res.match_rows
    has = mm >= 0
    m = has.sum(axis=1)
    keep_t = m > 0
    if not keep_t.any():
        raise EstimationError("no treated unit was matched")
    t_rows = res.treated_rows[keep_t]
    mmk = mm[keep_t]
    hk = has[keep_t]
    mk = m[keep_t]
    yc = np.where(hk, y[np.maximum(mmk, 0)], 0.0)
    notes = list(res.notes)
    if bias_adjust:
        X, _ = covariate_matrix(df, list(res.covariates), drop_first=True, check_constant=False)
        beta = _bias_coefficients(X, y, mmk, hk)
        Xt = X[t_rows]
        Xm = np.where(hk[..., None], X[np.maximum(mmk, 0)], 0.0)
        adj = np.einsum("nkp,p->nk", Xt[:, None, :] - Xm, beta)
        yc = np.where(hk, yc + adj, 0.0)
        notes.append("bias-corrected matching estimator (Abadie & Imbens 2011)")
    yhat0 = yc.sum(axis=1) / mk
    unit = y[t_rows] - yhat0
    tau = float(unit.mean())
    n1 = len(t_rows)
    components: dict[str, float] = {}
    n_control_used = int(np.unique(mmk[hk]).size)
    if se == "ai":
        rows_c = mmk[hk]
        share = (1.0 / np.repeat(mk, hk.sum(axis=1))).astype(float)
        # K_M and K'_M per used control (rows in ascending order, as np.unique gives them)
        n_rows = len(y)
        uniq = np.flatnonzero(np.bincount(rows_c, minlength=n_rows))
        k_m = np.bincount(rows_c, weights=share, minlength=n_rows)[uniq]
        k_m2 = np.bincount(rows_c, weights=share**2, minlength=n_rows)[uniq]
        # one sort of the score serves the conditional variances and the 2016 adjustment
        score = res.distance.to_numpy(dtype=float)
        order = stable_argsort(score) if res.distance.notna().all() else None
        sigma2 = _conditional_variance(res, y, uniq, variance_matches, order=order)
        components = ai_variance_att(y, unit, tau, y[uniq], k_m, k_m2, sigma2)
        var = components["variance"]
        estimated_ps = res.propensity is not None and res.distance.notna().all()
        if ps_adjust and estimated_ps and res.replace and res.support is None:
            pr = res.propensity
            adj = ps_adjustment_att(
                score,
                pr.ps.to_numpy(),
                pr.design,
                d,
                y,
                tau,
                n_matches=res.ratio,
                order=order,
            )
            components.update(adj)
            if var + adj["adjustment"] > 0:
                var = var + adj["adjustment"]
                notes.append(
                    "Abadie-Imbens (2016) correction for the estimated propensity score applied"
                )
            else:
                warn_estimation(
                    "the Abadie-Imbens (2016) correction would make the variance negative; "
                    "reporting the uncorrected Abadie-Imbens standard error",
                    "de correctie van Abadie en Imbens (2016) zou de variantie negatief maken; "
                    "de standaardfout is daarom die van Abadie-Imbens zonder correctie",
                    stacklevel=3,
                )
        elif estimated_ps and not res.replace:
            notes.append(
                "Abadie-Imbens standard error for matching without replacement: the propensity "
                "score is treated as known (the 2016 correction is derived for matching with "
                "replacement)"
            )
        components["variance"] = var
        std = float(np.sqrt(var))
        method = "Nearest-neighbour matching, Abadie-Imbens SE"
    elif se == "regression":
        from werkeffect.matching._utils import weighted_effect_regression

        w = res.weights.to_numpy()
        cluster = None if res.replace else res.subclass.fillna(-1).to_numpy()
        est, std, _ = weighted_effect_regression(y, d, w, cluster=cluster)
        if not bias_adjust:
            tau = est
        method = "Nearest-neighbour matching, weighted regression SE (clustered on matched sets)"
    else:
        raise ValueError("se must be 'ai' or 'regression'")
    pairs = pd.DataFrame(
        {
            "treated_unit": df.index[t_rows],
            "y_treated": y[t_rows],
            "y_control": yhat0,
            "n_controls": mk,
        }
    )
    return MatchingEffectResult(
        params=pd.Series({"ATT": tau}),
        std_errors=pd.Series({"ATT": std}),
        method=method + f" ({res.method})",
        estimand=f"ATT on '{outcome}' among the matched treated units",
        n={"n_treated": n1, "n_control": n_control_used},
        assumptions=(
            "no unmeasured confounding given the matching covariates",
            "overlap: every matched treated unit has comparable controls",
        ),
        notes=tuple(notes),
        extra={
            "unit_effects": pd.Series(unit, index=df.index[t_rows], name="unit_effect"),
            "variance_components": components,
            "pairs": pairs,
            "outcome": outcome,
        },
    )


def _bias_coefficients(X: np.ndarray, y: np.ndarray, mm: np.ndarray, has: np.ndarray) -> np.ndarray:
    """Regression of Y on X among matched controls, each weighted by how often it is used."""
    rows = mm[has]
    uniq, counts = np.unique(rows, return_counts=True)
    Xd = np.column_stack([np.ones(len(uniq)), X[uniq]])
    sw = np.sqrt(counts.astype(float))
    beta, *_ = np.linalg.lstsq(Xd * sw[:, None], y[uniq] * sw, rcond=None)
    return beta[1:]


def _conditional_variance(
    res: MatchResult, y: np.ndarray, rows: np.ndarray, J: int, order: np.ndarray | None = None
) -> np.ndarray:
    """sigma^2(X_i, W_i) by matching within the unit's own group (Abadie-Imbens 2006):
    J/(J+1) * (Y_i - mean of the J nearest same-group units)^2. ``order``: the stable sort
    order of the distance over all rows (its subsequence in a group is that group's order)."""
    d = res.d
    group = d[rows]
    out = np.zeros(len(rows))
    for g in (0, 1):
        sel = group == g
        if not sel.any():
            continue
        pool = np.flatnonzero(d == g)
        if len(pool) < 2:
            continue
        pos_in_pool = np.searchsorted(pool, rows[sel])
        if res.distance.notna().all():
            dist = res.distance.to_numpy()[pool]
            sub = None
            if order is not None:
                pos = np.cumsum(d == g) - 1  # position of each row within its group's pool
                sub = pos[order[d[order] == g]]
            idx, _ = knn_1d(dist[pos_in_pool], dist, J, self_index=pos_in_pool, order=sub)
        else:
            from scipy.spatial import cKDTree

            Z = res.whitened[pool]
            jj = min(J + 1, len(pool))
            _, nb = cKDTree(Z).query(Z[pos_in_pool], k=jj)
            nb = nb.reshape(len(pos_in_pool), jj)
            not_self = nb != pos_in_pool[:, None]
            order = np.argsort(~not_self, axis=1, kind="stable")[:, :J]
            idx = np.take_along_axis(nb, order, axis=1)
        ym = y[pool][idx].mean(axis=1)
        jeff = idx.shape[1]
        out[sel] = jeff / (jeff + 1) * (y[rows[sel]] - ym) ** 2
    return out
