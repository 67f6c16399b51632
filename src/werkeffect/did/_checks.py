"""Input validation and panel construction shared by the DiD estimators.

Everything here is vectorised: a 1M-unit x 12-period panel is validated and turned into a
unit x period outcome matrix in well under a second.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from werkeffect._inputs import (  # noqa: F401  (re-exported for the DiD estimators)
    FEW_CLUSTERS_WARN,
    FEW_CLUSTERS_WILD,
    cluster_codes,
    require_clusters,
    require_unique,
    warn_few_clusters,
)
from werkeffect.exceptions import DataValidationError, EstimationError


def cluster_column(df: pd.DataFrame, column: str, what: str) -> np.ndarray:
    """Sorted integer codes of a cluster column; raises naming the rows where it is missing
    and when it has fewer than 2 values (checked before any standard error divides by
    ``G - 1``)."""
    codes = cluster_codes(df, column, what)
    require_clusters(int(codes.max()) + 1 if len(codes) else 0, column, what)
    return codes


def require_columns(df: pd.DataFrame, columns: Sequence[str | None], what: str = "data") -> None:
    """Raise :class:`DataValidationError` naming every missing column."""
    if not isinstance(df, pd.DataFrame):
        raise DataValidationError(f"{what} must be a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in columns if c is not None and c not in df.columns]
    if missing:
        raise DataValidationError(
            f"{what}: column(s) {missing} not found; available: {list(df.columns)[:20]}"
        )


def numeric_column(df: pd.DataFrame, column: str, what: str = "data") -> np.ndarray:
    """The column as float64; raises on non-numeric values or missing values."""
    s = df[column]
    if not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)):
        raise DataValidationError(f"{what}: column '{column}' must be numeric, got {s.dtype}")
    arr = s.to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isfinite(arr)
    if bad.any():
        rows = np.flatnonzero(bad)[:5].tolist()
        raise DataValidationError(
            f"{what}: column '{column}' has {int(bad.sum())} missing or infinite value(s) "
            f"(first row positions {rows})"
        )
    return arr


def group_codes(df: pd.DataFrame, group: str) -> np.ndarray:
    """First-treatment period per row; never-treated (0, NaN or inf) coded as 0."""
    s = df[group]
    if not pd.api.types.is_numeric_dtype(s):
        raise DataValidationError(
            f"column '{group}' must hold the first treated period (numeric), got {s.dtype}"
        )
    g = s.to_numpy(dtype=float, na_value=np.nan)
    g = np.where(~np.isfinite(g), 0.0, g)
    return g


def group_from_treatment(
    df: pd.DataFrame, unit: str, time: str, treatment: str, name: str = "first_treated"
) -> pd.Series:
    """Derive the first-treated period per row from an absorbing 0/1 treatment indicator.

    Raises :class:`EstimationError` naming the units whose treatment switches off again
    (staggered-adoption estimators assume treatment is absorbing).
    """
    require_columns(df, [unit, time, treatment])
    d = numeric_column(df, treatment)
    if not np.isin(d, (0.0, 1.0)).all():
        raise DataValidationError(f"column '{treatment}' must be 0/1")
    t = numeric_column(df, time)
    uid, _ = pd.factorize(df[unit], sort=False)
    order = np.lexsort((t, uid))
    u_s, d_s = uid[order], d[order]
    same = np.r_[False, u_s[1:] == u_s[:-1]]
    switch_off = same & (d_s == 0) & (np.r_[0.0, d_s[:-1]] == 1)
    if switch_off.any():
        bad_units = pd.unique(df[unit].to_numpy()[order][switch_off])
        raise EstimationError(
            f"treatment '{treatment}' switches from 1 back to 0 for {len(bad_units)} unit(s) "
            f"(e.g. {list(bad_units[:5])}); these estimators need absorbing treatment "
            "(once treated, always treated). Drop or recode these units."
        )
    first = np.full(uid.max() + 1 if len(uid) else 0, np.inf)
    treated_rows = d == 1
    np.minimum.at(first, uid[treated_rows], t[treated_rows])
    g = first[uid]
    g[~np.isfinite(g)] = 0.0
    return pd.Series(g, index=df.index, name=name)


@dataclass
class Panel:
    """A balanced panel as a unit x period matrix, units in first-appearance order."""

    y: np.ndarray  # (n_units, n_periods) float64
    g: np.ndarray  # (n_units,) first treated period, 0 = never
    periods: np.ndarray  # sorted period values
    unit_ids: np.ndarray  # original unit labels
    x: np.ndarray | None = None  # (n_units, k) covariates from the first period
    cluster: np.ndarray | None = None  # (n_units,) integer cluster codes


def _within_unit_constant(codes: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Boolean per unit: whether values are constant within the unit."""
    lo = np.full(n, np.inf)
    hi = np.full(n, -np.inf)
    np.minimum.at(lo, codes, values)
    np.maximum.at(hi, codes, values)
    return lo == hi


def unique_sorted(values: np.ndarray) -> np.ndarray:
    """Sorted unique values (hash-based; much faster than ``np.unique`` on large arrays)."""
    return np.sort(pd.unique(np.asarray(values)))


def is_balanced(df: pd.DataFrame, unit: str, time: str) -> bool:
    """Whether every unit is observed exactly once in every period."""
    uid, uniq = pd.factorize(df[unit], sort=False)
    tid, tuniq = pd.factorize(df[time], sort=False)
    n_t = len(tuniq)
    if len(df) != len(uniq) * n_t:
        return False
    counts = np.bincount(uid.astype(np.int64) * n_t + tid, minlength=len(uniq) * n_t)
    return bool((counts == 1).all())


def build_panel(
    df: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    g: np.ndarray,
    covariates: Sequence[str] | None = None,
    cluster: str | None = None,
) -> Panel:
    """Reshape a balanced long panel to matrices (vectorised; no Python loop over units).

    Raises :class:`DataValidationError` when the panel is not balanced, has duplicate
    (unit, time) rows, or when the group or covariates vary within a unit.
    """
    y_long = numeric_column(df, outcome)
    t_long = numeric_column(df, time)
    units = df[unit].to_numpy()
    # Fast path: data sorted by unit then time, balanced.
    periods = unique_sorted(t_long)
    n_t = len(periods)
    n_rows = len(df)
    fast = False
    if n_t and n_rows % n_t == 0:
        n_u = n_rows // n_t
        t_mat = t_long.reshape(n_u, n_t)
        if (t_mat == periods[None, :]).all():
            u_mat = units.reshape(n_u, n_t)
            if (u_mat == u_mat[:, :1]).all():
                first = u_mat[:, 0]
                if n_u < 2 or pd.Index(first).is_unique:
                    fast = True
                    unit_ids = first
                    y = y_long.reshape(n_u, n_t).copy()
                    g_mat = g.reshape(n_u, n_t)
                    if not (g_mat == g_mat[:, :1]).all():
                        bad = unit_ids[~(g_mat == g_mat[:, :1]).all(axis=1)]
                        raise DataValidationError(
                            f"the group (first treated period) varies within {len(bad)} "
                            f"unit(s), e.g. {list(bad[:5])}"
                        )
                    g_unit = g_mat[:, 0].copy()
                    row_of_unit_first = np.arange(n_u) * n_t
    if not fast:
        uid, unit_ids = pd.factorize(df[unit], sort=False)
        tid = np.searchsorted(periods, t_long)
        n_u = len(unit_ids)
        key = uid.astype(np.int64) * n_t + tid
        counts = np.bincount(key, minlength=n_u * n_t)
        if (counts > 1).any():
            k = int(np.flatnonzero(counts > 1)[0])
            raise DataValidationError(
                f"duplicate rows for unit {unit_ids[k // n_t]!r} at {time}={periods[k % n_t]!r}"
            )
        if (counts == 0).any():
            raise DataValidationError(
                f"the panel is unbalanced ({int((counts == 0).sum())} missing unit-period "
                "rows); pass a balanced panel or use the unbalanced/repeated cross-section path"
            )
        y = np.empty(n_u * n_t)
        y[key] = y_long
        y = y.reshape(n_u, n_t)
        ok = _within_unit_constant(uid, g, n_u)
        if not ok.all():
            bad = np.asarray(unit_ids)[~ok]
            raise DataValidationError(
                f"the group (first treated period) varies within {len(bad)} unit(s), "
                f"e.g. {list(bad[:5])}"
            )
        g_unit = np.empty(n_u)
        g_unit[uid] = g
        first_key = np.full(n_u, -1, dtype=np.int64)
        rows = np.arange(n_rows)
        sel = tid == 0
        first_key[uid[sel]] = rows[sel]
        row_of_unit_first = first_key
        unit_ids = np.asarray(unit_ids)
    x = None
    if covariates:
        cols = [numeric_column(df, c) for c in covariates]
        x = np.column_stack(cols)[row_of_unit_first]
    cl = None
    if cluster is not None:
        cl = cluster_column(df, cluster, "CallawaySantAnna")[row_of_unit_first]
    return Panel(y=y, g=g_unit, periods=periods, unit_ids=unit_ids, x=x, cluster=cl)
