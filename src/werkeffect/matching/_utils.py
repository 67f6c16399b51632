"""Shared helpers: validation, design matrices, 1-D nearest neighbours, weighted regression."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from werkeffect._inputs import example_rows, strict_numbers, unreadable_message
from werkeffect.exceptions import DataValidationError, EstimationError


def check_columns(df: pd.DataFrame, columns: Sequence[str], what: str = "data") -> None:
    """Raise a clear error naming the columns that are missing from ``df``."""
    if not isinstance(df, pd.DataFrame):
        raise DataValidationError(f"{what} must be a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise DataValidationError(
            f"column(s) {missing} not found in {what}; available: {list(df.columns)}"
        )


#: fewest treated (and control) units an effect estimator accepts: with one treated unit
#: the variation among the treated, and so a standard error, cannot be estimated (and a
#: propensity model separates it perfectly from the rest)
MIN_GROUP = 2


def treatment_array(df: pd.DataFrame, treatment: str, min_group: int = 1) -> np.ndarray:
    """The treatment column as a 0/1 integer array; both groups must be present, each with
    at least ``min_group`` units (the effect estimators pass :data:`MIN_GROUP`)."""
    check_columns(df, [treatment])
    t = df[treatment]
    if t.isna().any():
        rows = list(df.index[t.isna()][:5])
        raise DataValidationError(
            f"treatment column '{treatment}' has {int(t.isna().sum())} missing value(s), "
            f"e.g. rows {rows}"
        )
    values = pd.unique(t)
    ok = set(np.asarray(values, dtype=object).tolist()) <= {0, 1}
    if not ok:
        raise DataValidationError(
            f"treatment column '{treatment}' must be 0/1, "
            f"found values {sorted(map(str, values))[:6]}"
        )
    d = t.astype(int).to_numpy()
    n1 = int(d.sum())
    if n1 == 0 or n1 == len(d):
        raise EstimationError(
            f"treatment column '{treatment}' has {n1} treated and {len(d) - n1} control rows; "
            "both groups are needed"
        )
    if min(n1, len(d) - n1) < min_group:
        few, n_few = ("treated", n1) if n1 < min_group else ("control", len(d) - n1)
        raise EstimationError(
            f"treatment column '{treatment}' has only {n_few} {few} unit(s) (of {len(d):,} "
            f"rows): an effect with a standard error needs at least {min_group} treated and "
            f"{min_group} control units (with a single {few} unit there is no variation "
            "within the group to estimate the uncertainty from). With very few participants "
            "report them descriptively or use randomization_test() for an exact p-value"
        )
    return d


def outcome_array(df: pd.DataFrame, outcome: str) -> np.ndarray:
    """The outcome column as float64; raises :class:`DataValidationError` naming the rows
    where it is missing, infinite or not a number (an effect on missing outcomes is NaN)."""
    check_columns(df, [outcome])
    y, unreadable = strict_numbers(df[outcome])
    if unreadable.any():
        raise DataValidationError(unreadable_message(df[outcome], outcome, unreadable))
    bad = ~np.isfinite(y)
    if bad.any():
        raise DataValidationError(
            f"outcome '{outcome}' is missing or infinite in {example_rows(df.index, bad)}; "
            "drop these rows (and count them in the data flow) or impute the outcome first"
        )
    return y


def _is_categorical(s: pd.Series) -> bool:
    return (
        isinstance(s.dtype, pd.CategoricalDtype)
        or s.dtype == object
        or pd.api.types.is_string_dtype(s.dtype)
    )


def covariate_matrix(
    df: pd.DataFrame,
    covariates: Sequence[str],
    drop_first: bool = False,
    check_constant: bool = True,
) -> tuple[np.ndarray, list[str]]:
    """Numeric design (no intercept) from the covariates; categorical columns become dummies.

    Dummies are named ``"{column}_{level}"``. With ``drop_first`` the first level is left out
    (for regression); without it every level gets a column (MatchIt's balance convention).
    Missing values and constant covariates raise :class:`DataValidationError` /
    :class:`EstimationError` naming the column.
    """
    check_columns(df, covariates)
    blocks: list[np.ndarray] = []
    names: list[str] = []
    for c in covariates:
        s = df[c]
        if s.isna().any():
            rows = list(df.index[s.isna()][:5])
            raise DataValidationError(
                f"covariate '{c}' has {int(s.isna().sum())} missing value(s), e.g. rows {rows}; "
                "impute or drop them first"
            )
        if _is_categorical(s):
            cat = pd.Categorical(s)
            levels = list(cat.categories)
            if check_constant and len(levels) < 2:
                raise EstimationError(
                    f"covariate '{c}' is constant (only level {levels!r}); drop it from covariates"
                )
            codes = cat.codes
            use = levels[1:] if drop_first else levels
            for lev in use:
                blocks.append((codes == levels.index(lev)).astype(float)[:, None])
                names.append(f"{c}_{lev}")
        else:
            x = s.astype(float).to_numpy()
            if check_constant and len(x) and np.ptp(x) == 0:
                raise EstimationError(
                    f"covariate '{c}' is constant (value {x[0]:g} in all {len(x):,} rows); "
                    "drop it from covariates"
                )
            blocks.append(x[:, None])
            names.append(c)
    if not blocks:
        return np.empty((len(df), 0)), []
    return np.hstack(blocks), names


def stable_argsort(x: np.ndarray) -> np.ndarray:
    """``np.argsort(x, kind="stable")``, faster when the values are distinct: the unstable
    (SIMD) sort gives the same order unless there are ties, which are checked for."""
    order = np.argsort(x)
    sx = x[order]
    if len(sx) > 1 and np.any(sx[1:] == sx[:-1]):
        return np.argsort(x, kind="stable")
    return order


def knn_1d(
    query: np.ndarray,
    ref: np.ndarray,
    k: int,
    exclude_self: bool = False,
    self_index: np.ndarray | None = None,
    order: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Indices into ``ref`` of the ``k`` nearest values for each query (vectorised).

    Sorts ``ref`` once; the k nearest neighbours of a point are a contiguous run of the
    sorted values around its insertion point, found by ``k`` vectorised two-pointer steps
    (O(n k) after the sort). Ties in distance go to the unit earlier in ``ref`` (data order).
    ``exclude_self``: the queries are ``ref`` itself (or the rows ``self_index`` of it) and
    each point's own entry is skipped. ``order``: ``argsort(ref, kind="stable")`` when the
    caller has it already. Returns (indices, distances), shape (n_query, k).
    """
    ref = np.asarray(ref, dtype=float)
    query = np.asarray(query, dtype=float)
    n_ref = len(ref)
    own = exclude_self or self_index is not None
    k_eff = min(k, n_ref - (1 if own else 0))
    if k_eff <= 0:
        raise EstimationError("not enough reference units to find a nearest neighbour")
    if order is None:
        order = stable_argsort(ref)
    sref = ref[order]
    if own:
        inv = np.empty(n_ref, dtype=np.int64)
        inv[order] = np.arange(n_ref)
        me = inv[np.arange(len(query)) if self_index is None else np.asarray(self_index)]
        left, right = me - 1, me + 1
    else:
        right = np.searchsorted(sref, query)
        left = right - 1
    idx = np.empty((len(query), k_eff), dtype=np.int64)
    dist = np.empty((len(query), k_eff))
    last = n_ref - 1
    for j in range(k_eff):
        lc = np.clip(left, 0, last)
        rc = np.clip(right, 0, last)
        dl = np.where(left >= 0, query - sref[lc], np.inf)
        dr = np.where(right <= last, sref[rc] - query, np.inf)
        take_left = (dl < dr) | ((dl == dr) & (order[lc] < order[rc]))
        pick = np.where(take_left, lc, rc)
        idx[:, j] = order[pick]
        dist[:, j] = np.where(take_left, dl, dr)
        left = np.where(take_left, left - 1, left)
        right = np.where(take_left, right, right + 1)
    return idx, dist


def weighted_effect_regression(
    y: np.ndarray,
    d: np.ndarray,
    w: np.ndarray,
    X: np.ndarray | None = None,
    cluster: np.ndarray | None = None,
    center_at: np.ndarray | None = None,
) -> tuple[float, float, int]:
    """Coefficient on ``d`` in a weighted regression of ``y`` on ``[1, d, X]``.

    Standard errors are cluster-robust (CR1, statsmodels) by ``cluster`` or, without it,
    heteroskedasticity-robust (HC1). Units with zero weight are dropped. Covariates are
    centred at ``center_at`` (e.g. the treated means for the ATT) and interacted with ``d``
    so the coefficient is the effect averaged over the target population.
    Returns (estimate, std_error, number of clusters or rows used).
    """
    import statsmodels.api as sm

    keep = w > 0
    y, d, w = y[keep], d[keep], w[keep]
    cols = [np.ones_like(y), d.astype(float)]
    if X is not None and X.shape[1]:
        Xk = X[keep]
        if center_at is None:
            center_at = np.average(Xk, axis=0, weights=w)
        Xc = Xk - center_at
        sd = Xc.std(axis=0)
        Xc = Xc[:, sd > 0]
        cols += [Xc, Xc * d[:, None]]
    design = np.column_stack(cols)
    model = sm.WLS(y, design, weights=w)
    if cluster is not None:
        g = pd.factorize(np.asarray(cluster)[keep])[0]
        fit = model.fit(cov_type="cluster", cov_kwds={"groups": g})
        n_groups = int(g.max()) + 1
    else:
        fit = model.fit(cov_type="HC1")
        n_groups = int(keep.sum())
    return float(fit.params[1]), float(fit.bse[1]), n_groups
