"""Nearest-neighbour matching within elapsed month u, for all u at once.

Controls are sorted once by (u, score); each treated person's k nearest controls of the same
u lie within the 2k positions around its ``searchsorted`` insertion point, so matching all
u-cohorts costs one sort and a few vectorised gathers.
"""

from __future__ import annotations

import numpy as np


def nn_match_within(
    t_u: np.ndarray,
    t_score: np.ndarray,
    c_u: np.ndarray,
    c_score: np.ndarray,
    n_neighbors: int = 1,
    caliper: float | None = None,
    t_time: np.ndarray | None = None,
    c_time: np.ndarray | None = None,
    extra: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """k nearest controls (with replacement) of each treated unit within the same ``u``.

    Parameters
    ----------
    t_u, t_score
        Cohort (integer u index) and score of the treated units.
    c_u, c_score
        Cohort and score of the control units (a control may appear in many cohorts).
    n_neighbors
        k, the number of controls per treated unit.
    caliper
        Largest allowed absolute score distance; ``None`` for no caliper.
    t_time, c_time
        Optional: a control is admissible for a treated unit only when
        ``c_time > t_time`` (still on benefit at the treated unit's start). The search then
        looks ``extra`` (default ``2 k``) positions further on each side.

    Returns
    -------
    matches : (n_treated, k) int array
        Positions in the control arrays of the matched controls; -1 where fewer than k
        controls lie within the caliper (or the cohort has fewer than k controls).
    distances : (n_treated, k) float array
        Absolute score distances (inf where unmatched).
    """
    k = int(n_neighbors)
    if k < 1:
        raise ValueError("n_neighbors must be at least 1")
    nt = len(t_u)
    if nt == 0 or len(c_u) == 0:
        return np.full((nt, k), -1, dtype=np.int64), np.full((nt, k), np.inf)
    lo = min(float(c_score.min()), float(t_score.min()))
    hi = max(float(c_score.max()), float(t_score.max()))
    span = (hi - lo) + 1.0
    # ties in the score (common with categorical covariates) are broken by a fixed
    # pseudo-random order of the control rows, not by their position in the data
    tie = (np.arange(len(c_u), dtype=np.uint64) * np.uint64(2654435761)) % np.uint64(2**32)
    order = np.lexsort((tie, c_score, c_u))
    cu = c_u[order]
    cs = c_score[order]
    key_c = cu * span + (cs - lo)
    key_t = t_u * span + (t_score - lo)
    pos = np.searchsorted(key_c, key_t)
    b_start = np.searchsorted(cu, t_u, side="left")
    b_end = np.searchsorted(cu, t_u, side="right")
    half = k if t_time is None else k + (2 * k if extra is None else int(extra))
    cand = pos[:, None] + np.arange(-half, half)[None, :]
    valid = (cand >= b_start[:, None]) & (cand < b_end[:, None])
    cand_c = np.clip(cand, 0, len(cs) - 1)
    if t_time is not None and c_time is not None:
        valid &= c_time[order][cand_c] > t_time[:, None]
    dist = np.abs(cs[cand_c] - t_score[:, None])
    dist[~valid] = np.inf
    if caliper is not None:
        dist[dist > caliper] = np.inf
    part = np.argpartition(dist, k - 1, axis=1)[:, :k]
    sel_d = np.take_along_axis(dist, part, axis=1)
    sel = np.take_along_axis(cand_c, part, axis=1)
    ok = np.isfinite(sel_d)
    matches = np.where(ok, order[sel], -1)
    return matches, np.where(ok, sel_d, np.inf)


def match_weights(
    matches: np.ndarray, t_weight: np.ndarray, n_controls: int
) -> tuple[np.ndarray, np.ndarray]:
    """Control weights implied by the matches (each treated unit's weight split equally).

    Returns the weight of every control row and a boolean array of matched treated units.
    """
    ok = matches >= 0
    n_match = ok.sum(axis=1)
    matched = n_match > 0
    per = np.where(matched, t_weight / np.maximum(n_match, 1), 0.0)
    w = np.broadcast_to(per[:, None], matches.shape)[ok]
    cw = np.bincount(matches[ok], weights=w, minlength=n_controls)
    return cw, matched
