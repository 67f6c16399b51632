"""Weighted discrete-time Aalen–Johansen curves after elapsed month u.

All curves are on the monthly grid ``s = 0..H-1`` months after ``u``: ``at_risk[u, s]`` is the
(weighted) number on benefit at the start of month ``u + s``, ``events[u, s]`` the (weighted)
exits of the cause of interest in that month and ``exits[u, s]`` the exits of any cause. The
cumulative incidence of the cause of interest by ``h`` months after ``u`` is

    CIF(h) = sum_{s < h} S(s - 1) * events[s] / at_risk[s],
    S(s) = prod_{r <= s} (1 - exits[r] / at_risk[r])

— the Aalen–Johansen estimator with ties grouped per month (a life table). Right-censoring at
the extract date is handled as in Kaplan–Meier: a censored spell counts in the risk set up to
and including its censoring month.
"""

from __future__ import annotations

import numpy as np


def counts_from_rows(
    u_idx: np.ndarray,
    u_values: np.ndarray,
    last: np.ndarray,
    event: np.ndarray,
    any_exit: np.ndarray,
    weight: np.ndarray,
    n_u: int,
    horizon: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """At-risk, event and exit counts for rows at risk from month u through month ``last``.

    ``event``/``any_exit`` say whether the row ends with an exit of the cause of interest /
    of any cause in month ``last``; otherwise it is censored there.
    """
    s_last = last - u_values[u_idx]
    beyond = s_last >= horizon
    s_end = np.minimum(s_last, horizon - 1)
    ok = s_end >= 0
    flat = u_idx[ok] * horizon + s_end[ok]
    ends = np.bincount(flat, weights=weight[ok], minlength=n_u * horizon).reshape(n_u, horizon)
    at_risk = np.cumsum(ends[:, ::-1], axis=1)[:, ::-1]
    ev_ok = ok & ~beyond & event
    events = np.bincount(
        u_idx[ev_ok] * horizon + s_end[ev_ok], weights=weight[ev_ok], minlength=n_u * horizon
    ).reshape(n_u, horizon)
    ex_ok = ok & ~beyond & any_exit
    exits = np.bincount(
        u_idx[ex_ok] * horizon + s_end[ex_ok], weights=weight[ex_ok], minlength=n_u * horizon
    ).reshape(n_u, horizon)
    return at_risk, events, exits


def aalen_johansen(
    at_risk: np.ndarray, events: np.ndarray, exits: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Survival (still on benefit) and cumulative incidence, each of shape (n_u, H).

    Entries are NaN from the first month where nobody is left at risk while the curve is
    still undetermined (survival above zero): the outcome is then not identified there.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        lam_all = np.where(at_risk > 0, exits / at_risk, np.nan)
        lam_ev = np.where(at_risk > 0, events / at_risk, np.nan)
    surv = np.cumprod(1.0 - np.nan_to_num(lam_all, nan=0.0), axis=1)
    surv_prev = np.concatenate([np.ones((surv.shape[0], 1)), surv[:, :-1]], axis=1)
    cif = np.cumsum(surv_prev * np.nan_to_num(lam_ev, nan=0.0), axis=1)
    undetermined = np.isnan(lam_all) & (surv_prev > 1e-12)
    bad = np.cumsum(undetermined, axis=1) > 0
    surv[bad] = np.nan
    cif[bad] = np.nan
    return surv, cif


def aalen_johansen_episodes(
    group: np.ndarray,
    start: np.ndarray,
    stop: np.ndarray,
    weight: np.ndarray,
    event: np.ndarray,
    any_exit: np.ndarray,
    n_groups: int,
    times: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact (continuous-time) weighted Aalen–Johansen curves per group, from episodes.

    Each episode is at risk on ``(start, stop]`` with ``weight`` and ends at ``stop`` with an
    exit of interest (``event``), another exit (``any_exit`` and not ``event``) or not at all
    (censoring, or the next episode of the same row follows with another weight). Ties:
    exits at ``t`` are counted among those at risk at ``t`` (censored at ``t`` included).

    Returns survival and cumulative incidence at ``times`` (shape ``(n_groups, len(times))``),
    NaN where nobody is left at risk before the time while the curve is still undetermined.
    """
    K = float(max(np.max(stop, initial=0.0), np.max(times, initial=0.0)) + 2.0)
    k_stop = group * K + stop
    k_start = group * K + start
    o_stop = np.argsort(k_stop, kind="stable")
    o_start = np.argsort(k_start, kind="stable")
    ks_stop, ks_start = k_stop[o_stop], k_start[o_start]
    c_stop = np.r_[0.0, np.cumsum(weight[o_stop])]
    c_start = np.r_[0.0, np.cumsum(weight[o_start])]
    g_end = (np.arange(n_groups) + 1) * K

    def at_risk(g: np.ndarray, t: np.ndarray) -> np.ndarray:
        key = g * K + t
        end = g_end[g]
        # weight of episodes in group g with stop >= t minus those with start >= t
        s1 = (
            c_stop[np.searchsorted(ks_stop, end, "left")]
            - c_stop[np.searchsorted(ks_stop, key, "left")]
        )
        s2 = (
            c_start[np.searchsorted(ks_start, end, "left")]
            - c_start[np.searchsorted(ks_start, key, "left")]
        )
        return s1 - s2

    ex = any_exit & (weight > 0)
    keys, inv = np.unique(k_stop[ex], return_inverse=True)
    e_all = np.bincount(inv, weights=weight[ex], minlength=len(keys))
    e_int = np.bincount(inv, weights=(weight * event)[ex], minlength=len(keys))
    g_ev = np.floor(keys / K + 1e-12).astype(np.int64)
    t_ev = keys - g_ev * K
    n_risk = at_risk(g_ev, t_ev)
    with np.errstate(divide="ignore", invalid="ignore"):
        lam = np.where(n_risk > 0, e_all / n_risk, 0.0)
        lam_i = np.where(n_risk > 0, e_int / n_risk, 0.0)
    # groupwise cumulative products and sums (keys are sorted by group, then time); a hazard
    # of 1 is clipped so that survival becomes ~1e-15 instead of log(0)
    log_s = np.log1p(-np.minimum(lam, 1.0 - 1e-15))
    first = np.r_[True, g_ev[1:] != g_ev[:-1]] if len(g_ev) else np.zeros(0, bool)
    idx = np.arange(len(log_s))
    start_pos = np.maximum.accumulate(np.where(first, idx, 0)) if len(idx) else idx
    cs = np.cumsum(log_s)
    base = np.where(start_pos > 0, cs[np.maximum(start_pos - 1, 0)], 0.0)
    log_surv = cs - base
    log_prev = np.where(first, 0.0, np.r_[0.0, log_surv[:-1]]) if len(idx) else log_surv
    surv = np.exp(log_surv)
    inc = np.exp(log_prev) * lam_i
    ci = np.cumsum(inc)
    cif = ci - np.where(start_pos > 0, ci[np.maximum(start_pos - 1, 0)], 0.0)

    G = np.repeat(np.arange(n_groups), len(times))
    T = np.tile(np.asarray(times, float), n_groups)
    pos = np.searchsorted(keys, G * K + T, side="right") - 1
    valid = (pos >= 0) & (g_ev[np.maximum(pos, 0)] == G) if len(keys) else np.zeros(len(G), bool)
    S = np.where(valid, surv[np.maximum(pos, 0)] if len(keys) else 1.0, 1.0)
    F = np.where(valid, cif[np.maximum(pos, 0)] if len(keys) else 0.0, 0.0)
    # identified only while someone is at risk just before t (or the curve has reached 0)
    left = at_risk(G, T)
    undetermined = (left <= 0) & (S > 1e-12)
    # ... unless everyone left through observed exits exactly at t (left counts stop >= t)
    S = np.where(undetermined, np.nan, S).reshape(n_groups, len(times))
    F = np.where(undetermined, np.nan, F).reshape(n_groups, len(times))
    return S, F
