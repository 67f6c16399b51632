"""Influence functions of the ATT(g,t) building blocks, stored compactly.

Every aggregate of the ATT(g,t) (simple, dynamic, group, calendar, or any weighted sum) has
an influence function of the form

    IF_agg(i) = sum_k A[k, j] * IF_k(i) + B[cohort(i), j]

where ``IF_k`` is the influence function of cell k and ``B`` holds the part that comes from
estimating the aggregation weights (it depends on a unit only through its cohort — the
"wif" term of R's ``aggte``). Two storage schemes implement ``cov(A, B)``:

* :class:`CompactInfluence` — balanced panel without covariates. There the cell influence
  function is affine in the unit's outcome vector within a cohort,
  ``IF_k(i) = s[k, c] * (y_i[t_k] - y_i[b_k] - mean_c) + kappa[k, c]``, so all variances
  follow from the per-cohort means and centred cross-product matrices (T x T each). Memory
  is O(cohorts x T^2) instead of O(n x cells).
* :class:`DenseInfluence` — any other case: an (n x K) matrix.

Variances use the R ``did`` normalisation ``Var = mean(IF^2) / n``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class CompactInfluence:
    n: int
    counts: np.ndarray  # (C,) units per cohort
    centred_gram: np.ndarray  # (C, T, T) sum over cohort of (y - mu)(y - mu)'
    scale: np.ndarray  # (K, C) s[k, c]
    kappa: np.ndarray  # (K, C)
    diff: np.ndarray  # (K, T) rows e_t - e_b
    cohort_of_unit: np.ndarray | None = None  # (n,) not needed for variances
    means: np.ndarray | None = None  # (C, T)

    @property
    def n_cells(self) -> int:
        return self.scale.shape[0]

    def cov(self, a: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
        """Covariance matrix (m x m) of the aggregates defined by ``a`` (K x m), ``b`` (C x m)."""
        m = a.shape[1]
        out = np.zeros((m, m))
        kap = self.kappa.T @ a  # (C, m)
        if b is not None:
            kap = kap + b
        for c in range(len(self.counts)):
            if self.counts[c] == 0:
                continue
            v = self.diff.T @ (self.scale[:, c, None] * a)  # (T, m)
            out += v.T @ self.centred_gram[c] @ v + self.counts[c] * np.outer(kap[c], kap[c])
        return out / self.n**2

    def draws(self, a, b, n_boot, rng, weights="gaussian"):
        """Multiplier-bootstrap draws of the aggregates, centred (n_boot x m).

        With Gaussian multipliers the bootstrap distribution is exactly N(0, cov), so it is
        drawn from that directly (no pass over the units per draw).
        """
        cov = self.cov(a, b)
        vals, vecs = np.linalg.eigh((cov + cov.T) / 2)
        root = vecs * np.sqrt(np.clip(vals, 0, None))
        return rng.standard_normal((n_boot, cov.shape[0])) @ root.T


@dataclass
class DenseInfluence:
    n: int
    matrix: np.ndarray  # (n, K)
    cohort_of_unit: np.ndarray  # (n,) cohort index
    cluster: np.ndarray | None = None  # (n,) cluster codes

    @property
    def n_cells(self) -> int:
        return self.matrix.shape[1]

    def aggregate_if(self, a: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
        out = self.matrix @ a
        if b is not None:
            out = out + b[self.cohort_of_unit]
        return out

    def _sums(self, inf: np.ndarray) -> np.ndarray:
        if self.cluster is None:
            return inf
        n_cl = int(self.cluster.max()) + 1
        out = np.zeros((n_cl, inf.shape[1]))
        np.add.at(out, self.cluster, inf)
        return out

    def cov(self, a: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
        s = self._sums(self.aggregate_if(a, b))
        return s.T @ s / self.n**2

    def draws(self, a, b, n_boot, rng, weights="mammen"):
        s = self._sums(self.aggregate_if(a, b))
        out = np.empty((n_boot, s.shape[1]))
        chunk = max(1, int(2e7 // max(1, s.shape[0])))
        for start in range(0, n_boot, chunk):
            nb = min(chunk, n_boot - start)
            xi = multipliers(rng, (nb, s.shape[0]), weights)
            out[start : start + nb] = xi @ s / self.n
        return out


def multipliers(rng: np.random.Generator, shape, kind: str) -> np.ndarray:
    """Bootstrap multipliers with mean 0 and variance 1."""
    if kind == "mammen":
        s5 = np.sqrt(5.0)
        p = (s5 + 1) / (2 * s5)
        return np.where(rng.random(shape) < p, -(s5 - 1) / 2, (s5 + 1) / 2)
    if kind == "rademacher":
        return np.where(rng.random(shape) < 0.5, -1.0, 1.0)
    if kind == "webb":
        vals = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])
        return vals[rng.integers(0, 6, size=shape)]
    if kind == "gaussian":
        return rng.standard_normal(shape)
    raise ValueError(f"unknown multiplier weights {kind!r}")


def bootstrap_inference(draws: np.ndarray, level: float) -> tuple[np.ndarray, float]:
    """Bootstrap standard errors (IQR-based, as R ``did``) and the sup-t critical value."""
    from scipy import stats

    q75, q25 = np.quantile(draws, [0.75, 0.25], axis=0)
    se = (q75 - q25) / (stats.norm.ppf(0.75) - stats.norm.ppf(0.25))
    ok = se > np.sqrt(np.finfo(float).eps) * 10
    if not ok.any():
        return se, float("nan")
    tmax = np.max(np.abs(draws[:, ok]) / se[ok], axis=1)
    crit = float(np.quantile(tmax, level))
    return se, max(crit, float(stats.norm.ppf(0.5 + level / 2)))
