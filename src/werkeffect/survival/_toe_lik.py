"""Log-likelihood of the timing-of-events model and its analytic gradient.

Processes q = 0..K-1 are the exit causes, q = K is programme entry and, when job spells are
given, q = K + 1 the return to benefit after an exit to work. Given a mass point
v (one value per process) the log-likelihood of person i is

    c_i + sum_q [ D_iq v_q - exp(v_q) Lambda_iq ]

where D_iq counts the person's events of process q, Lambda_iq is the integrated hazard
(without V) summed over the person's spells (benefit spells for the exits and programme
entry, job spells for the return) and c_i collects the log hazards at the events.
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
    """Mass-point locations V (M, Q) and log probabilities (n_groups, M)."""
    vs, ws = lay.het_slices()
    V = np.zeros((lay.M, lay.Q))
    if lay.M > 1:
        V[1:] = theta[vs].reshape(lay.M - 1, lay.Q)
    omega = np.zeros((lay.n_groups, lay.M))
    omega[:, 1:] = theta[ws].reshape(lay.n_groups, lay.M - 1)
    logp = omega - logsumexp(omega, axis=1)[:, None]
    return V, logp


def cell_rates(theta: np.ndarray, lay: Layout) -> list[np.ndarray]:
    """Log hazard per exposure cell (without covariates and V), per process."""
    return [lay.G[q] @ theta[lay.cell_slice[q]] for q in range(lay.Q)]


def linear_predictors(theta: np.ndarray, lay: Layout, data: ToEData, rows=None) -> np.ndarray:
    """exp(x'beta_q) per spell and process -> (n, Q)."""
    X = data.X if rows is None else data.X[rows]
    Xp = data.Xp if rows is None else data.Xp[rows]
    K = lay.K
    out = np.empty((X.shape[0], K + 1))
    if X.shape[1]:
        B = np.column_stack([theta[lay.beta_slice[q]] for q in range(K)])
        out[:, :K] = X @ B
    else:
        out[:, :K] = 0.0
    out[:, K] = Xp @ theta[lay.beta_slice[K]]
    return np.exp(out)


class Likelihood:
    """Cached constants of the data; evaluates LL, gradient and per-person scores.

    Person-level arrays are held as (M, n_persons) (mass points in rows), so the sums over
    mass points are fast row operations.
    """

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
        self.R = int(d.n_return)
        self.Q = d.K + 1 + self.R
        # events per person and process (all / before entry)
        Dsp = np.column_stack([d.d, d.dp])
        self.D = np.asarray(d.agg @ Dsp)
        if self.R:
            # the return to benefit: events and covariate sums over the job spells
            self.counts.append(np.bincount(d.cellr, weights=d.dr, minlength=d.Er.shape[1]))
            self.xsum.append(d.Z.T @ d.dr)
            self.D = np.column_stack([self.D, d.ragg @ d.dr])
            self.ErT = d.Er.T.tocsr()
        self.DT = np.ascontiguousarray(self.D.T)  # (Q, n_p)
        self.has_trunc = len(d.trunc) > 0
        if self.has_trunc:
            # job spells are not left-truncated: no pre-entry part of the return process
            Dt = np.zeros((len(d.trunc), self.Q))
            Dt[:, d.K] = d.dpt
            self.Dt = np.asarray(d.tagg @ Dt)
            self.DtT = np.ascontiguousarray(self.Dt.T)
        self.S = S
        self.ET, self.EpT = d.E.T.tocsr(), d.Ep.T.tocsr()
        self.EtT, self.EptT = d.Et.T.tocsr(), d.Ept.T.tocsr()
        # groups of persons with their own mass-point probabilities
        pg = np.zeros(d.n_persons, dtype=np.int64) if d.pgroup is None else d.pgroup
        self.pgroup = pg
        self.n_groups = int(d.n_groups)
        self.tgroup = pg[d.tperson] if self.has_trunc else np.zeros(0, dtype=np.int64)
        ng = self.n_groups
        self.n_in_group = np.bincount(pg, minlength=ng).astype(float)
        n_t_group = np.bincount(self.tgroup, minlength=ng).astype(float)
        self.n_untrunc_group = self.n_in_group - n_t_group
        self.same_X = d.X.shape == d.Xp.shape and np.array_equal(d.X, d.Xp)
        self.XXp = d.X if self.same_X else np.column_stack([d.X, d.Xp])

    # ------------------------------------------------------------------------------------
    def _ex(self, theta, lay):
        """exp(x'beta_q) per spell and process (n, Q), one matrix product."""
        K = self.K
        px = self.data.X.shape[1]
        if self.same_X:
            B = np.column_stack([theta[lay.beta_slice[q]] for q in range(K + 1)])
        else:
            B = np.zeros((self.XXp.shape[1], K + 1))
            for q in range(K):
                B[:px, q] = theta[lay.beta_slice[q]]
            B[px:, K] = theta[lay.beta_slice[K]]
        return np.exp(self.XXp @ B)

    def _lambdas(self, theta, lay):
        d = self.data
        a = cell_rates(theta, lay)
        ex = self._ex(theta, lay)
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
        if self.R:
            exr = np.exp(d.Z @ theta[lay.beta_slice[K + 1]])
            Ar = np.exp(a[K + 1])
            out["exr"], out["Ar"] = exr, Ar
            out["lamr"] = (d.Er @ Ar) * exr  # integrated return hazard per job spell
        return out

    def _person_lam(self, L) -> np.ndarray:
        """Integrated hazards per process and person (Q, n_p), V excluded."""
        d = self.data
        lam = np.asarray(d.agg @ L["lam"]).T
        if self.R:
            lam = np.vstack([lam, d.ragg @ L["lamr"]])
        return np.ascontiguousarray(lam)

    def _trunc_lam(self, L) -> np.ndarray:
        """The same up to the entry times (Q, n_tp): no return process before entry."""
        lam = np.asarray(self.data.tagg @ L["lamt"]).T
        if self.R:
            lam = np.vstack([lam, np.zeros((1, lam.shape[1]))])
        return np.ascontiguousarray(lam)

    def _cterm(self, theta, lay, a):
        c = 0.0
        for q in range(lay.Q):
            c += self.counts[q] @ a[q] + self.xsum[q] @ theta[lay.beta_slice[q]]
        return c

    def _mix(self, V, eV, logp, lam_iT, DT, group):
        """Log joint of data and mass point (M, n) and its log-sum over mass points."""
        num = V @ DT - eV @ lam_iT
        num += logp.T[:, group] if self.n_groups > 1 else logp[0][:, None]
        mx = num.max(axis=0)
        lse = mx + np.log(np.exp(num - mx).sum(axis=0))
        return num, lse

    def loglik(self, theta, lay, grad=True):
        d = self.data
        L = self._lambdas(theta, lay)
        V, logp = unpack_het(theta, lay)
        eV = np.exp(V)  # (M, Q)
        lam_iT = self._person_lam(L)  # (Q, n_p)
        num, lse = self._mix(V, eV, logp, lam_iT, self.DT, self.pgroup)
        ll = self._cterm(theta, lay, L["a"]) + lse.sum()
        if self.has_trunc:
            lam_tT = self._trunc_lam(L)
            den, lset = self._mix(V, eV, logp, lam_tT, self.DtT, self.tgroup)
            ll -= lset.sum()
        if not grad:
            return ll
        w = np.exp(num - lse)  # posterior weights (M, n_p)
        R = eV.T @ w  # (Q, n_p) posterior mean of exp(V)
        g = np.zeros(lay.n_params)
        K = self.K
        Rs = R.T[d.person][:, : K + 1]  # (n, K + 1): benefit-spell processes
        lamw = Rs * L["lam"]
        W = Rs * L["ex"]  # (n, K + 1)
        gcell_x = self.ET @ W[:, :K]  # (Cx, K)
        gcell_p = self.EpT @ W[:, K]
        if self.has_trunc:
            wt = np.exp(den - lset)  # (M, n_tp)
            Rts = (eV.T @ wt).T[d.trow][:, : K + 1]  # (n_t, K + 1)
            Wt = Rts * L["ext"]
            gcell_x = gcell_x - self.EtT @ Wt[:, :K]
            gcell_p = gcell_p - self.EptT @ Wt[:, K]
            lamwt = Rts * L["lamt"]
            lamw_all = lamw.copy()
            lamw_all[d.trunc] -= lamwt  # each spell is truncated at most once
        else:
            lamw_all = lamw
        if self.same_X:
            gb = d.X.T @ lamw_all  # (p, Q)
            gbeta = [gb[:, q] for q in range(K + 1)]
        else:
            gx = d.X.T @ lamw_all[:, :K]
            gbeta = [gx[:, k] for k in range(K)] + [d.Xp.T @ lamw_all[:, K]]
        for q in range(K + 1):
            if q < K:
                gc = self.counts[q] - gcell_x[:, q] * L["A"][:, q]
            else:
                gc = self.counts[q] - gcell_p * L["Ap"]
            g[lay.cell_slice[q]] = lay.G[q].T @ gc
            g[lay.beta_slice[q]] = self.xsum[q] - gbeta[q]
        if self.R:
            q = K + 1
            Rr = R[q][d.rperson]  # posterior mean of exp(v_return) per job spell
            gc = self.counts[q] - (self.ErT @ (Rr * L["exr"])) * L["Ar"]
            g[lay.cell_slice[q]] = lay.G[q].T @ gc
            g[lay.beta_slice[q]] = self.xsum[q] - d.Z.T @ (Rr * L["lamr"])
        if lay.M > 1:
            vs, ws = lay.het_slices()
            gV = w @ self.D - eV * (w @ lam_iT.T)  # (M, Q)
            gw = self._group_sums(w, self.pgroup)  # (n_groups, M)
            gw -= self.n_untrunc_group[:, None] * np.exp(logp)
            if self.has_trunc:
                gV = gV - (wt @ self.Dt - eV * (wt @ lam_tT.T))
                gw -= self._group_sums(wt, self.tgroup)
            g[vs] = gV[1:].ravel()
            g[ws] = gw[:, 1:].ravel()
        return ll, g

    def _group_sums(self, w, group):
        """Sum of the (M, n) weights per group -> (n_groups, M)."""
        if self.n_groups == 1:
            return w.sum(axis=1)[None, :]
        return np.stack([w[:, group == k].sum(axis=1) for k in range(self.n_groups)])

    # ------------------------------------------------------------------------------------
    def scores(self, theta, lay) -> np.ndarray:
        """Per-person score contributions (n_persons, n_params); they sum to the gradient."""
        d = self.data
        L = self._lambdas(theta, lay)
        V, logp = unpack_het(theta, lay)
        eV = np.exp(V)
        lam_iT = self._person_lam(L)
        num, lse = self._mix(V, eV, logp, lam_iT, self.DT, self.pgroup)
        w = np.exp(num - lse).T  # (n_p, M)
        lam_i = lam_iT.T
        R = w @ eV
        Rs = R[d.person]
        K = self.K
        n = d.n_spells
        out = np.zeros((d.n_persons, lay.n_params))
        if self.has_trunc:
            lam_tT = self._trunc_lam(L)
            den, lset = self._mix(V, eV, logp, lam_tT, self.DtT, self.tgroup)
            wt = np.exp(den - lset).T
            lam_t = lam_tT.T
            Rts = (wt @ eV)[d.trow]
        for q in range(K + 1):
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
        if self.R:
            q = K + 1
            Rr = R[d.rperson, q]
            sc = -(d.Er.toarray() * (Rr * L["exr"])[:, None]) * L["Ar"][None, :]
            sc[np.arange(len(Rr)), d.cellr] += d.dr
            out[:, lay.cell_slice[q]] = np.asarray(d.ragg @ (sc @ lay.G[q]))
            sb = d.Z * (d.dr - Rr * L["lamr"])[:, None]
            out[:, lay.beta_slice[q]] = np.asarray(d.ragg @ sb)
        if lay.M > 1:
            vs, ws = lay.het_slices()
            # gV_i[m, q] = w_im (D_iq - e^{v_mq} lam_iq)
            gV = w[:, 1:, None] * (self.D[:, None, :] - eV[None, 1:, :] * lam_i[:, None, :])
            p = np.exp(logp)  # (n_groups, M)
            gw1 = w[:, 1:] - p[self.pgroup][:, 1:]  # (n_p, M-1)
            if self.has_trunc:
                tp = d.tperson
                gV[tp] -= wt[:, 1:, None] * (
                    self.Dt[:, None, :] - eV[None, 1:, :] * lam_t[:, None, :]
                )
                gw1[tp] -= wt[:, 1:] - p[self.tgroup][:, 1:]
            out[:, vs] = gV.reshape(d.n_persons, -1)
            gw = np.zeros((d.n_persons, lay.n_groups, lay.M - 1))
            gw[np.arange(d.n_persons), self.pgroup] = gw1
            out[:, ws] = gw.reshape(d.n_persons, -1)
        return out

    def posterior(self, theta, lay) -> np.ndarray:
        """Posterior probabilities of the mass points per person given all their data."""
        L = self._lambdas(theta, lay)
        V, logp = unpack_het(theta, lay)
        lam_iT = self._person_lam(L)
        num, lse = self._mix(V, np.exp(V), logp, lam_iT, self.DT, self.pgroup)
        return np.exp(num - lse).T

    def candidate_gain(self, theta, lay, cands: np.ndarray, eps) -> np.ndarray:
        """LL after adding each candidate location with probability eps, others fixed.

        ``eps`` may be a sequence: returns (len(eps), n_candidates). The new point gets
        probability eps in every group of persons (the others are scaled by 1 - eps).
        """
        eps_arr = np.atleast_1d(np.asarray(eps, dtype=float))
        L = self._lambdas(theta, lay)
        V, logp = unpack_het(theta, lay)
        eV = np.exp(V)
        lam_iT = self._person_lam(L)
        _, lse = self._mix(V, eV, logp, lam_iT, self.DT, self.pgroup)
        c = self._cterm(theta, lay, L["a"])
        if self.has_trunc:
            lam_tT = self._trunc_lam(L)
            _, lset = self._mix(V, eV, logp, lam_tT, self.DtT, self.tgroup)
        base = c + lse.sum() - (lset.sum() if self.has_trunc else 0.0)

        def gain(DT, lamT, lse_old, C):
            # sum_i log((1 - eps) + eps exp(new_i - lse_i)), for every eps at once
            r = C @ DT - np.exp(C) @ lamT - lse_old  # (c, n)
            er = np.expm1(np.minimum(r, 700.0))
            return np.stack([np.log1p(ep * er).sum(axis=1) for ep in eps_arr])

        out = np.empty((len(eps_arr), len(cands)))
        for s in range(0, len(cands), 64):
            C = cands[s : s + 64]
            tot = gain(self.DT, lam_iT, lse, C)
            if self.has_trunc:
                tot -= gain(self.DtT, lam_tT, lset, C)
            out[:, s : s + 64] = base + tot
        return out if np.ndim(eps) else out[0]
