"""An independent restricted wild cluster bootstrap (WCR) by brute force, for tests.

Written from the textbook definition (Cameron, Gelbach & Miller 2008; MacKinnon & Webb
2017), not from ``werkeffect.did.wild_bootstrap``: for the null ``beta_j = r`` fit the
restricted model, build ``y* = fitted_r + w_g * u_r`` for every weight vector ``w`` (one
weight per cluster), refit the *full* OLS on ``y*`` with the plain normal equations,
compute the CR1 standard error from scratch and count ``|t*| >= |t|``. No sufficient
statistics, no shared code with the package.
"""

from __future__ import annotations

import itertools

import numpy as np


def all_sign_patterns(n_clusters: int) -> np.ndarray:
    """Every Rademacher weight vector: a (2**G, G) array of +-1."""
    return np.array(list(itertools.product([-1.0, 1.0], repeat=n_clusters)))


def all_webb_patterns(n_clusters: int) -> np.ndarray:
    """Every Webb six-point weight vector: a (6**G, G) array (each equally likely)."""
    pts = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])
    return np.array(list(itertools.product(pts, repeat=n_clusters)))


def cr1_t(x: np.ndarray, ys: np.ndarray, cluster: np.ndarray, j: int, r: float):
    """OLS coefficient ``j`` and its CR1 t statistic against ``r`` for each column of ``ys``.

    CR1 = G/(G-1) * (N-1)/(N-K) * (X'X)^-1 [sum_g X_g'u_g u_g'X_g] (X'X)^-1 (Stata's and
    statsmodels' default cluster correction).
    """
    ys = np.atleast_2d(ys.T).T  # (n, B)
    n, k = x.shape
    labels = np.unique(cluster)
    g = len(labels)
    xtx_inv = np.linalg.inv(x.T @ x)
    b = xtx_inv @ (x.T @ ys)  # (k, B)
    u = ys - x @ b
    meat_row = np.zeros(ys.shape[1])
    for c in labels:
        rows = cluster == c
        s = x[rows].T @ u[rows]  # (k, B): score of cluster c for every draw
        meat_row += (xtx_inv[j] @ s) ** 2
    var = g / (g - 1) * (n - 1) / (n - k) * meat_row
    return b[j], (b[j] - r) / np.sqrt(var)


def wcr_pvalue(
    x: np.ndarray,
    y: np.ndarray,
    cluster: np.ndarray,
    j: int,
    r: float,
    patterns: np.ndarray,
    chunk: int = 4096,
) -> float:
    """Share of weight vectors with ``|t*| >= |t|`` (ties counted, as in the package)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    _, t_obs = cr1_t(x, y[:, None], cluster, j, r)
    t_obs = float(t_obs[0])
    others = [i for i in range(x.shape[1]) if i != j]
    y_r = y - r * x[:, j]
    if others:
        xo = x[:, others]
        coef = np.linalg.solve(xo.T @ xo, xo.T @ y_r)
        u_r = y_r - xo @ coef
    else:
        u_r = y_r
    fitted = y - u_r  # r * x_j + restricted fit of the other regressors
    labels, idx = np.unique(cluster, return_inverse=True)
    hits = 0
    for start in range(0, len(patterns), chunk):
        w = patterns[start : start + chunk]  # (B, G)
        ys = fitted[:, None] + u_r[:, None] * w[:, idx].T  # (n, B)
        _, t_b = cr1_t(x, ys, cluster, j, r)
        hits += int(np.sum(np.abs(t_b) >= abs(t_obs) * (1 - 1e-10)))
    return hits / len(patterns)
