"""Aggregation of ATT(g,t) building blocks (R ``did::aggte`` logic).

Each aggregation is a set of linear combinations of the cell estimates. Its influence
function adds, where the weights are estimated group shares, the influence function of
those weights (``wif`` in R's ``aggte``), which depends on a unit only through its cohort.
So every aggregate is described by ``A`` (cells x outputs) and ``B`` (cohorts x outputs).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class AggregationPlan:
    labels: list
    a: np.ndarray  # (K, m)
    b: np.ndarray  # (C, m)
    estimates: np.ndarray  # (m,)
    overall_a: np.ndarray | None  # (K,)
    overall_b: np.ndarray | None  # (C,)
    overall: float | None


def _wif(keep: np.ndarray, pg_cells: np.ndarray, cell_cohort: np.ndarray, n_cohorts: int):
    """(C x len(keep)) weight influence per cohort, R ``wif`` with unit weights."""
    pk = pg_cells[keep]
    s = pk.sum()
    ind = np.zeros((n_cohorts, len(keep)))
    ind[cell_cohort[keep], np.arange(len(keep))] = 1.0
    dev = ind - pk[None, :]
    if1 = dev / s
    if2 = dev.sum(axis=1, keepdims=True) * (pk / s**2)[None, :]
    return if1 - if2


def plan(
    kind: str,
    *,
    groups: np.ndarray,
    times: np.ndarray,
    att: np.ndarray,
    cell_cohort: np.ndarray,
    cohort_share: np.ndarray,
    min_e: float = -np.inf,
    max_e: float = np.inf,
    balance_e: int | None = None,
) -> AggregationPlan:
    """Build the aggregation of ``kind`` in {"simple", "dynamic", "group", "calendar"}."""
    k_cells = len(att)
    n_coh = len(cohort_share)
    pg = cohort_share[cell_cohort]
    e = times - groups
    post = (groups <= times) & (e >= min_e) & (e <= max_e)

    def combo(idx: np.ndarray, with_wif: bool):
        w = pg[idx] / pg[idx].sum()
        a = np.zeros(k_cells)
        a[idx] = w
        b = _wif(idx, pg, cell_cohort, n_coh) @ att[idx] if with_wif else np.zeros(n_coh)
        return a, b, float(w @ att[idx])

    if kind == "simple":
        idx = np.flatnonzero(post)
        if not len(idx):
            raise ValueError("no post-treatment ATT(g,t) cells to aggregate")
        a, b, est = combo(idx, True)
        return AggregationPlan(["ATT"], a[:, None], b[:, None], np.array([est]), a, b, est)

    if kind == "group":
        glist = np.unique(groups)
        cols, bs, ests, labels, gcoh = [], [], [], [], []
        for g in glist:
            idx = np.flatnonzero(post & (groups == g))
            if not len(idx):
                continue
            a = np.zeros(k_cells)
            a[idx] = 1.0 / len(idx)
            cols.append(a)
            bs.append(np.zeros(n_coh))
            ests.append(float(att[idx].mean()))
            labels.append(g)
            gcoh.append(cell_cohort[idx[0]])
        a_mat, b_mat, est = np.column_stack(cols), np.column_stack(bs), np.array(ests)
        gcoh = np.array(gcoh)
        pgg = cohort_share[gcoh]
        w = pgg / pgg.sum()
        keep = np.arange(len(labels))
        wif = _wif(keep, pgg, gcoh, n_coh)
        return AggregationPlan(labels, a_mat, b_mat, est, a_mat @ w, wif @ est, float(w @ est))

    if kind == "dynamic":
        include = np.ones(k_cells, dtype=bool)
        if balance_e is not None:
            tmax = times.max()
            ok_groups = np.unique(groups[(tmax - groups) >= balance_e])
            include = np.isin(groups, ok_groups)
        eseq = np.unique(e[include])
        if balance_e is not None:
            eseq = eseq[(eseq <= balance_e) & (eseq >= balance_e - times.max() + times.min())]
        eseq = eseq[(eseq >= min_e) & (eseq <= max_e)]
        cols, bs, ests = [], [], []
        for ev in eseq:
            idx = np.flatnonzero((e == ev) & include)
            a, b, est = combo(idx, True)
            cols.append(a)
            bs.append(b)
            ests.append(est)
        a_mat, b_mat, est = np.column_stack(cols), np.column_stack(bs), np.array(ests)
        pos = eseq >= 0
        if pos.any():
            w = pos / pos.sum()
            overall = (a_mat @ w, b_mat @ w, float(est @ w))
        else:
            overall = (None, None, None)
        return AggregationPlan(list(eseq), a_mat, b_mat, est, *overall)

    if kind == "calendar":
        tlist = np.unique(times[times >= groups.min()])
        cols, bs, ests, labels = [], [], [], []
        for t in tlist:
            idx = np.flatnonzero(post & (times == t))
            if not len(idx):
                continue
            a, b, est = combo(idx, True)
            cols.append(a)
            bs.append(b)
            ests.append(est)
            labels.append(t)
        a_mat, b_mat, est = np.column_stack(cols), np.column_stack(bs), np.array(ests)
        w = np.full(len(labels), 1.0 / len(labels))
        return AggregationPlan(labels, a_mat, b_mat, est, a_mat @ w, b_mat @ w, float(est @ w))

    raise ValueError(
        f"aggregation must be 'simple', 'dynamic', 'group' or 'calendar', got {kind!r}"
    )
