"""Input checks shared by the survival estimators: columns, values, overlap, immortal time."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from werkeffect._inputs import cluster_codes
from werkeffect.exceptions import DataValidationError, EstimationError


class ImmortalTimeError(EstimationError):
    """A treatment that starts after spell start is used as a static (baseline) comparison."""


def _examples(index: pd.Index, k: int = 5) -> str:
    vals = [str(v) for v in index[:k]]
    more = "" if len(index) <= k else f" (and {len(index) - k} more)"
    return ", ".join(vals) + more


def require_columns(df: pd.DataFrame, columns: Sequence[str | None], what: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{what}: data must be a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in columns if c is not None and c not in df.columns]
    if missing:
        raise DataValidationError(
            f"{what}: column(s) {missing} not found in the data frame "
            f"(available: {list(df.columns)[:30]})"
        )


def numeric_column(df: pd.DataFrame, col: str, what: str) -> np.ndarray:
    s = df[col]
    if not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)):
        raise DataValidationError(
            f"{what}: column {col!r} must be numeric, has dtype {s.dtype}; encode categories "
            "as 0/1 indicator columns first (e.g. pandas.get_dummies(..., drop_first=True))"
        )
    arr = s.to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isfinite(arr)
    if bad.any():
        raise DataValidationError(
            f"{what}: column {col!r} has {int(bad.sum())} missing or infinite value(s), rows "
            f"{_examples(df.index[bad])}; drop or impute them first"
        )
    return arr


def event_column(df: pd.DataFrame, col: str, what: str) -> np.ndarray:
    arr = numeric_column(df, col, what)
    bad = ~np.isin(arr, (0.0, 1.0))
    if bad.any():
        raise DataValidationError(
            f"{what}: event column {col!r} must be 0 (censored) or 1 (event); "
            f"{int(bad.sum())} row(s) have other values, e.g. rows {_examples(df.index[bad])}"
        )
    return arr.astype(bool)


def cause_column(df: pd.DataFrame, col: str, what: str) -> np.ndarray:
    arr = numeric_column(df, col, what)
    bad = (arr < 0) | (arr != np.round(arr))
    if bad.any():
        raise DataValidationError(
            f"{what}: cause column {col!r} must hold non-negative integers (0 = censored); "
            f"bad rows {_examples(df.index[bad])}"
        )
    return arr.astype(np.int64)


def time_columns(
    df: pd.DataFrame, duration: str, entry: str | None, what: str
) -> tuple[np.ndarray, np.ndarray | None]:
    stop = numeric_column(df, duration, what)
    if (stop < 0).any():
        bad = df.index[stop < 0]
        raise DataValidationError(
            f"{what}: duration column {duration!r} has negative values, rows {_examples(bad)}"
        )
    if entry is None:
        return stop, None
    start = numeric_column(df, entry, what)
    bad = start >= stop
    if bad.any():
        raise DataValidationError(
            f"{what}: entry/start column {entry!r} must be smaller than {duration!r}; "
            f"{int(bad.sum())} row(s) violate this, e.g. rows {_examples(df.index[bad])}"
        )
    return stop, start


def check_overlap(
    df: pd.DataFrame, id_col: str, start: np.ndarray | None, stop: np.ndarray, what: str
) -> None:
    """Episodes of the same id may not overlap: (start, stop] intervals must be disjoint."""
    if start is None:
        cluster_codes(df, id_col, what, what="id")  # raises on missing ids
        ids = df[id_col]
        dup = ids.duplicated(keep=False).to_numpy()
        if dup.any():
            raise DataValidationError(
                f"{what}: id column {id_col!r} has {int(dup.sum())} rows with repeated ids but no "
                "entry/start column, so the rows overlap in time (each starts at 0); pass "
                f"entry= for start–stop data. Ids e.g. {_examples(pd.Index(ids[dup].unique()))}"
            )
        return
    codes = cluster_codes(df, id_col, what, what="id", sort=False)
    order = np.lexsort((stop, start, codes))
    c, s0, s1 = codes[order], start[order], stop[order]
    same = c[1:] == c[:-1]
    overlap = same & (s0[1:] < s1[:-1])
    if overlap.any():
        rows = order[1:][overlap]
        ids = pd.Index(df[id_col].to_numpy()[rows]).unique()
        raise DataValidationError(
            f"{what}: {int(overlap.sum())} episode(s) overlap an earlier episode of the same "
            f"{id_col!r} (start < previous stop): ids {_examples(ids)}. A person cannot be at "
            "risk twice at the same time; fix the episode splitting (werkeffect.episodes builds "
            "non-overlapping start–stop rows)."
        )


def check_immortal_time(
    df: pd.DataFrame,
    columns: Sequence[str],
    treatment_start: str | None | bool,
    start: np.ndarray | None,
    what: str,
) -> None:
    """Refuse a static comparison of a treatment that starts after the row's start.

    ``treatment_start`` names a column with the elapsed time at which the treatment began
    (NaN: never). A column in ``columns`` that is 1 on a row whose time at risk starts before
    the treatment began counts waiting time as treated time (immortal time). With
    ``treatment_start=None`` the check runs automatically when the frame has a
    ``programme_start`` column (the episode frames of ``werkeffect.episodes``) and applies to
    binary columns that are only ever 1 for people with a programme start.
    ``treatment_start=False`` switches the check off.
    """
    if treatment_start is False:
        return
    auto = treatment_start is None
    col = "programme_start" if auto else treatment_start
    if col not in df.columns:
        if auto:
            return
        raise DataValidationError(f"{what}: treatment_start column {col!r} not found")
    ts = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float)
    has_start = np.isfinite(ts)
    row_start = np.zeros(len(df)) if start is None else start
    for name in columns:
        if name is None or name not in df.columns:
            continue
        v = pd.to_numeric(df[name], errors="coerce").to_numpy(dtype=float)
        vals = np.unique(v[np.isfinite(v)])
        if not np.all(np.isin(vals, (0.0, 1.0))) or len(vals) < 2:
            continue
        on = v == 1
        if auto and not np.all(has_start[on]):
            continue  # not a treatment indicator tied to this start column
        bad = on & has_start & (ts > row_start + 1e-9)
        if bad.any():
            raise ImmortalTimeError(
                f"{what}: immortal-time bias. Column {name!r} is 1 on {int(bad.sum())} row(s) "
                f"whose time at risk starts before the treatment began ({col!r} > "
                f"{'start' if start is not None else 'time 0'}), e.g. rows "
                f"{_examples(df.index[bad])}. A static treated-vs-untreated comparison counts "
                "the months before the programme started as treated time: to start a programme "
                "a person must still be on benefit, so the treated group is 'immortal' until "
                "then and looks better by construction. Use the episode (start–stop) form "
                "instead: split each spell at the programme start (werkeffect.episodes does "
                "this) so that the treatment switches on at its start, and fit "
                "CoxPH(ep, duration='stop', entry='start', event='event', covariates=['treated', "
                "...], cluster='person_id'); for curves or risk differences use a landmark or "
                "werkeffect.dynamic.DynamicMatch (treated at u vs not yet treated at u). "
                "Pass treatment_start=False only if the column is truly fixed at baseline."
            )
