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
