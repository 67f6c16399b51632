"""Log-likelihood of the timing-of-events model and its analytic gradient.

Processes q = 0..K-1 are the exit causes, q = K is programme entry. Given a mass point
v (one value per process) the log-likelihood of person i is

    c_i + sum_q [ D_iq v_q - exp(v_q) Lambda_iq ]

where D_iq counts the person's events of process q, Lambda_iq is the integrated hazard
(without V) summed over the person's spells and c_i collects the log hazards at the events.
With left-truncated spells the likelihood is conditional on the history up to the entry time
(survival in benefit and the programme history up to entry); the denominator has the same
form with the pre-entry quantities. Integrating over the discrete distribution of V:

    LL = sum_i c_i + sum_i logsumexp_m(log p_m + D_i v_m - Lambda_i exp(v_m))
         - sum_{i truncated} logsumexp_m(log p_m + D'_i v_m - Lambda'_i exp(v_m))

Mass point 1 sits at v = 0 (the baseline absorbs the location); mass points 2..M have free
locations; probabilities are p = softmax(0, omega_2, ..., omega_M).
"""

from __future__ import annotations

import numpy as np

from werkeffect.survival._toe_data import Layout, ToEData


def logsumexp(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Row-wise log-sum-exp (plain numpy; scipy's version is slow for many small calls)."""
    m = np.max(x, axis=axis, keepdims=True)
    return np.squeeze(m, axis=axis) + np.log(np.sum(np.exp(x - m), axis=axis))


def unpack_het(theta: np.ndarray, lay: Layout) -> tuple[np.ndarray, np.ndarray]:
    vs, ws = lay.het_slices()
    V = np.zeros((lay.M, lay.Q))
    if lay.M > 1:
        V[1:] = theta[vs].reshape(lay.M - 1, lay.Q)
    omega = np.concatenate([[0.0], theta[ws]])
    logp = omega - logsumexp(omega)
    return V, logp


def cell_rates(theta: np.ndarray, lay: Layout) -> list[np.ndarray]:
    """Log hazard per exposure cell (without covariates and V), per process."""
    return [lay.G[q] @ theta[lay.cell_slice[q]] for q in range(lay.Q)]


def linear_predictors(theta: np.ndarray, lay: Layout, data: ToEData, rows=None) -> np.ndarray:
    """exp(x'beta_q) per spell and process -> (n, Q)."""
    X = data.X if rows is None else data.X[rows]
    Xp = data.Xp if rows is None else data.Xp[rows]
    K = lay.Q - 1
    out = np.empty((X.shape[0], lay.Q))
    if X.shape[1]:
        B = np.column_stack([theta[lay.beta_slice[q]] for q in range(K)])
        out[:, :K] = X @ B
    else:
        out[:, :K] = 0.0
    out[:, K] = Xp @ theta[lay.beta_slice[K]]
    return np.exp(out)


class Likelihood:
    """Cached constants of the data; evaluates LL, gradient and per-person scores."""

    def __init__(self, data: ToEData):
        self.data = data
        d = data
        self.K = d.K
        S = d.n_states
        self.ncell = d.E.shape[1]
        # event counts per cell / x sums (events after the entry time only)
        self.counts = []
        self.xsum = []
        for k in range(d.K):
            dk = d.d[:, k]
            self.counts.append(np.bincount(d.cell, weights=dk, minlength=self.ncell))
            self.xsum.append(d.X.T @ dk)
        self.counts.append(np.bincount(d.cellp, weights=d.dp_post, minlength=d.Ep.shape[1]))
        self.xsum.append(d.Xp.T @ d.dp_post)
        # events per person and process (all / before entry)
        Dsp = np.column_stack([d.d, d.dp])
        self.D = np.asarray(d.agg @ Dsp)
        self.has_trunc = len(d.trunc) > 0
        if self.has_trunc:
            Dt = np.zeros((len(d.trunc), d.K + 1))
            Dt[:, d.K] = d.dpt
            self.Dt = np.asarray(d.tagg @ Dt)
        self.S = S
        self.ET, self.EpT = d.E.T.tocsr(), d.Ep.T.tocsr()
        self.EtT, self.EptT = d.Et.T.tocsr(), d.Ept.T.tocsr()

    # ------------------------------------------------------------------------------------
    def _lambdas(self, theta, lay):
        d = self.data
        a = cell_rates(theta, lay)
        ex = linear_predictors(theta, lay, d)
        K = self.K
        A = np.exp(np.column_stack(a[:K]))  # (Cx, K)
        Ap = np.exp(a[K])
        base = np.empty((d.n_spells, K + 1))
        base[:, :K] = d.E @ A
        base[:, K] = d.Ep @ Ap
        lam = base * ex
        out = {"a": a, "ex": ex, "A": A, "Ap": Ap, "lam": lam}
        if self.has_trunc:
            ext = ex[d.trunc]
            bt = np.empty((len(d.trunc), K + 1))
            bt[:, :K] = d.Et @ A
            bt[:, K] = d.Ept @ Ap
            out["ext"] = ext
            out["lamt"] = bt * ext
        return out

    def _cterm(self, theta, lay, a):
        c = 0.0
        for q in range(lay.Q):
            c += self.counts[q] @ a[q] + self.xsum[q] @ theta[lay.beta_slice[q]]
        return c

    def loglik(self, theta, lay, grad=True):
        d = self.data
        L = self._lambdas(theta, lay)
        V, logp = unpack_het(theta, lay)
        eV = np.exp(V)  # (M, Q)
        lam_i = np.asarray(d.agg @ L["lam"])  # (n_p, Q)
        num = self.D @ V.T - lam_i @ eV.T + logp  # (n_p, M)
        lse = logsumexp(num, axis=1)
        ll = self._cterm(theta, lay, L["a"]) + lse.sum()
        if self.has_trunc:
            lam_t = np.asarray(d.tagg @ L["lamt"])
            den = self.Dt @ V.T - lam_t @ eV.T + logp
            lset = logsumexp(den, axis=1)
            ll -= lset.sum()
        if not grad:
            return ll
        w = np.exp(num - lse[:, None])  # posterior weights (n_p, M)
        R = w @ eV  # (n_p, Q) posterior mean of exp(V)
        g = np.zeros(lay.n_params)
        Rs = R[d.person]  # (n, Q)
        W = Rs * L["ex"]  # (n, Q)
        K = self.K
        gcell_x = self.ET @ W[:, :K]  # (Cx, K)
        gcell_p = self.EpT @ W[:, K]
        lamw = Rs * L["lam"]
        gx = d.X.T @ lamw[:, :K]  # (p, K)
        gbeta = [gx[:, k] for k in range(K)] + [d.Xp.T @ lamw[:, K]]
        if self.has_trunc:
            wt = np.exp(den - lset[:, None])
            Rts = (wt @ eV)[d.trow]  # (n_t, Q)
            Wt = Rts * L["ext"]
            gcell_x = gcell_x - self.EtT @ Wt[:, :K]
            gcell_p = gcell_p - self.EptT @ Wt[:, K]
            lamwt = Rts * L["lamt"]
            Xt, Xpt = d.X[d.trunc], d.Xp[d.trunc]
            for k in range(K):
                gbeta[k] = gbeta[k] - Xt.T @ lamwt[:, k]
            gbeta[K] = gbeta[K] - Xpt.T @ lamwt[:, K]
        for q in range(lay.Q):
            if q < K:
                gc = self.counts[q] - gcell_x[:, q] * L["A"][:, q]
            else:
                gc = self.counts[q] - gcell_p * L["Ap"]
            g[lay.cell_slice[q]] = lay.G[q].T @ gc
            g[lay.beta_slice[q]] = self.xsum[q] - gbeta[q]
        if lay.M > 1:
            vs, ws = lay.het_slices()
            gV = w.T @ self.D - eV * (w.T @ lam_i)  # (M, Q)
            gw = w.sum(axis=0)
            if self.has_trunc:
                gV = gV - (wt.T @ self.Dt - eV * (wt.T @ lam_t))
                n_nt = d.n_persons - len(d.tperson)
                gw = gw - (wt.sum(axis=0) + n_nt * np.exp(logp))
            else:
                gw = gw - d.n_persons * np.exp(logp)
            g[vs] = gV[1:].ravel()
            g[ws] = gw[1:]
        return ll, g

    # ------------------------------------------------------------------------------------
    def scores(self, theta, lay) -> np.ndarray:
        """Per-person score contributions (n_persons, n_params); they sum to the gradient."""
        d = self.data
        L = self._lambdas(theta, lay)
        V, logp = unpack_het(theta, lay)
        eV = np.exp(V)
        lam_i = np.asarray(d.agg @ L["lam"])
        num = self.D @ V.T - lam_i @ eV.T + logp
        w = np.exp(num - logsumexp(num, axis=1)[:, None])
        R = w @ eV
        Rs = R[d.person]
        K = self.K
        n = d.n_spells
        out = np.zeros((d.n_persons, lay.n_params))
        trunc_mask = np.zeros(n, dtype=bool)
        trunc_mask[d.trunc] = True
        if self.has_trunc:
            lam_t = np.asarray(d.tagg @ L["lamt"])
            den = self.Dt @ V.T - lam_t @ eV.T + logp
            wt = np.exp(den - logsumexp(den, axis=1)[:, None])
            Rts = (wt @ eV)[d.trow]
        for q in range(lay.Q):
            if q < K:
                E, Et, X, dq, cellq = d.E.toarray(), d.Et.toarray(), d.X, d.d[:, q], d.cell
                rate = L["A"][:, q]
            else:
                E, Et, X, dq, cellq = d.Ep.toarray(), d.Ept.toarray(), d.Xp, d.dp_post, d.cellp
                rate = L["Ap"]
            wq = Rs[:, q] * L["ex"][:, q]
            sc = -(E * (wq * 1.0)[:, None]) * rate[None, :]  # (n, cells)
            sc[np.arange(n), cellq] += dq
            sb = X * (dq - Rs[:, q] * L["lam"][:, q])[:, None]
            if self.has_trunc:
                wtq = Rts[:, q] * L["ext"][:, q]
                sc[d.trunc] += (Et * wtq[:, None]) * rate[None, :]
                sb[d.trunc] += X[d.trunc] * (Rts[:, q] * L["lamt"][:, q])[:, None]
            out[:, lay.cell_slice[q]] = np.asarray(d.agg @ (sc @ lay.G[q]))
            out[:, lay.beta_slice[q]] = np.asarray(d.agg @ sb)
        if lay.M > 1:
            vs, ws = lay.het_slices()
            # gV_i[m, q] = w_im (D_iq - e^{v_mq} lam_iq)
            gV = w[:, 1:, None] * (self.D[:, None, :] - eV[None, 1:, :] * lam_i[:, None, :])
            gw = w[:, 1:] - np.exp(logp[1:])[None, :]
            if self.has_trunc:
                tp = d.tperson
                gV[tp] -= wt[:, 1:, None] * (
                    self.Dt[:, None, :] - eV[None, 1:, :] * lam_t[:, None, :]
                )
                gw[tp] -= wt[:, 1:] - np.exp(logp[1:])[None, :]
            out[:, vs] = gV.reshape(d.n_persons, -1)
            out[:, ws] = gw
        return out

    def posterior(self, theta, lay) -> np.ndarray:
        """Posterior probabilities of the mass points per person given all their data."""
        d = self.data
        L = self._lambdas(theta, lay)
        V, logp = unpack_het(theta, lay)
        lam_i = np.asarray(d.agg @ L["lam"])
        num = self.D @ V.T - lam_i @ np.exp(V).T + logp
        return np.exp(num - logsumexp(num, axis=1)[:, None])

    def candidate_gain(self, theta, lay, cands: np.ndarray, eps) -> np.ndarray:
        """LL after adding each candidate location with probability eps, others fixed.

        ``eps`` may be a sequence: returns (len(eps), n_candidates).
        """
        d = self.data
        eps_arr = np.atleast_1d(np.asarray(eps, dtype=float))
        L = self._lambdas(theta, lay)
        V, logp = unpack_het(theta, lay)
        eV = np.exp(V)
        lam_i = np.asarray(d.agg @ L["lam"])
        num = self.D @ V.T - lam_i @ eV.T + logp
        lse = logsumexp(num, axis=1)
        c = self._cterm(theta, lay, L["a"])
        if self.has_trunc:
            lam_t = np.asarray(d.tagg @ L["lamt"])
            den = self.Dt @ V.T - lam_t @ eV.T + logp
            lset = logsumexp(den, axis=1)
        out = np.empty((len(eps_arr), len(cands)))
        for s in range(0, len(cands), 64):
            C = cands[s : s + 64]
            new = self.D @ C.T - lam_i @ np.exp(C).T  # (n_p, c)
            if self.has_trunc:
                newt = self.Dt @ C.T - lam_t @ np.exp(C).T
            for e, ep in enumerate(eps_arr):
                tot = np.logaddexp(np.log1p(-ep) + lse[:, None], np.log(ep) + new).sum(axis=0)
                if self.has_trunc:
                    tot -= np.logaddexp(np.log1p(-ep) + lset[:, None], np.log(ep) + newt).sum(
                        axis=0
                    )
                out[e, s : s + 64] = c + tot
        return out if np.ndim(eps) else out[0]
