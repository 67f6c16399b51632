"""Optimisation, NPMLE search over mass points, Hessian and exit probabilities."""

from __future__ import annotations

import numpy as np
from scipy import optimize

from werkeffect.survival._toe_data import Layout, ToEData
from werkeffect.survival._toe_lik import (
    Likelihood,
    cell_rates,
    linear_predictors,
    logsumexp,
    unpack_het,
)

V_BOUND = 12.0
W_BOUND = 14.0


def bounds_for(lay: Layout) -> list[tuple[float | None, float | None]]:
    b: list[tuple[float | None, float | None]] = [(None, None)] * lay.n_struct
    b += [(-V_BOUND, V_BOUND)] * ((lay.M - 1) * lay.Q)
    b += [(-W_BOUND, W_BOUND)] * (lay.M - 1)
    return b


def at_bounds(theta: np.ndarray, lay: Layout) -> np.ndarray:
    out = np.zeros(len(theta), dtype=bool)
    vs, ws = lay.het_slices()
    out[vs] = np.abs(theta[vs]) >= V_BOUND - 1e-3
    out[ws] = np.abs(theta[ws]) >= W_BOUND - 1e-3
    return out


def start_values(lik: Likelihood, lay: Layout) -> np.ndarray:
    """Crude rates per baseline group (no covariates, no effect): log(events / exposure)."""
    d = lik.data
    theta = np.zeros(lay.n_params)
    for q in range(lay.Q):
        E = d.E if q < lay.Q - 1 else d.Ep
        expo = np.asarray(E.sum(axis=0)).ravel()
        if d.n_spells and len(d.trunc):
            Et = d.Et if q < lay.Q - 1 else d.Ept
            expo = expo - np.asarray(Et.sum(axis=0)).ravel()
        G = lay.G[q]
        idx = lay.cell_slice[q]
        # baseline columns are the ones every cell loads on exactly once
        n_base = len(lay.baseline_index[q])
        ev = G[:, :n_base].T @ lik.counts[q]
        ex = G[:, :n_base].T @ expo
        theta[idx.start : idx.start + n_base] = np.log(np.maximum(ev, 0.5) / np.maximum(ex, 1e-9))
    return theta


def optimise(lik: Likelihood, lay: Layout, theta0: np.ndarray, maxiter: int):
    scale = 1.0 / max(lik.data.n_persons, 1)

    def f(th):
        ll, g = lik.loglik(th, lay)
        if not np.isfinite(ll):
            return np.inf, np.zeros_like(th)
        return -ll * scale, -g * scale

    res = optimize.minimize(
        f,
        theta0,
        jac=True,
        method="L-BFGS-B",
        bounds=bounds_for(lay),
        options={"maxiter": maxiter, "maxfun": 2 * maxiter, "ftol": 1e-14, "gtol": 1e-9},
    )
    return res.x, -res.fun / scale, res


def numerical_hessian(lik: Likelihood, lay: Layout, theta: np.ndarray) -> np.ndarray:
    """Central differences of the analytic gradient, symmetrised."""
    P = len(theta)
    H = np.empty((P, P))
    for i in range(P):
        h = 1e-5 * max(1.0, abs(theta[i]))
        tp, tm = theta.copy(), theta.copy()
        tp[i] += h
        tm[i] -= h
        H[:, i] = (lik.loglik(tp, lay)[1] - lik.loglik(tm, lay)[1]) / (2 * h)
    return (H + H.T) / 2


def newton_polish(lik, lay, theta, max_steps=6):
    """A few Newton steps on the free parameters (exact gradient, numerical Hessian).

    Returns theta, loglik, gradient, Hessian (at the returned theta), free mask and the
    Newton decrement g' (-H)^-1 g (twice the expected further gain in log-likelihood).
    """
    ll, g = lik.loglik(theta, lay)
    free = ~at_bounds(theta, lay)
    H = numerical_hessian(lik, lay, theta)
    dec = np.inf
    for _ in range(max_steps):
        Hf = -H[np.ix_(free, free)]
        try:
            step = np.linalg.solve(Hf, g[free])
        except np.linalg.LinAlgError:
            break
        dec = float(g[free] @ step)
        if not np.isfinite(dec) or dec < 0:
            break
        if dec < 1e-10:
            break
        t = 1.0
        improved = False
        for _ls in range(12):
            cand = theta.copy()
            cand[free] += t * step
            b = bounds_for(lay)
            lo = np.array([-np.inf if x[0] is None else x[0] for x in b])
            hi = np.array([np.inf if x[1] is None else x[1] for x in b])
            cand = np.clip(cand, lo, hi)
            llc, gc = lik.loglik(cand, lay)
            if np.isfinite(llc) and llc >= ll - 1e-9:
                theta, ll, g = cand, llc, gc
                improved = True
                break
            t /= 2
        if not improved:
            break
        free = ~at_bounds(theta, lay)
        H = numerical_hessian(lik, lay, theta)
    Hf = -H[np.ix_(free, free)]
    try:
        dec = float(g[free] @ np.linalg.solve(Hf, g[free]))
    except np.linalg.LinAlgError:
        dec = np.inf
    return theta, ll, g, H, free, dec


def candidate_points(Q: int, centre: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    if Q <= 2:
        axis = np.linspace(-5, 5, 21)
        grid = np.stack(np.meshgrid(*([axis] * Q), indexing="ij"), axis=-1).reshape(-1, Q)
    else:
        grid = rng.uniform(-5, 5, size=(600, Q))
    return np.clip(grid + centre[None, :], -V_BOUND + 1, V_BOUND - 1)


def add_point_start(theta: np.ndarray, lay: Layout, new: np.ndarray, eps: float) -> np.ndarray:
    """Parameter vector of the (M+1)-point model: old points, new point with probability eps."""
    V, logp = unpack_het(theta, lay)
    big = lay.with_mass_points(lay.M + 1)
    out = np.zeros(big.n_params)
    out[: lay.n_struct] = theta[: lay.n_struct]
    V2 = np.vstack([V, new[None, :]])
    logp2 = np.append(logp + np.log1p(-eps), np.log(eps))
    vs, ws = big.het_slices()
    out[vs] = V2[1:].ravel()
    out[ws] = np.clip(logp2[1:] - logp2[0], -W_BOUND + 0.5, W_BOUND - 0.5)
    return out


# ----------------------------------------------------------------------------------------
# exit probabilities after programme start (the council's quantities)
# ----------------------------------------------------------------------------------------
def exit_geometry(data: ToEData, horizons: np.ndarray) -> dict:
    """Pieces of time after programme start (independent of the parameters)."""
    rows = data.treated
    S, C, J = data.n_states, data.n_periods, len(data.cuts)
    ps = data.ps[rows]
    calpos = data.calpos[rows]
    hmax = float(np.max(horizons))
    n = len(rows)
    pts = np.concatenate(
        [
            np.zeros((n, 1)),
            np.broadcast_to(data.ecuts[1:], (n, len(data.ecuts) - 1)),
            data.cuts[None, :] - ps[:, None],
            calpos - ps[:, None],
            np.broadcast_to(horizons, (n, len(horizons))),
        ],
        axis=1,
    )
    pts = np.sort(np.clip(pts, 0.0, hmax), axis=1)  # time since programme start
    L = np.diff(pts, axis=1)  # (n_t, B)
    mid = pts[:, :-1] + L / 2
    elapsed = ps[:, None] + mid
    j = np.clip(np.searchsorted(data.cuts, elapsed.ravel(), "right") - 1, 0, None)
    j = j.reshape(mid.shape)
    r = 1 + np.clip(np.searchsorted(data.ecuts, mid.ravel(), "right") - 1, 0, None)
    r = r.reshape(mid.shape)
    c = (calpos[:, None, :] < elapsed[:, :, None]).sum(axis=2)
    idx = (pts[:, None, :] <= horizons[None, :, None]).sum(axis=2) - 2  # (n_t, H)
    jj = np.repeat(np.arange(J), C)
    cc = np.tile(np.arange(C), J)
    untreated = (jj * S) * C + cc
    return {
        "rows": rows,
        "L": L,
        "cells": ((j * S + r) * C + c, (j * S) * C + c),
        "idx": idx,
        "untreated": untreated,
        "E0": data.E[rows][:, untreated],
        "Ep": data.Ep[rows],
        "horizons": horizons,
    }


def exit_probabilities(
    theta: np.ndarray,
    lay: Layout,
    data: ToEData,
    horizons: np.ndarray,
    interest: int,
    geom: dict | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Probability of exit to the cause of interest within h months after programme start.

    For every spell with an observed programme start ps: the posterior distribution of V
    given the spell's history up to ps (survival in benefit to ps, no earlier programme
    entry, entry at ps), then the cumulative incidence over [ps, ps + h] with all exit
    hazards shifted by their programme effect (P1) and without the programme (P0), other
    exits competing. Returns P1 (n_t, H), P0 (n_t, H) and the treated spells' indices.
    """
    if geom is None:
        geom = exit_geometry(data, horizons)
    rows = geom["rows"]
    K = data.K
    a = cell_rates(theta, lay)
    ex = linear_predictors(theta, lay, data, rows)
    V, logp = unpack_het(theta, lay)
    eV = np.exp(V)
    # posterior of V given the history up to programme start
    un = geom["untreated"]
    lam = np.empty((len(rows), K + 1))
    for k in range(K):
        lam[:, k] = ex[:, k] * (geom["E0"] @ np.exp(a[k][un]))
    lam[:, K] = ex[:, K] * (geom["Ep"] @ np.exp(a[K]))
    lw = logp[None, :] + V[None, :, K] - lam @ eV.T  # (n_t, M)
    w = np.exp(lw - logsumexp(lw, axis=1)[:, None])
    L = geom["L"][:, None, :]
    idx = np.broadcast_to(geom["idx"][:, None, :], (len(rows), lay.M, geom["idx"].shape[1]))
    out = []
    for cell in geom["cells"]:
        rates = np.stack([np.exp(a[k][cell]) * ex[:, [k]] for k in range(K)])  # (K, n_t, B)
        Htot = np.einsum("knb,mk->nmb", rates, eV[:, :K])  # (n_t, M, B)
        HL = Htot * L
        cum = np.cumsum(HL, axis=2)
        hk = rates[interest][:, None, :] * eV[None, :, interest, None]
        inc = np.exp(-(cum - HL)) * (hk / Htot) * (-np.expm1(-HL))
        cif = np.cumsum(inc, axis=2)  # CIF at the end of each piece
        out.append(np.einsum("nm,nmh->nh", w, np.take_along_axis(cif, idx, axis=2)))
    return out[0], out[1], rows
