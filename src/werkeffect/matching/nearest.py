"""Nearest-neighbour matching on the propensity score or the Mahalanobis distance.

Matching produces matched sets and weights, nothing more (MatchIt's design); the effect is
estimated afterwards with :meth:`MatchResult.att`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from werkeffect.exceptions import EstimationError, warn_estimation
from werkeffect.formatting import nl_int
from werkeffect.matching._utils import (
    MIN_GROUP,
    check_columns,
    covariate_matrix,
    knn_1d,
    treatment_array,
)
from werkeffect.matching.propensity import PropensityScore, PropensityScoreResult, common_support

__all__ = ["NearestNeighborMatch", "MatchResult", "matching_weights"]


# ----------------------------------------------------------------------------------------
# Greedy 1-D matching without replacement
# ----------------------------------------------------------------------------------------
def _find(parent: np.ndarray, i: int) -> int:
    root = i
    while parent[root] != root:
        root = parent[root]
    while parent[i] != root:  # path compression
        parent[i], i = root, parent[i]
    return root


def _greedy_1d(
    dt: np.ndarray,
    dc: np.ndarray,
    order: np.ndarray,
    ratio: int,
    caliper: float | None,
) -> np.ndarray:
    """Greedy nearest-neighbour matching without replacement on a scalar distance.

    Treated units are processed in ``order``, in ``ratio`` rounds (every treated unit gets its
    first match before any gets a second, as in MatchIt). Available controls are kept in two
    union-find structures over the sorted control values (next available to the right / to
    the left), so each look-up is nearly O(1). Ties in distance go to the control earlier in
    the data. Returns an (n_treated, ratio) array of control positions, -1 for no match.
    """
    n_c = len(dc)
    sort_c = np.argsort(dc, kind="stable")
    sc = dc[sort_c]
    pos = np.searchsorted(sc, dt)
    # right[i]: smallest available sorted position >= i (n_c = none)
    right = np.arange(n_c + 1)
    # left[i+1]: largest available sorted position <= i, stored shifted by one (0 = none)
    left = np.arange(n_c + 1)
    out = np.full((len(dt), ratio), -1, dtype=np.int64)
    active = np.ones(len(dt), dtype=bool)
    n_avail = n_c
    for r in range(ratio):
        for t in order:
            if not active[t] or n_avail == 0:
                active[t] = False if n_avail == 0 else active[t]
                continue
            x = dt[t]
            p = pos[t]
            ri = _find(right, p) if p <= n_c else n_c
            li = _find(left, p) - 1  # largest available position <= p-1
            best = -1
            if ri < n_c and li >= 0:
                drr, dl = sc[ri] - x, x - sc[li]
                if drr < dl:
                    best = ri
                elif dl < drr:
                    best = li
                else:
                    # equal distance: the control that comes first in the data
                    best = ri if sort_c[ri] < sort_c[li] else li
            elif ri < n_c:
                best = ri
            elif li >= 0:
                best = li
            if best < 0:
                active[t] = False
                continue
            if caliper is not None and abs(sc[best] - x) > caliper:
                active[t] = False
                continue
            out[t, r] = sort_c[best]
            right[best] = best + 1
            left[best + 1] = best
            n_avail -= 1
    return out


def _greedy_matrix(
    Xt: np.ndarray, Xc: np.ndarray, order: np.ndarray, ratio: int, caliper: float | None
) -> np.ndarray:
    """Greedy matching without replacement on (already whitened) multivariate covariates.

    Loops over treated units (in ``order``), vectorised over controls; meant for the small
    groups where matching without replacement is used.
    """
    avail = np.ones(len(Xc), dtype=bool)
    out = np.full((len(Xt), ratio), -1, dtype=np.int64)
    active = np.ones(len(Xt), dtype=bool)
    for r in range(ratio):
        for t in order:
            if not active[t]:
                continue
            if not avail.any():
                active[t] = False
                continue
            d2 = ((Xc - Xt[t]) ** 2).sum(axis=1)
            d2[~avail] = np.inf
            j = int(np.argmin(d2))
            if caliper is not None and np.sqrt(d2[j]) > caliper:
                active[t] = False
                continue
            out[t, r] = j
            avail[j] = False
    return out


def matching_weights(match_matrix: np.ndarray, n_control: int) -> tuple[np.ndarray, np.ndarray]:
    """MatchIt's matching weights for the ATT.

    A matched treated unit gets weight 1. A control gets the sum over the treated units it is
    matched to of 1 / (number of controls matched to that treated unit); control weights are
    then scaled to sum to the number of distinct matched controls. Returns (treated weights,
    control weights).
    """
    has = match_matrix >= 0
    m = has.sum(axis=1)
    wt = (m > 0).astype(float)
    share = np.where(has, 1.0 / np.maximum(m, 1)[:, None], 0.0)
    wc = np.bincount(match_matrix[has], weights=share[has], minlength=n_control).astype(float)
    used = (wc > 0).sum()
    if wc.sum() > 0:
        wc *= used / wc.sum()
    return wt, wc


# ----------------------------------------------------------------------------------------
# Model
# ----------------------------------------------------------------------------------------
class NearestNeighborMatch:
    """k:1 nearest-neighbour matching for the ATT (MatchIt's ``method="nearest"``).

    Parameters
    ----------
    df, treatment, covariates
        Data, 0/1 treatment column and the covariates of the propensity model (or of the
        Mahalanobis distance).
    ratio
        Number of controls per treated unit (k in k:1).
    replace
        Match with replacement (a control can serve several treated units).
    caliper
        Maximum allowed distance in standard deviations of the distance measure (the SD over
        all units, as MatchIt's ``std.caliper=TRUE``); for ``distance="mahalanobis"`` it is
        in Mahalanobis units. Treated units without a control inside the caliper stay
        unmatched; they are counted and a warning is given.
    exact
        Columns on which treated and controls must agree exactly.
    distance
        ``"propensity"`` (logit model, see ``link``) or ``"mahalanobis"`` (pooled
        within-group covariance of the covariates).
    link
        ``"logit"`` (default; matching and caliper on the linear predictor, MatchIt's
        ``link="linear.logit"``, Austin's 0.2 SD rule) or ``"probability"`` (MatchIt's default).
    m_order
        Order in which treated units are matched without replacement: ``"largest"`` distance
        first (MatchIt's default for propensity scores), ``"smallest"``, ``"data"``,
        ``"random"`` (with ``random_state``). Mahalanobis matching uses ``"data"``.
    terms
        Extra propensity-formula terms (splines, interactions), see :class:`PropensityScore`.
    ps
        A column name or array with a propensity score (probability scale) to use instead of
        fitting one; the AI correction for an estimated score is then not available.
    discard
        ``"none"``, ``"treated"`` (drop treated outside the controls' score range) or
        ``"both"`` before matching (common support); the report counts who was dropped.

    Estimand: the ATT, E[Y(1) - Y(0) | D=1], among the matched treated units. Assumes no
    unmeasured confounding given the covariates and overlap.
    """

    def __init__(
        self,
        df: pd.DataFrame,
        treatment: str,
        covariates: Sequence[str],
        ratio: int = 1,
        replace: bool = False,
        caliper: float | None = None,
        exact: Sequence[str] | str | None = None,
        distance: str = "propensity",
        link: str = "logit",
        m_order: str | None = None,
        terms: Sequence[str] | None = None,
        ps: str | np.ndarray | pd.Series | None = None,
        discard: str = "none",
        random_state: int | None = None,
    ) -> None:
        if isinstance(exact, str):
            exact = [exact]
        check_columns(df, [treatment, *covariates, *(exact or [])])
        if distance not in ("propensity", "mahalanobis"):
            raise ValueError("distance must be 'propensity' or 'mahalanobis'")
        if link not in ("logit", "probability"):
            raise ValueError("link must be 'logit' or 'probability'")
        if int(ratio) != ratio or ratio < 1:
            raise ValueError(f"ratio must be a positive integer, got {ratio}")
        if caliper is not None and caliper <= 0:
            raise ValueError("caliper must be positive")
        if discard not in ("none", "treated", "both"):
            raise ValueError("discard must be 'none', 'treated' or 'both'")
        if m_order is None:
            m_order = "largest" if distance == "propensity" else "data"
        if m_order not in ("largest", "smallest", "data", "random"):
            raise ValueError("m_order must be 'largest', 'smallest', 'data' or 'random'")
        self.df = df
        self.treatment = treatment
        self.covariates = list(covariates)
        self.ratio = int(ratio)
        self.replace = bool(replace)
        self.caliper = caliper
        self.exact = list(exact or [])
        self.distance = distance
        self.link = link
        self.m_order = m_order
        self.terms = list(terms or [])
        self.ps = ps
        self.discard = discard
        self.random_state = random_state

    # -- pieces --------------------------------------------------------------------------
    def _propensity(self) -> tuple[PropensityScoreResult | None, np.ndarray]:
        if self.ps is None:
            res = PropensityScore(self.df, self.treatment, self.covariates, terms=self.terms).fit()
            return res, res.ps.to_numpy()
        p = self.df[self.ps] if isinstance(self.ps, str) else self.ps
        p = np.asarray(p, dtype=float)
        if len(p) != len(self.df) or np.any((p <= 0) | (p >= 1)) or np.isnan(p).any():
            raise EstimationError("ps must hold one score in (0, 1) per row of df")
        return None, p

    def fit(self) -> MatchResult:
        df = self.df
        d = treatment_array(df, self.treatment, MIN_GROUP)
        n = len(d)
        ps_res, p = None, None
        if self.distance == "propensity" or self.discard != "none":
            ps_res, p = self._propensity()
        keep = np.ones(n, dtype=bool)
        support = None
        if self.discard != "none":
            support = common_support(
                p, d, method="minmax" if self.discard == "both" else "treated", index=df.index
            )
            keep = support.keep.to_numpy()
        notes: list[str] = []
        outside = 0
        if p is not None and self.discard == "none" and self.caliper is None:
            p0 = p[d == 0]
            outside = int(np.sum((d == 1) & ((p < p0.min()) | (p > p0.max()))))
            if outside:
                warn_estimation(
                    # no score range in the words: its ends are two persons' scores
                    f"{outside:,} treated unit(s) have a propensity score outside the range of "
                    "the controls: no overlap for them; their matches are extrapolations (use "
                    "discard='treated' or a caliper; overlap_plot shows the scores)",
                    f"{outside:,} deelnemer(s) hebben een propensity score buiten het bereik van "
                    "de vergelijkingsgroep: voor hen is er geen overlap en is hun vergelijking "
                    "een extrapolatie (gebruik discard='treated' of een caliper; overlap_plot "
                    "toont de scores)",
                    stacklevel=2,
                )
                notes.append(f"{outside} treated outside the controls' propensity range")
        if self.distance == "propensity":
            dist = np.log(p / (1 - p)) if self.link == "logit" else p
            cal = None
            if self.caliper is not None:
                cal = self.caliper * float(np.std(dist[keep], ddof=1))
            Z = None
        else:
            X, _ = covariate_matrix(df, self.covariates, drop_first=True)
            Z = _whiten(X, d)
            dist = np.full(n, np.nan)
            cal = self.caliper
        ti = np.flatnonzero((d == 1) & keep)
        ci = np.flatnonzero((d == 0) & keep)
        if len(ci) == 0:
            raise EstimationError("no control units left to match with")
        if not self.replace and len(ci) < self.ratio * len(ti):
            msg = (
                f"too few controls for {self.ratio}:1 matching without replacement: "
                f"{len(ci):,} controls for {len(ti):,} treated units (needs "
                f"{self.ratio * len(ti):,})"
            )
            msg_nl = (
                f"te weinig vergelijkingspersonen voor {self.ratio}:1-matching zonder "
                f"teruglegging: {nl_int(len(ci))} voor {nl_int(len(ti))} deelnemers (nodig: "
                f"{nl_int(self.ratio * len(ti))})"
            )
            if len(ci) < len(ti):
                left = len(ti) - len(ci)
                warn_estimation(
                    msg + f"; at least {left:,} treated unit(s) stay unmatched",
                    msg_nl + f"; minstens {nl_int(left)} deelnemer(s) blijven zonder match",
                    stacklevel=2,
                )
            else:
                warn_estimation(
                    msg + "; some treated units get fewer matches",
                    msg_nl + "; sommige deelnemers krijgen minder matches",
                    stacklevel=2,
                )
        groups = _exact_groups(df, self.exact)
        mm = np.full((len(ti), self.ratio), -1, dtype=np.int64)  # positions into ci
        rng = np.random.default_rng(self.random_state)
        for g in np.unique(groups[ti]) if groups is not None else [None]:
            if g is None:
                tsel = np.arange(len(ti))
                csel = np.arange(len(ci))
            else:
                tsel = np.flatnonzero(groups[ti] == g)
                csel = np.flatnonzero(groups[ci] == g)
            if len(csel) == 0:
                continue
            mm[tsel] = self._match_block(ti[tsel], ci[csel], dist, Z, cal, rng)
            # map block positions back to positions in ci
            sub = mm[tsel]
            mm[tsel] = np.where(sub >= 0, csel[np.maximum(sub, 0)], -1)
        n_unmatched = int((mm[:, 0] < 0).sum()) if len(ti) else 0
        if n_unmatched:
            reason, reason_nl = [], []
            if cal is not None:
                reason.append("no control inside the caliper")
                reason_nl.append("geen vergelijkingspersoon binnen de caliper")
            if self.exact:
                reason.append("no control in the same exact stratum")
                reason_nl.append("geen vergelijkingspersoon in dezelfde exacte groep")
            if not self.replace:
                reason.append("controls used up")
                reason_nl.append("vergelijkingspersonen opgebruikt")
            warn_estimation(
                f"{n_unmatched:,} of {len(ti):,} treated unit(s) left unmatched "
                f"({' or '.join(reason) or 'no control available'}); the estimand becomes the "
                "effect on the matched treated only",
                f"{nl_int(n_unmatched)} van {nl_int(len(ti))} deelnemer(s) zonder match "
                f"({' of '.join(reason_nl) or 'geen vergelijkingspersoon beschikbaar'}); de "
                "schatting gaat dan alleen over de gematchte deelnemers",
                stacklevel=2,
            )
            notes.append(f"{n_unmatched} treated unit(s) unmatched")
        wt, wc = matching_weights(mm, len(ci))
        weights = np.zeros(n)
        weights[ti] = wt
        weights[ci] = wc
        # match matrix in row positions of df
        mm_rows = np.where(mm >= 0, ci[np.maximum(mm, 0)], -1)
        return MatchResult(
            df=df,
            treatment=self.treatment,
            covariates=tuple(self.covariates),
            d=d,
            treated_rows=ti,
            match_rows=mm_rows,
            weights=pd.Series(weights, index=df.index, name="weights"),
            distance=pd.Series(dist, index=df.index, name="distance"),
            propensity=ps_res,
            ps=None if p is None else pd.Series(p, index=df.index, name="ps"),
            caliper=cal,
            replace=self.replace,
            ratio=self.ratio,
            method=self._describe(),
            support=support,
            n_unmatched_treated=n_unmatched,
            n_treated_outside_range=outside,
            whitened=Z,
            notes=tuple(notes),
        )

    def _describe(self) -> str:
        parts = [f"{self.ratio}:1 nearest-neighbour matching"]
        parts.append("with replacement" if self.replace else "without replacement")
        parts.append(
            f"on the propensity score ({self.link})"
            if self.distance == "propensity"
            else "on the Mahalanobis distance"
        )
        if self.caliper is not None:
            parts.append(
                f"caliper {self.caliper:g}" + (" SD" if self.distance == "propensity" else "")
            )
        if self.exact:
            parts.append(f"exact on {', '.join(self.exact)}")
        return ", ".join(parts)

    def _match_block(self, ti, ci, dist, Z, cal, rng) -> np.ndarray:
        k = self.ratio
        if self.distance == "propensity":
            dt, dc = dist[ti], dist[ci]
            if self.replace:
                idx, dd = knn_1d(dt, dc, k)
                if cal is not None:
                    idx = np.where(dd <= cal, idx, -1)
                out = np.full((len(ti), k), -1, dtype=np.int64)
                out[:, : idx.shape[1]] = idx
                return _compact(out)
            order = self._order(dt, rng)
            return _greedy_1d(dt, dc, order, k, cal)
        Zt, Zc = Z[ti], Z[ci]
        if self.replace:
            from scipy.spatial import cKDTree

            kq = min(k, len(ci))
            dd, idx = cKDTree(Zc).query(Zt, k=kq)
            dd, idx = dd.reshape(len(ti), kq), idx.reshape(len(ti), kq)
            if cal is not None:
                idx = np.where(dd <= cal, idx, -1)
            out = np.full((len(ti), k), -1, dtype=np.int64)
            out[:, :kq] = idx
            return _compact(out)
        order = (
            self._order(np.zeros(len(ti)), rng)
            if self.m_order != "random"
            else rng.permutation(len(ti))
        )
        return _greedy_matrix(Zt, Zc, order, k, cal)

    def _order(self, dt: np.ndarray, rng) -> np.ndarray:
        if self.m_order == "largest":
            return np.argsort(-dt, kind="stable")
        if self.m_order == "smallest":
            return np.argsort(dt, kind="stable")
        if self.m_order == "random":
            return rng.permutation(len(dt))
        return np.arange(len(dt))


def _compact(mm: np.ndarray) -> np.ndarray:
    """Move valid matches to the left of each row (so column 0 is the first match)."""
    key = np.where(mm >= 0, 0, 1)
    order = np.argsort(key, axis=1, kind="stable")
    return np.take_along_axis(mm, order, axis=1)


def _whiten(X: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Transform covariates so Euclidean distance is the Mahalanobis distance.

    Uses the pooled within-group covariance matrix.
    """
    Xc = X.copy()
    for g in (0, 1):
        Xc[d == g] -= X[d == g].mean(axis=0)
    S = Xc.T @ Xc / (len(X) - 2)
    try:
        L = np.linalg.cholesky(S)
    except np.linalg.LinAlgError as err:
        raise EstimationError(
            "the covariance matrix of the covariates is singular; drop redundant covariates"
        ) from err
    return np.linalg.solve(L, X.T).T


def _exact_groups(df: pd.DataFrame, exact: list[str]) -> np.ndarray | None:
    if not exact:
        return None
    return df.groupby(exact, sort=True, observed=True).ngroup().to_numpy()


# ----------------------------------------------------------------------------------------
# Result
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class MatchResult:
    """Matched sets and weights (no effect estimate; see :meth:`att`).

    ``match_rows`` is the (n_treated, ratio) array of row positions of the matched controls
    (-1 for no match) for the treated rows ``treated_rows``; ``weights`` are MatchIt's
    matching weights (0 for unmatched units).
    """

    df: pd.DataFrame
    treatment: str
    covariates: tuple[str, ...]
    d: np.ndarray
    treated_rows: np.ndarray
    match_rows: np.ndarray
    weights: pd.Series
    distance: pd.Series
    propensity: PropensityScoreResult | None
    ps: pd.Series | None
    caliper: float | None
    replace: bool
    ratio: int
    method: str
    support: Any = None
    n_unmatched_treated: int = 0
    #: treated whose propensity score lies outside the controls' range (no overlap; counted
    #: when neither ``discard`` nor a caliper removes them)
    n_treated_outside_range: int = 0
    whitened: np.ndarray | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    # -- matched sets ----------------------------------------------------------------------
    @property
    def match_matrix(self) -> pd.DataFrame:
        """Treated index label -> matched control index labels (MatchIt's match.matrix)."""
        labels = np.asarray(self.df.index, dtype=object)
        mm = self.match_rows
        data = {}
        for j in range(mm.shape[1]):  # one column per match, vectorised over treated units
            col = labels[np.maximum(mm[:, j], 0)].copy()
            col[mm[:, j] < 0] = None
            data[f"control_{j + 1}"] = col
        return pd.DataFrame(data, index=self.df.index[self.treated_rows])

    @property
    def matched(self) -> pd.DataFrame:
        """Long table of matched sets: ``set_id, row, unit, treated, distance``.

        One set per matched treated unit; with replacement a control appears in every set it
        belongs to. ``unit`` is the index label in the input frame, ``row`` its position.
        """
        has = self.match_rows >= 0
        matched_t = has.any(axis=1)
        set_ids = np.flatnonzero(matched_t)
        t_rows = self.treated_rows[matched_t]
        c_set, c_col = np.nonzero(has)
        c_rows = self.match_rows[c_set, c_col]
        rows = np.concatenate([t_rows, c_rows])
        sets = np.concatenate([set_ids, c_set])
        out = pd.DataFrame(
            {
                "set_id": sets,
                "row": rows,
                "unit": self.df.index[rows],
                "treated": self.d[rows],
                "distance": self.distance.to_numpy()[rows],
            }
        )
        return out.sort_values(
            ["set_id", "treated"], ascending=[True, False], kind="stable"
        ).reset_index(drop=True)

    @property
    def subclass(self) -> pd.Series:
        """Matched-set id per row (without replacement only; NaN for unmatched units)."""
        if self.replace:
            raise EstimationError("with replacement a control can belong to several sets")
        m = self.matched
        s = pd.Series(np.nan, index=self.df.index, name="subclass")
        s.iloc[m["row"].to_numpy()] = m["set_id"].to_numpy()
        return s

    @property
    def n_matched(self) -> dict[str, int]:
        w = self.weights.to_numpy()
        return {
            "n_treated": int(((w > 0) & (self.d == 1)).sum()),
            "n_control": int(((w > 0) & (self.d == 0)).sum()),
        }

    # -- diagnostics -----------------------------------------------------------------------
    def balance(self, covariates: Sequence[str] | None = None, **kwargs) -> pd.DataFrame:
        """Balance table before and after matching (see :func:`werkeffect.matching.balance`)."""
        from werkeffect.matching.balance import balance

        dist = self.distance if self.distance.notna().all() else None
        return balance(
            self.df,
            treatment=self.treatment,
            covariates=list(covariates or self.covariates),
            weights=self.weights,
            distance=dist,
            **kwargs,
        )

    def love_plot(self, ax=None, threshold: float = 0.1):
        from werkeffect.matching.balance import love_plot

        return love_plot(self.balance(), ax=ax, threshold=threshold)

    def overlap_plot(self, ax=None):
        from werkeffect.matching.balance import overlap_plot

        if self.ps is None:
            raise EstimationError("no propensity score for this matching")
        return overlap_plot(self.ps, self.d, ax=ax, weights=self.weights)

    def summary(self) -> str:
        nm = self.n_matched
        n1 = int(self.d.sum())
        lines = [
            self.method,
            f"treated: {n1:,} ({nm['n_treated']:,} matched, {self.n_unmatched_treated:,} "
            "unmatched)",
            f"controls: {len(self.d) - n1:,} ({nm['n_control']:,} used)",
        ]
        if self.caliper is not None:
            lines.append(f"caliper (distance units): {self.caliper:.6g}")
        if self.support is not None:
            lines.append(self.support.report())
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    # -- effect ---------------------------------------------------------------------------
    def att(
        self,
        outcome: str,
        se: str = "ai",
        bias_adjust: bool = False,
        ps_adjust: bool = True,
        variance_matches: int = 1,
        bootstrap: bool = False,
    ):
        """ATT on the matched sample with its standard error.

        ``se="ai"``: Abadie–Imbens (2006) standard error for matching estimators; when the
        distance is an estimated propensity score and matching is with replacement, with
        Abadie and Imbens' (2016) correction for estimating the score (``ps_adjust``).
        ``se="regression"``: weighted regression of the outcome on treatment with the
        matching weights and standard errors clustered on matched sets (MatchIt's
        recommendation after matching without replacement).
        ``bias_adjust`` applies Abadie and Imbens' (2011) regression bias correction.

        The naive bootstrap is not valid for nearest-neighbour matching (Abadie and Imbens
        2008): ``bootstrap=True`` raises an error instead of giving a wrong interval.
        """
        from werkeffect.matching.abadie_imbens import matching_att

        if bootstrap:
            raise EstimationError(
                "the naive bootstrap is invalid for nearest-neighbour matching (Abadie & "
                "Imbens 2008, Econometrica 76(6)): it does not reproduce the variance of the "
                "matching estimator. Use se='ai' (Abadie-Imbens standard errors) or "
                "randomization_test() for small groups"
            )
        return matching_att(
            self,
            outcome,
            se=se,
            bias_adjust=bias_adjust,
            ps_adjust=ps_adjust,
            variance_matches=variance_matches,
        )
