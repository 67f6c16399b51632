"""A small monthly data-generating process with a known ATT(u, h), for the dynamic tests.

Each spell runs month by month. At the start of month m a spell still on benefit and not yet
treated starts the programme with probability ``expit(a_m + 0.6 x1 + 0.5 x2)`` (selection on
observables: x1 also raises the exit-to-work hazard); then it exits to work with probability
``expit(b_m + 0.4 x1 - 0.3 x2 + effect * treated)`` or for another reason with probability
``expit(c_m + 0.2 x2)``. The follow-up window ends at a random extract month (right-censoring).
A work exit is followed by a return to benefit (for the durable outcome) at an exponential
time, less likely after treatment.

True ATT(u, h) are computed from potential outcomes with common random numbers: the same
people are re-run (i) with the start at u switched off but later starts allowed (Sianesi's
estimand) and (ii) with every start from u on switched off (Van den Berg & Vikström).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
from scipy.special import expit

N_MONTHS = 72


def _exit_step(alive, u, pw, po, dur, cause, m):
    """Month m's exits (work with probability pw, other with po) of the spells still alive:
    records duration and cause in place and returns who is still alive."""
    ex_w = alive & (u < pw)
    ex_o = alive & ~ex_w & (u < pw + po)
    dur[ex_w | ex_o] = m + 1
    cause[ex_w] = 1
    cause[ex_o] = 3
    return alive & ~(ex_w | ex_o)


def _draws(n: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    return {
        "x1": rng.normal(size=n),
        "x2": (rng.random(n) < 0.4).astype(float),
        "u_treat": rng.random((n, N_MONTHS)),
        "u_exit": rng.random((n, N_MONTHS)),
        "ret": rng.exponential(1.0, n),
        "followup": rng.integers(8, N_MONTHS + 1, n),
        "person": np.arange(n),
    }


def _run(
    d: dict,
    effect: float,
    start_scale: float = 1.0,
    block_at: np.ndarray | None = None,
    block_from: np.ndarray | None = None,
) -> dict:
    """Month-by-month simulation; ``block_at``/``block_from`` switch starts off per person."""
    n = len(d["x1"])
    x1, x2 = d["x1"], d["x2"]
    alive = np.ones(n, bool)
    start = np.full(n, np.nan)
    dur = np.full(n, float(N_MONTHS))
    cause = np.zeros(n, int)
    for m in range(N_MONTHS):  # loop over months, vectorised over people
        a_m = -3.0 - 0.015 * m + np.log(start_scale)
        can = alive & np.isnan(start)
        if block_at is not None:
            can &= block_at != m
        if block_from is not None:
            can &= ~(block_from <= m)
        p = expit(a_m + 0.6 * x1 + 0.5 * x2)
        new = can & (d["u_treat"][:, m] < p)
        start[new] = m
        treated = ~np.isnan(start)
        b_m = -2.6 - 0.02 * min(m, 36)
        pw = expit(b_m + 0.4 * x1 - 0.3 * x2 + effect * treated)
        po = expit(-3.6 + 0.2 * x2)
        alive = _exit_step(alive, d["u_exit"][:, m], pw, po, dur, cause, m)
    treated = ~np.isnan(start)
    rt = d["ret"] * np.where(treated, 30.0, 15.0)  # mean months until return
    return {"start": start, "duration": dur, "cause": cause, "return": rt}


def simulate_spells(
    n: int = 5000, seed: int = 0, effect: float = 0.7, start_scale=1.0, censor: bool = True
):
    """Observed spells (censored at each spell's extract month) as a DataFrame.

    ``censor=False``: every spell is followed for ``N_MONTHS`` months.
    """
    d = _draws(n, seed)
    r = _run(d, effect, start_scale)
    fu = d["followup"].astype(float) if censor else np.full(n, float(N_MONTHS))
    dur = r["duration"]
    cens = dur > fu
    duration = np.minimum(dur, fu)
    cause = np.where(cens, 0, r["cause"])
    start = np.where(r["start"] < duration, r["start"], np.nan)
    ret = np.where((cause == 1) & (duration + r["return"] <= fu), r["return"], np.nan)
    return pd.DataFrame(
        {
            "person_id": d["person"] // 1,
            "spell_id": np.arange(n),
            "duration": duration,
            "cause": cause,
            "programme_start": start,
            "followup": fu,
            "return_time": ret,
            "x1": d["x1"],
            "x2": d["x2"],
        }
    )


def _hazards(m: int, x1: np.ndarray, x2: np.ndarray, effect: float, start_scale: float):
    p = expit(-3.0 - 0.015 * m + np.log(start_scale) + 0.6 * x1 + 0.5 * x2)
    b_m = -2.6 - 0.02 * min(m, 36)
    pw0 = expit(b_m + 0.4 * x1 - 0.3 * x2)
    pw1 = expit(b_m + 0.4 * x1 - 0.3 * x2 + effect)
    po = expit(-3.6 + 0.2 * x2)
    return p, pw0, pw1, po


@lru_cache(maxsize=16)
def true_att(
    u_values: tuple[int, ...],
    horizons: tuple[int, ...] = (6, 12, 24),
    effect: float = 0.7,
    start_scale: float = 1.0,
) -> dict:
    """Exact population ATT(u, h) of the DGP (Markov recursion, Gauss–Hermite over x1).

    Returns ``{"sianesi": {(u, h): att}, "never": {...}, "durable_sianesi": {...},
    "share": {u: share of starters at u}}``. Starters at u have covariate density
    ``f(x) * S_u(x) * p_u(x)`` (on benefit and untreated until u, then starting).
    """
    nodes, wts = np.polynomial.hermite_e.hermegauss(80)
    wts = wts / wts.sum()
    x1 = np.r_[nodes, nodes]
    x2 = np.r_[np.zeros_like(nodes), np.ones_like(nodes)]
    fx = np.r_[wts * 0.6, wts * 0.4]
    d30, d15 = np.exp(-12 / 30), np.exp(-12 / 15)
    out: dict = {"sianesi": {}, "never": {}, "durable_sianesi": {}, "share": {}}
    H = max(horizons)
    surv = np.ones_like(x1)
    for m in range(max(u_values) + 1):
        p, pw0, pw1, po = _hazards(m, x1, x2, effect, start_scale)
        if m in u_values:
            g = fx * surv * p
            out["share"][m] = float(g.sum())
            T = np.ones_like(x1)  # natural: treated at u
            U_s, T_s = np.ones_like(x1), np.zeros_like(x1)  # Sianesi: no start at u, later ok
            U_n = np.ones_like(x1)  # never treated
            W1 = W_s = W_n = D1 = D_s = 0.0
            for k in range(H):
                mm = m + k
                q, a0, a1, o = _hazards(mm, x1, x2, effect, start_scale)
                if k > 0:
                    T_s = T_s + U_s * q
                    U_s = U_s * (1 - q)
                W1 = W1 + T * a1
                D1 = D1 + T * a1 * d30
                W_s = W_s + U_s * a0 + T_s * a1
                D_s = D_s + U_s * a0 * d15 + T_s * a1 * d30
                W_n = W_n + U_n * a0
                T = T * (1 - a1 - o)
                U_s, T_s = U_s * (1 - a0 - o), T_s * (1 - a1 - o)
                U_n = U_n * (1 - a0 - o)
                if k + 1 in horizons:
                    h = k + 1
                    out["sianesi"][(m, h)] = float((g * (W1 - W_s)).sum() / g.sum())
                    out["never"][(m, h)] = float((g * (W1 - W_n)).sum() / g.sum())
                    out["durable_sianesi"][(m, h)] = float((g * (D1 - D_s)).sum() / g.sum())
        surv = surv * (1 - p) * (1 - pw0 - po)
    return out


def simulated_att(u: int, h: int, effect: float = 0.7, n: int = 200_000, seed: int = 1):
    """ATT(u, h) from simulated potential outcomes (a check of :func:`true_att`)."""
    d = _draws(n, seed)
    nat = _run(d, effect)
    t = nat["start"] == u
    sub = {k: v[t] for k, v in d.items()}
    k = int(t.sum())
    sia = _run(sub, effect, block_at=np.full(k, u))
    nev = _run(sub, effect, block_from=np.full(k, u))

    def y(r):
        return np.mean((r["cause"] == 1) & (r["duration"] <= u + h))

    y1 = np.mean((nat["cause"][t] == 1) & (nat["duration"][t] <= u + h))
    return {"sianesi": y1 - y(sia), "never": y1 - y(nev), "n": k}


# --- a DGP with time-varying history (part-time work) -------------------------------------
def _run_history(d: dict, effect: float, block_at: np.ndarray | None = None) -> dict:
    """Month-by-month spells where part-time work ``z`` (a Markov chain, its value at the
    start of month m is history up to m) raises both the start and the work-exit hazard."""
    n = len(d["x1"])
    x1 = d["x1"]
    alive = np.ones(n, bool)
    start = np.full(n, np.nan)
    dur = np.full(n, float(N_MONTHS))
    cause = np.zeros(n, int)
    z = np.zeros((n, N_MONTHS))
    zm = d["z0"].copy()
    for m in range(N_MONTHS):  # loop over months, vectorised over people
        z[:, m] = zm
        can = alive & np.isnan(start)
        if block_at is not None:
            can &= block_at != m
        p = expit(-3.4 - 0.015 * m + 0.4 * x1 + 2.0 * zm)
        new = can & (d["u_treat"][:, m] < p)
        start[new] = m
        treated = ~np.isnan(start)
        pw = expit(-2.9 - 0.02 * min(m, 36) + 0.3 * x1 + 1.5 * zm + effect * treated)
        po = expit(-3.6)
        alive = _exit_step(alive, d["u_exit"][:, m], pw, po, dur, cause, m)
        # part-time work next month: switches on with 0.06, off with 0.15 a month
        sw = d["u_z"][:, m]
        zm = np.where(zm == 1, (sw >= 0.15).astype(float), (sw < 0.06).astype(float))
    return {"start": start, "duration": dur, "cause": cause, "z": z}


def _draws_history(n: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    return {
        "x1": rng.normal(size=n),
        "z0": (rng.random(n) < 0.25).astype(float),
        "u_treat": rng.random((n, N_MONTHS)),
        "u_exit": rng.random((n, N_MONTHS)),
        "u_z": rng.random((n, N_MONTHS)),
        "followup": rng.integers(8, N_MONTHS + 1, n),
    }


def simulate_history_spells(n: int = 8000, seed: int = 0, effect: float = 0.7):
    """Spells (one row each) and their monthly history ``(spell_id, month, parttime)``."""
    d = _draws_history(n, seed)
    r = _run_history(d, effect)
    fu = d["followup"].astype(float)
    dur = r["duration"]
    duration = np.minimum(dur, fu)
    cause = np.where(dur > fu, 0, r["cause"])
    start = np.where(r["start"] < duration, r["start"], np.nan)
    spells = pd.DataFrame(
        {
            "person_id": np.arange(n),
            "spell_id": np.arange(n),
            "duration": duration,
            "cause": cause,
            "programme_start": start,
            "x1": d["x1"],
        }
    )
    m = np.arange(N_MONTHS)
    on = m[None, :] < np.ceil(duration)[:, None]
    rows, months = np.nonzero(on)
    history = pd.DataFrame({"spell_id": rows, "month": months, "parttime": r["z"][rows, months]})
    return spells, history


@lru_cache(maxsize=4)
def history_true_att(u_values: tuple[int, ...], h: int = 12, effect: float = 0.7,
                     n: int = 150_000, seed: int = 99) -> dict:  # fmt: skip
    """Sianesi ATT(u, h) of the history DGP from simulated potential outcomes (common random
    numbers: the starters at u are re-run with the start at u switched off)."""
    d = _draws_history(n, seed)
    nat = _run_history(d, effect)
    out = {}
    for u in u_values:
        t = nat["start"] == u
        sub = {k: v[t] for k, v in d.items()}
        sia = _run_history(sub, effect, block_at=np.full(int(t.sum()), u))
        y1 = (nat["cause"][t] == 1) & (nat["duration"][t] <= u + h)
        y0 = (sia["cause"] == 1) & (sia["duration"] <= u + h)
        out[u] = float(np.mean(y1.astype(float) - y0))
    return out
