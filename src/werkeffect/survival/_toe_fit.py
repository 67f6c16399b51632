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
    b += [(-W_BOUND, W_BOUND)] * ((lay.M - 1) * lay.n_groups)
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
    K = lay.K
    for q in range(lay.Q):
        if q > K:  # the return to benefit: exposure of the job spells (never truncated)
            expo = np.asarray(d.Er.sum(axis=0)).ravel()
        else:
            E = d.E if q < K else d.Ep
            expo = np.asarray(E.sum(axis=0)).ravel()
        if q <= K and d.n_spells and len(d.trunc):
            Et = d.Et if q < K else d.Ept
            expo = expo - np.asarray(Et.sum(axis=0)).ravel()
        G = lay.G[q]
        idx = lay.cell_slice[q]
        # baseline columns are the ones every cell loads on exactly once
        n_base = len(lay.baseline_index[q])
        ev = G[:, :n_base].T @ lik.counts[q]
        ex = G[:, :n_base].T @ expo
        theta[idx.start : idx.start + n_base] = np.log(np.maximum(ev, 0.5) / np.maximum(ex, 1e-9))
    return theta


def structural_preconditioner(H: np.ndarray, lay: Layout, n_persons: int):
    """Cholesky factor of the (per-person) information of the structural parameters.

    ``H`` is the Hessian of the log-likelihood at the fit without heterogeneity; later
    optimisations work in the coordinates ``z = C' (theta_struct - theta0_struct)``, in which
    the structural part of the problem is close to the identity (L-BFGS then needs several
    times fewer iterations; the optimum is the same). ``None`` if the information is not
    positive definite.
    """
    n = lay.n_struct
    try:
        return np.linalg.cholesky(-H[:n, :n] / max(n_persons, 1))
    except np.linalg.LinAlgError:
        return None


def optimise(
    lik: Likelihood,
    lay: Layout,
    theta0: np.ndarray,
    maxiter: int,
    precond: np.ndarray | None = None,
    het_scaling: bool = False,
    ftol: float = 1e-14,
):
    """L-BFGS-B on the mean log-likelihood per person.

    ``ftol``: stop when an iteration lowers the mean log-likelihood by less than ``ftol``
    times its size (1e-14: to machine precision; the search over the number of mass points
    uses a looser value and the chosen fit is then finished with the strict one).

    ``precond``: lower Cholesky factor C of the structural information (see
    :func:`structural_preconditioner`); the structural parameters are then optimised as
    ``theta_s = theta0_s + C^-T z_s``. With ``het_scaling`` (and mass points), the columns of
    the Hessian for the heterogeneity parameters are computed at ``theta0`` (two gradients
    per parameter) and the heterogeneity parameters become ``theta_h = theta0_h + s z_h``
    with ``theta_s`` following along its conditional optimum (``B s z_h``,
    ``B = -H_ss^-1 H_sh``) and ``s`` the inverse square roots of the diagonal of the Schur
    complement: the problem in z is then close to the identity near ``theta0``. Each
    heterogeneity parameter still maps to one z coordinate, so its bounds stay boxes.
    The optimum is the same as without the change of coordinates.
    """
    scale = 1.0 / max(lik.data.n_persons, 1)
    ns = lay.n_struct
    P = lay.n_params
    theta0 = np.asarray(theta0, dtype=float).copy()
    T = B = None
    sh = np.ones(P - ns)
    if precond is not None:
        from scipy.linalg import cho_solve, solve_triangular

        T = solve_triangular(precond, np.eye(ns), lower=True).T  # C^-T
        if het_scaling and P > ns:
            cols = np.empty((P, P - ns))
            for j in range(P - ns):
                i = ns + j
                h = 1e-5 * max(1.0, abs(theta0[i]))
                tp, tm = theta0.copy(), theta0.copy()
                tp[i] += h
                tm[i] -= h
                cols[:, j] = (lik.loglik(tp, lay)[1] - lik.loglik(tm, lay)[1]) / (2 * h)
            Hsh = -cols[:ns] * scale
            Hhh = -cols[ns:] * scale
            Hhh = (Hhh + Hhh.T) / 2
            Bm = -cho_solve((precond, True), Hsh)  # (ns, nh)
            schur = np.diag(Hhh + Hsh.T @ Bm)
            if np.all(np.isfinite(Bm)) and np.all(np.isfinite(schur)):
                B = Bm
                ok = schur > 1e-8
                sh = np.where(ok, 1.0 / np.sqrt(np.where(ok, schur, 1.0)), 1.0)

    def to_theta(z):
        if T is None:
            return z
        th = np.empty(P)
        zh = sh * z[ns:]
        th[ns:] = theta0[ns:] + zh
        th[:ns] = theta0[:ns] + T @ z[:ns]
        if B is not None:
            th[:ns] += B @ zh
        return th

    def f(z):
        th = to_theta(z)
        ll, g = lik.loglik(th, lay)
        if not np.isfinite(ll):
            return np.inf, np.zeros_like(th)
        if T is not None:
            gz = np.empty(P)
            gz[:ns] = T.T @ g[:ns]
            gh = g[ns:] if B is None else g[ns:] + B.T @ g[:ns]
            gz[ns:] = sh * gh
            g = gz
        return -ll * scale, -g * scale

    bounds = bounds_for(lay)
    if T is None:
        z0 = theta0
    else:
        z0 = np.zeros(P)
        bounds = [(None, None)] * ns + [
            (None if b[0] is None else (b[0] - t) / s, None if b[1] is None else (b[1] - t) / s)
            for b, t, s in zip(bounds[ns:], theta0[ns:], sh, strict=True)
        ]
    res = optimize.minimize(
        f,
        z0,
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={
            "maxiter": maxiter,
            "maxfun": 2 * maxiter,
            "ftol": ftol,
            "gtol": 1e-9,
            "maxcor": 30,
        },
    )
    return to_theta(res.x), -res.fun / scale, res


def optimise_restarted(
    lik: Likelihood,
    lay: Layout,
    theta0: np.ndarray,
    maxiter: int,
    precond: np.ndarray | None,
    ftol: float = 1e-14,
    block: int = 250,
):
    """:func:`optimise` with the heterogeneity scaling renewed every ``block`` iterations.

    The scaling is computed at the starting point; when a mass point moves far (towards a
    group that hardly ever exits, say), it goes stale and L-BFGS crawls. Restarting from the
    current point with a fresh scaling (and fresh curvature pairs) is much faster there. The
    iteration count over all blocks is limited by ``maxiter``; the returned result's ``nit``
    is the total.
    """
    theta = theta0
    total = 0
    while True:
        n = min(block, maxiter - total)
        theta, ll, res = optimise(lik, lay, theta, n, precond, het_scaling=True, ftol=ftol)
        total += int(res.nit)
        if res.success or total >= maxiter or res.nit < n:
            res.nit = total
            return theta, ll, res


def flat_heterogeneity(H: np.ndarray, lay: Layout, n_persons: int) -> np.ndarray:
    """Heterogeneity parameters on which the likelihood does not depend (information per
    person below 1e-6, i.e. a standard error above 1000/sqrt(persons)): a location run off
    towards -inf (a group that never enters / exits / returns) without reaching the bound,
    or the logit probability of a point that one group (the inflow, say) does not use while
    the other does (probability ~0 there). They are held fixed like parameters at a bound
    (no standard error); left free they make the Hessian singular or, through rounding in
    its off-diagonal entries, slightly indefinite (a return location at -4.7 with
    information 5e-4 among 40,000 persons gave an eigenvalue of -1e-5)."""
    out = np.zeros(H.shape[0], dtype=bool)
    vs, ws = lay.het_slices()
    idx = np.concatenate([np.arange(H.shape[0])[vs], np.arange(H.shape[0])[ws]])
    out[idx] = -np.diag(H)[idx] < 1e-6 * max(n_persons, 1)
    return out


#: relative step of the Hessian's forward differences of the analytic gradient: small
#: enough that the truncation error is ~1e-6 of an entry, large enough that rounding in the
#: gradient (a sum over every person) stays far below it
HESSIAN_STEP = 1e-6


def numerical_hessian(
    lik: Likelihood, lay: Layout, theta: np.ndarray, grad: np.ndarray | None = None
) -> np.ndarray:
    """Forward differences of the analytic gradient from ``theta``, symmetrised.

    One gradient per parameter (central differences take two; at national scale each is a
    pass over a million spells). ``grad``: the gradient at ``theta`` if already known.
    """
    P = len(theta)
    g0 = lik.loglik(theta, lay)[1] if grad is None else grad
    H = np.empty((P, P))
    for i in range(P):
        h = HESSIAN_STEP * max(1.0, abs(theta[i]))
        tp = theta.copy()
        tp[i] += h
        H[:, i] = (lik.loglik(tp, lay)[1] - g0) / h
    return (H + H.T) / 2


def newton_polish(lik, lay, theta, max_steps=6, H=None):
    """A few Newton steps on the free parameters (exact gradient, numerical Hessian).

    Returns theta, loglik, gradient, Hessian (at the returned theta), free mask and the
    Newton decrement g' (-H)^-1 g (twice the expected further gain in log-likelihood).
    ``H``: the Hessian at ``theta`` if already computed.
    """
    ll, g = lik.loglik(theta, lay)
    n_p = lik.data.n_persons
    if H is None:
        H = numerical_hessian(lik, lay, theta, g)
    free = ~at_bounds(theta, lay) & ~flat_heterogeneity(H, lay, n_p)
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
        H = numerical_hessian(lik, lay, theta, g)
        free = ~at_bounds(theta, lay) & ~flat_heterogeneity(H, lay, n_p)
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
    """Parameter vector of the (M+1)-point model: old points, new point with probability eps
    (in every group of persons)."""
    V, logp = unpack_het(theta, lay)
    big = lay.with_mass_points(lay.M + 1)
    out = np.zeros(big.n_params)
    out[: lay.n_struct] = theta[: lay.n_struct]
    V2 = np.vstack([V, new[None, :]])
    logp2 = np.column_stack([logp + np.log1p(-eps), np.full(lay.n_groups, np.log(eps))])
    vs, ws = big.het_slices()
    out[vs] = V2[1:].ravel()
    out[ws] = np.clip(logp2[:, 1:] - logp2[:, :1], -W_BOUND + 0.5, W_BOUND - 0.5).ravel()
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
    index_shift: tuple[int, float] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Probability of exit to the cause of interest within h months after programme start.

    For every spell with an observed programme start ps: the posterior distribution of V
    given the spell's history up to ps (survival in benefit to ps, no earlier programme
    entry, entry at ps), then the cumulative incidence over [ps, ps + h] with all exit
    hazards shifted by their programme effect (P1) and without the programme (P0), other
    exits competing. Returns P1 (n_t, H), P0 (n_t, H) and the treated spells' indices.

    ``index_shift=(q, s)`` adds s to every spell's linear predictor x'beta of process q
    (exits 0..K-1, programme entry K): a spell's probabilities depend on its own predictor
    only, so one such pass gives the derivative of every spell's probabilities with respect
    to it, and through x the derivative with respect to all of the process's coefficients.
    """
    if geom is None:
        geom = exit_geometry(data, horizons)
    rows = geom["rows"]
    K = data.K
    a = cell_rates(theta, lay)
    ex = linear_predictors(theta, lay, data, rows)
    if index_shift is not None:
        q, s = index_shift
        ex[:, q] *= np.exp(s)
    V, logp = unpack_het(theta, lay)
    pg = data.pgroup[data.person[rows]] if data.pgroup is not None else np.zeros(len(rows), int)
    logp = logp[pg]  # (n_t, M): prior of each treated spell's person
    eV = np.exp(V)
    # posterior of V given the history up to programme start
    un = geom["untreated"]
    lam = np.empty((len(rows), K + 1))
    for k in range(K):
        lam[:, k] = ex[:, k] * (geom["E0"] @ np.exp(a[k][un]))
    lam[:, K] = ex[:, K] * (geom["Ep"] @ np.exp(a[K]))
    lw = logp + V[None, :, K] - lam @ eV[:, : K + 1].T  # (n_t, M); the return plays no part
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
