"""One pass of dynamic estimation for given frequency weights (the bootstrap calls it again).

Everything is array arithmetic over spells, months and u-cohorts; no loop over people.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from werkeffect.dynamic.cif import aalen_johansen, counts_from_rows
from werkeffect.dynamic.hazard import HazardCells, TreatmentHazard, fit_treatment_hazard
from werkeffect.dynamic.matching import match_weights, nn_match_within
from werkeffect.dynamic.risk_sets import SpellArrays, control_rows, treated_rows


@dataclass(frozen=True)
class Spec:
    """What to estimate (internal)."""

    u_values: np.ndarray
    horizons: tuple[int, ...]
    outcome: str  # "work" | "durable"
    weighting: str  # "nn" | "ipw"
    censor_later: bool  # controls censored when they start later (VdB-V, FJ)
    ipcw: bool  # inverse probability of censoring weights for later starts (VdB-V)
    n_neighbors: int = 5
    caliper: float | None = 0.2  # in standard deviations of the logit propensity score
    min_events: int = 10

    @property
    def horizon(self) -> int:
        return int(max(self.horizons))

    @property
    def n_months(self) -> int:
        return int(self.u_values.max()) + self.horizon


@dataclass
class OnePass:
    att: np.ndarray  # (n_u, n_h)
    att_avg: np.ndarray  # (n_h,)
    n_treated: np.ndarray  # (n_u,) weighted treated used at u
    hazard: TreatmentHazard
    curves: dict | None = None
    counts: dict | None = None


def _integer_weights(w: np.ndarray) -> np.ndarray:
    wi = np.rint(w).astype(np.int64)
    if not np.allclose(wi, w):
        raise ValueError("nearest-neighbour matching needs integer frequency weights")
    return wi


@dataclass(frozen=True)
class Prepared:
    """Structures that do not depend on the weights, built once per fit (internal)."""

    cells: HazardCells
    ti: np.ndarray
    tu: np.ndarray
    ci: np.ndarray
    cu: np.ndarray
    last: np.ndarray
    event: np.ndarray
    any_exit: np.ndarray

    @classmethod
    def build(cls, arr: SpellArrays, spec: Spec) -> Prepared:
        last, event = arr.outcome_arrays(spec.outcome)
        ti, tu = treated_rows(arr, spec.u_values)
        ci, cu = control_rows(arr, spec.u_values)
        return cls(
            cells=HazardCells.build(arr, spec.n_months),
            ti=ti,
            tu=tu,
            ci=ci,
            cu=cu,
            last=last,
            event=event,
            any_exit=arr.any_exit_by(last),
        )


def estimate_once(
    arr: SpellArrays,
    spec: Spec,
    weights: np.ndarray | None = None,
    *,
    prep: Prepared | None = None,
    hazard_start: TreatmentHazard | None = None,
    bins: np.ndarray | None = None,
    full: bool = False,
    warn: bool = True,
) -> OnePass:
    if prep is None:
        prep = Prepared.build(arr, spec)
    uv = spec.u_values
    n_u, H = len(uv), spec.horizon
    w = np.ones(arr.n) if weights is None else np.asarray(weights, float)
    hz = fit_treatment_hazard(
        arr,
        spec.n_months,
        w,
        cells=prep.cells,
        min_events=spec.min_events,
        bins=bins,
        start=hazard_start,
        warn=warn,
    )
    last, event, any_exit = prep.last, prep.event, prep.any_exit
    index = hz.index(arr.X)

    # -- treated at u --------------------------------------------------------------------
    ti, tu = prep.ti, prep.tu
    keep = w[ti] > 0
    ti, tu = ti[keep], tu[keep]
    tw = w[ti]

    # -- controls: the not yet treated at u -----------------------------------------------
    ci, cu = prep.ci, prep.cu
    keep = w[ci] > 0
    ci, cu = ci[keep], cu[keep]

    if spec.weighting == "nn":
        mult = _integer_weights(w[ci])
        rep = np.repeat(np.arange(len(ci)), mult)
        sd = float(np.std(index[ci])) if len(ci) else 1.0
        cal = None if spec.caliper is None else spec.caliper * max(sd, 1e-12)
        matches, _ = nn_match_within(tu, index[ti], cu[rep], index[ci][rep], spec.n_neighbors, cal)
        # map expanded positions back to control rows
        matches = np.where(matches >= 0, rep[np.maximum(matches, 0)], -1)
        cw, matched = match_weights(matches, tw, len(ci))
        tw = np.where(matched, tw, 0.0)
    else:
        odds = np.exp(hz.logit(arr.X[ci], uv[cu]))
        cw = w[ci] * odds
        # scale within u so the controls sum to the treated (cosmetic: ratios are invariant)
        tot_t = np.bincount(tu, weights=tw, minlength=n_u)
        tot_c = np.bincount(cu, weights=cw, minlength=n_u)
        cw = cw * (tot_t / np.where(tot_c > 0, tot_c, 1.0))[cu]

    n_treated = np.bincount(tu, weights=tw, minlength=n_u)
    nt_r, ev_t, ex_t = counts_from_rows(tu, uv, last[ti], event[ti], any_exit[ti], tw, n_u, H)

    if spec.ipcw:
        nc_r, ev_c, ex_c = _ipcw_counts(arr, spec, hz, w, last, event, any_exit)
    else:
        if spec.censor_later:
            lc = np.minimum(last[ci], arr.treat_m[ci] - 1)
            evc = event[ci] & (arr.exit_m[ci] <= lc)
            axc = any_exit[ci] & (arr.exit_m[ci] <= lc)
        else:
            lc, evc, axc = last[ci], event[ci], any_exit[ci]
        pos = cw > 0
        nc_r, ev_c, ex_c = counts_from_rows(
            cu[pos], uv, lc[pos], evc[pos], axc[pos], cw[pos], n_u, H
        )

    s_t, f_t = aalen_johansen(nt_r, ev_t, ex_t)
    s_c, f_c = aalen_johansen(nc_r, ev_c, ex_c)
    hidx = np.asarray(spec.horizons) - 1
    att = f_t[:, hidx] - f_c[:, hidx]
    ok = np.isfinite(att) & (n_treated[:, None] > 0)
    wt = np.where(ok, n_treated[:, None], 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        att_avg = np.nansum(np.where(ok, att, 0.0) * wt, axis=0) / wt.sum(axis=0)
    att = np.where(n_treated[:, None] > 0, att, np.nan)
    out = OnePass(att=att, att_avg=att_avg, n_treated=n_treated, hazard=hz)
    if full:
        out.curves = {"surv_t": s_t, "cif_t": f_t, "surv_c": s_c, "cif_c": f_c}
        ess = np.bincount(cu, weights=cw, minlength=n_u) ** 2 / np.maximum(
            np.bincount(cu, weights=cw**2, minlength=n_u), 1e-300
        )
        used = np.bincount(cu[cw > 0], minlength=n_u)
        out.counts = {
            "n_treated_all": np.bincount(tu, weights=w[ti], minlength=n_u),
            "n_treated": n_treated,
            "n_controls": np.bincount(cu, weights=w[ci], minlength=n_u),
            "n_controls_used": used if not spec.ipcw else np.bincount(cu, minlength=n_u),
            "ess_controls": ess if not spec.ipcw else np.full(n_u, np.nan),
            "at_risk_t": nt_r,
            "at_risk_c": nc_r,
        }
    return out


def _ipcw_counts(
    arr: SpellArrays,
    spec: Spec,
    hz: TreatmentHazard,
    w: np.ndarray,
    last: np.ndarray,
    event: np.ndarray,
    any_exit: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Control-arm counts of Van den Berg & Vikström's weighted estimator.

    A control of cohort u is weighted by the odds of starting at u (reweighting the not yet
    treated to the covariates of the starters) and, in month m > u, by
    ``1 / prod_{k=u+1..m} (1 - h_k(x))`` — the inverse probability of not having started yet —
    and censored when it starts. With ``A[i,u] = w_i odds_i(u) G_i(u)`` and
    ``B[i,m] = 1 / G_i(m)`` (``G`` the probability of no start through month m) on the
    spell's untreated at-risk interval, the weighted number at risk in month m of cohort u is
    ``(A' B)[u, m]``: one matrix product instead of a (spell x u x month) expansion.
    """
    uv = spec.u_values
    n_u, H, M = len(uv), spec.horizon, spec.n_months
    b_i = np.minimum(np.minimum(last, arr.treat_m - 1), M - 1)
    rows = np.flatnonzero((w > 0) & (b_i >= arr.entry_m) & (b_i >= uv[0]) & (arr.entry_m <= uv[-1]))
    X = arr.X[rows]
    lo, hi = arr.entry_m[rows], b_i[rows]
    log_g = hz.log_untreated(X)  # (r, M)
    logit_u = hz.alpha[hz.bins[uv]][None, :] + hz.index(X)[:, None]  # (r, n_u)
    in_u = (uv[None, :] >= lo[:, None]) & (uv[None, :] <= hi[:, None])
    A = np.where(in_u, w[rows][:, None] * np.exp(logit_u + log_g[:, uv]), 0.0)
    months = np.arange(M)
    in_m = (months[None, :] >= lo[:, None]) & (months[None, :] <= hi[:, None])
    B = np.where(in_m, np.exp(-log_g), 0.0)
    full = A.T @ B  # (n_u, M)
    # exits in the untreated interval
    ex_rows = any_exit[rows] & (arr.exit_m[rows] <= hi)
    ev_rows = event[rows] & ex_rows
    e_m = arr.exit_m[rows]

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
    return at_risk, events, exits
