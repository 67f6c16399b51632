"""One pass of dynamic estimation for given frequency weights (the bootstrap calls it again).

Everything is array arithmetic over spells, months and u-cohorts; no loop over people.

Clock. A starter's outcome window runs from its own start time ``s`` (``u <= s < u + 1``) to
``s + h``. Matched comparison spells are followed from the same ``s`` (and must still be on
benefit then). In the weighting estimators the comparison spells of cohort ``u`` are followed
from ``u + phi``, with ``phi`` the average position of the starts within their month (0 for
monthly data), on a grid of months shifted by ``phi``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from werkeffect.dynamic.cif import aalen_johansen, aalen_johansen_episodes
from werkeffect.dynamic.hazard import HazardCells, TreatmentHazard, fit_treatment_hazard
from werkeffect.dynamic.matching import nn_match_within
from werkeffect.dynamic.risk_sets import SpellArrays, control_rows, interval_rows, treated_rows


@dataclass(frozen=True)
class Spec:
    """What to estimate (internal)."""

    u_values: np.ndarray
    horizons: tuple[int, ...]
    outcome: str  # "work" | "durable"
    weighting: str  # "nn" | "ipw"
    censor_later: bool  # controls censored when they start later (VdB-V, FJ)
    ipcw: bool  # inverse probability of censoring weights for later starts
    n_neighbors: int = 5
    caliper: float | None = 0.2  # in standard deviations of the logit propensity score
    min_events: int = 10

    @property
    def horizon(self) -> int:
        return int(max(self.horizons))

    @property
    def n_months(self) -> int:
        return int(self.u_values.max()) + self.horizon + 2


@dataclass
class OnePass:
    att: np.ndarray  # (n_u, n_h)
    att_avg: np.ndarray  # (n_h,)
    n_treated: np.ndarray  # (n_u,) weighted treated used at u
    hazard: TreatmentHazard
    hazard_phi: TreatmentHazard | None = None
    curves: dict | None = None
    counts: dict | None = None
    matched: dict | None = None  # nearest-neighbour matched sample (full pass only)


@dataclass(frozen=True)
class Prepared:
    """Structures that do not depend on the weights, built once per fit (internal)."""

    cells: HazardCells
    ti: np.ndarray
    tu: np.ndarray
    ci: np.ndarray
    cu: np.ndarray
    phi: float
    arr_phi: SpellArrays
    cells_phi: HazardCells

    @classmethod
    def build(cls, arr: SpellArrays, spec: Spec) -> Prepared:
        ti, tu = treated_rows(arr, spec.u_values)
        ci, cu = control_rows(arr, spec.u_values)
        phi = 0.0
        if spec.weighting == "ipw" and len(ti):
            frac = arr.ps[ti] - np.floor(arr.ps[ti] + 1e-9)
            phi = float(np.clip(np.mean(frac), 0.0, 0.999))
            if phi < 1e-6:
                phi = 0.0
        cells = HazardCells.build(arr, spec.n_months)
        arr_phi = arr.shift(phi)
        cells_phi = cells if phi == 0 else HazardCells.build(arr_phi, spec.n_months)
        return cls(cells, ti, tu, ci, cu, phi, arr_phi, cells_phi)


def _integer_weights(w: np.ndarray) -> np.ndarray:
    wi = np.rint(w).astype(np.int64)
    if not np.allclose(wi, w):
        raise ValueError("nearest-neighbour matching needs integer frequency weights")
    return wi


def estimate_once(
    arr: SpellArrays,
    spec: Spec,
    weights: np.ndarray | None = None,
    *,
    prep: Prepared | None = None,
    hazard_start: TreatmentHazard | None = None,
    hazard_start_phi: TreatmentHazard | None = None,
    bins: np.ndarray | None = None,
    bins_phi: np.ndarray | None = None,
    full: bool = False,
    warn: bool = True,
    hazard_steps: int = 50,
    hazard: TreatmentHazard | None = None,
) -> OnePass:
    if prep is None:
        prep = Prepared.build(arr, spec)
    uv = spec.u_values
    n_u, H = len(uv), spec.horizon
    times = np.arange(1, H + 1, dtype=float)
    w = np.ones(arr.n) if weights is None else np.asarray(weights, float)
    if hazard is not None:
        hz = hazard
    else:
        hz = fit_treatment_hazard(
            arr,
            spec.n_months,
            w,
            cells=prep.cells,
            min_events=spec.min_events,
            bins=bins,
            start=hazard_start,
            warn=warn,
            max_iter=hazard_steps,
        )
    end, event, any_exit = arr.outcome_times(spec.outcome)

    # -- starters at u, each followed from its own start time ------------------------------
    keep = w[prep.ti] > 0
    ti, tu = prep.ti[keep], prep.tu[keep]
    tw = w[ti]
    anchor = arr.ps[ti]

    hz_phi = None
    # largest inverse-probability-of-censoring factor 1 / P(no start from u to m) per u
    ipc_max = np.full(n_u, np.nan)
    if spec.weighting == "nn":
        ci, cu = prep.ci, prep.cu
        keep = w[ci] > 0
        ci, cu = ci[keep], cu[keep]
        mult = _integer_weights(w[ci])
        rep = np.repeat(np.arange(len(ci)), mult)
        # logit propensity score within u (month effects are common within u)
        t_score = hz.score(arr, ti, uv[tu])
        c_score = hz.score(arr, ci, uv[cu])
        sd = float(np.std(c_score)) if len(ci) else 1.0
        cal = None if spec.caliper is None else spec.caliper * max(sd, 1e-12)
        matches, _ = nn_match_within(
            tu,
            t_score,
            cu[rep],
            c_score[rep],
            spec.n_neighbors,
            cal,
            t_time=anchor,
            c_time=arr.d[ci][rep],
        )
        ok = matches >= 0
        n_match = ok.sum(axis=1)
        matched = n_match > 0
        tw = np.where(matched, tw, 0.0)
        p_t, p_k = np.nonzero(ok)
        p_c = ci[rep[matches[p_t, p_k]]]
        p_w = tw[p_t] / n_match[p_t]
        p_a = anchor[p_t]
        c_stop = end[p_c] - p_a
        c_ev, c_ax = event[p_c].copy(), any_exit[p_c].copy()
        if spec.censor_later:
            later = arr.ps[p_c] - p_a
            cut = later < c_stop
            c_stop = np.where(cut, later, c_stop)
            c_ev &= ~cut
            c_ax &= ~cut
        if spec.ipcw:
            piece, st, sp, ww, ev, ax = _split_ipcw(
                hz, arr, p_c, p_a, c_stop, p_w, c_ev, c_ax, H, spec.n_months
            )
        else:
            piece = np.arange(len(p_t))
            st, sp, ww, ev, ax = np.zeros(len(p_t)), c_stop, p_w, c_ev, c_ax
        g = tu[p_t][piece]
        pos = sp > 0
        if full and spec.ipcw and pos.any():
            ipc_max[:] = 1.0
            np.maximum.at(ipc_max, g[pos], ww[pos] / p_w[piece][pos])
            ipc_max[np.bincount(g[pos], minlength=n_u) == 0] = np.nan
        s_c, f_c = aalen_johansen_episodes(
            g[pos], st[pos], sp[pos], ww[pos], ev[pos], ax[pos], n_u, times
        )
        n_controls_used = np.bincount(tu[p_t], minlength=n_u)
        c_weights = (tu[p_t], p_w)
        if full:
            # a pair's first piece carries its matching weight K_j / M for the conditional-
            # mean correction of the fixed-match bootstrap; later pieces only add IPC weight
            first = np.r_[True, piece[1:] != piece[:-1]]
            pair = {
                "rows": p_c[piece][pos],
                "group": g[pos],
                "start": st[pos],
                "stop": sp[pos],
                "weight": ww[pos],
                "pair_weight": np.where(first, p_w[piece], 0.0)[pos],
                "event": ev[pos],
                "any_exit": ax[pos],
                "score": c_score[rep[matches[p_t, p_k]]][piece][pos],
            }
    else:
        arr_phi = prep.arr_phi
        # the start model of the unshifted grid serves the grid shifted by phi (< 1 month):
        # month effects are evaluated at the shifted month, calendar effects at the shifted
        # calendar time
        hz_phi = hz
        n_r, e_r, x_r, n_used, ipc_max = _weighted_counts(
            arr_phi, spec, hz_phi, w, diagnostics=full
        )
        s_c, f_c = aalen_johansen(n_r, e_r, x_r)
        n_controls_used = n_used
        c_weights = None

    t_stop = end[ti] - anchor
    pos = (t_stop > 0) & (tw > 0)
    s_t, f_t = aalen_johansen_episodes(
        tu[pos],
        np.zeros(pos.sum()),
        t_stop[pos],
        tw[pos],
        event[ti][pos],
        any_exit[ti][pos],
        n_u,
        times,
    )
    n_treated = np.bincount(tu, weights=tw, minlength=n_u)
    hidx = np.asarray(spec.horizons) - 1
    att = f_t[:, hidx] - f_c[:, hidx]
    att = np.where(n_treated[:, None] > 0, att, np.nan)
    ok = np.isfinite(att)
    wt = np.where(ok, n_treated[:, None], 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        att_avg = (np.where(ok, att, 0.0) * wt).sum(axis=0) / wt.sum(axis=0)
    out = OnePass(att=att, att_avg=att_avg, n_treated=n_treated, hazard=hz, hazard_phi=hz_phi)
    if full and spec.weighting == "nn":
        out.matched = {
            "treated": {
                "rows": ti,
                "group": tu,
                "start": np.zeros(len(ti)),
                "stop": t_stop,
                "weight": tw,
                "event": event[ti],
                "any_exit": any_exit[ti],
                "score": t_score,
            },
            "control": pair,
        }
    if full:
        out.curves = {"surv_t": s_t, "cif_t": f_t, "surv_c": s_c, "cif_c": f_c}
        ci_all, cu_all = prep.ci, prep.cu
        ess = np.full(n_u, np.nan)
        if c_weights is not None:
            g_c, w_c = c_weights
            ess = np.bincount(g_c, weights=w_c, minlength=n_u) ** 2 / np.maximum(
                np.bincount(g_c, weights=w_c**2, minlength=n_u), 1e-300
            )
        out.counts = {
            "n_treated_all": np.bincount(tu, weights=w[ti], minlength=n_u),
            "n_treated": n_treated,
            "n_controls": np.bincount(cu_all, weights=w[ci_all], minlength=n_u),
            "n_controls_used": n_controls_used,
            "ess_controls": ess,
            "max_ipc_weight": ipc_max,
            "phi": prep.phi,
        }
    return out


def _split_ipcw(
    hz: TreatmentHazard,
    arr: SpellArrays,
    c: np.ndarray,
    a: np.ndarray,
    stop: np.ndarray,
    w: np.ndarray,
    ev: np.ndarray,
    ax: np.ndarray,
    H: int,
    n_months: int,
):
    """Split matched comparison rows at month boundaries with IPC weights.

    From the anchor ``a`` (in month ``floor(a)``, in which the comparison spell is known not to
    start) to the first month boundary the weight is ``w``; in month ``m > floor(a)`` it is
    ``w / prod_{k=floor(a)+1..m} (1 - h_k(x))``. Returns the pair of every piece (pieces of
    a pair are consecutive), then start, stop, weight, event and any-exit of the pieces.
    """
    stop = np.minimum(stop, H + 1.0)
    m0 = np.floor(a + 1e-9).astype(np.int64)
    last_m = np.ceil(a + stop - 1e-9).astype(np.int64) - 1  # month of the row's end
    n_piece = np.maximum(last_m - m0, 0) + 1
    rows, j = interval_rows(np.zeros(len(a), np.int64), n_piece - 1, np.arange(int(n_piece.max())))
    m = m0[rows] + j
    st = np.where(j == 0, 0.0, m - a[rows])
    sp = np.where(j == n_piece[rows] - 1, stop[rows], m + 1 - a[rows])
    # log P(no start in months floor(a)+1..m | x) for the comparison spell
    uc, inv = np.unique(c, return_inverse=True)
    lg = hz.log_untreated(arr, uc)  # (n_unique, n_months)
    mm = np.minimum(m, n_months - 1)
    m0c = np.minimum(m0[rows], n_months - 1)
    log_p = lg[inv[rows], mm] - lg[inv[rows], m0c]
    wt = w[rows] * np.exp(-log_p)
    last = j == n_piece[rows] - 1
    return rows, st, sp, wt, ev[rows] & last, ax[rows] & last


def _weighted_counts(
    arr: SpellArrays, spec: Spec, hz: TreatmentHazard, w: np.ndarray, diagnostics: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Monthly comparison-arm counts of the weighting estimators (all u at once).

    A comparison spell of cohort u is weighted by the odds of starting at u (reweighting the
    not yet treated to the covariates of the starters). With ``censor_later`` it is censored
    when it starts later, and with ``ipcw`` weighted in month m > u by
    ``1 / prod_{k=u+1..m} (1 - h_k(x))``, the inverse probability of not having started yet
    (Van den Berg & Vikström). With ``A[i,u] = w_i odds_i(u) G_i(u)`` and
    ``B[i,m] = 1 / G_i(m)`` (``G`` the probability of no start through month m) on the
    spell's at-risk interval, the weighted number at risk in month m of cohort u is
    ``(A' B)[u, m]``: one matrix product instead of a (spell x u x month) expansion. A spell
    censored during a month (extract date) counts for the fraction of the month it was
    observed (actuarial life table; exact for monthly data). With ``diagnostics`` the last
    value is the largest IPC factor ``G_i(u) / G_i(m)`` per u within the horizon (else NaN).
    """
    uv = spec.u_values
    n_u, H, M = len(uv), spec.horizon, spec.n_months
    end, event, any_exit = arr.outcome_times(spec.outcome)
    if spec.censor_later:
        # censored at the exact time of a later start: the month of the start counts for the
        # fraction of it before the start (as a censoring within the month), so exits earlier
        # in that month are not left out of the comparison arm's risk set
        cut = arr.ps < end
        end = np.where(cut, arr.ps, end)
        event = event & ~cut
        any_exit = any_exit & ~cut
    last_m = (np.ceil(end - 1e-9) - 1).astype(np.int64)
    b_i = last_m.copy()
    # comparison spells must be untreated at u: the cohort interval ends before the start
    u_hi = np.minimum(b_i, arr.treat_m - 1)
    b_i = np.minimum(b_i, M - 1)
    rows = np.flatnonzero(
        (w > 0) & (u_hi >= arr.entry_m) & (u_hi >= uv[0]) & (arr.entry_m <= uv[-1])
    )
    lo, hi, uhi = arr.entry_m[rows], b_i[rows], u_hi[rows]
    logit_u = hz.logit(arr, rows[:, None], uv[None, :])  # (r, n_u)
    in_u = (uv[None, :] >= lo[:, None]) & (uv[None, :] <= uhi[:, None])
    months = np.arange(M)
    in_m = (months[None, :] >= lo[:, None]) & (months[None, :] <= hi[:, None])
    ipc_max = np.full(n_u, np.nan)
    if spec.ipcw:
        log_g = hz.log_untreated(arr, rows)[:, :M]  # (r, M)
        A = np.where(in_u, w[rows][:, None] * np.exp(logit_u + log_g[:, uv]), 0.0)
        B = np.where(in_m, np.exp(-log_g), 0.0)
        if diagnostics and len(rows):
            # G falls with m: the factor is largest in the last month observed in the window
            m_end = np.minimum(np.minimum(uv[None, :] + H - 1, hi[:, None]), M - 1)
            log_f = log_g[:, uv] - np.take_along_axis(log_g, m_end, axis=1)
            ipc_max = np.exp(np.where(in_u, log_f, -np.inf).max(axis=0))
            ipc_max[~in_u.any(axis=0)] = np.nan
    else:
        A = np.where(in_u, w[rows][:, None] * np.exp(logit_u), 0.0)
        B = in_m.astype(float)
    # fraction of the last month observed for spells censored in it (not exits)
    e_m = last_m[rows]
    ex_rows = any_exit[rows] & (e_m <= hi)
    cens = ~ex_rows & (e_m <= hi) & (e_m >= lo)
    frac = np.clip(end[rows] - e_m, 0.0, 1.0)
    r_c = np.flatnonzero(cens)
    B[r_c, e_m[r_c]] *= frac[r_c]
    full = A.T @ B  # (n_u, M)
    ev_rows = event[rows] & ex_rows

    def _by_month(flag: np.ndarray) -> np.ndarray:
        r = np.flatnonzero(flag)
        vals = B[r, e_m[r]]
        S = sparse.csr_matrix((vals, (e_m[r], np.arange(len(r)))), shape=(M, len(r)))
        return np.asarray((S @ A[r]).T)  # (n_u, M)

    ev_full = _by_month(ev_rows)
    ex_full = _by_month(ex_rows)
    cols = uv[:, None] + np.arange(H)[None, :]
    valid = cols < M
    cols = np.minimum(cols, M - 1)
    r_idx = np.arange(n_u)[:, None]
    at_risk = np.where(valid, full[r_idx, cols], 0.0)
    events = np.where(valid, ev_full[r_idx, cols], 0.0)
    exits = np.where(valid, ex_full[r_idx, cols], 0.0)
    n_used = in_u.sum(axis=0)
    return at_risk, events, exits, n_used, ipc_max
