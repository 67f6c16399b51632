"""Input checks shared by the estimators of several subpackages (survival, dynamic, did,
matching): numbers that cannot be read, missing cluster or id values, too few clusters and
duplicate rows.

Every error names the table (the estimator), the column, the count and the first rows.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from werkeffect.exceptions import DataValidationError, EstimationError, warn_estimation

#: below this many clusters cluster-robust errors are flagged; below FEW_CLUSTERS_WILD the
#: DiD estimators switch to the wild cluster bootstrap (inference="auto")
FEW_CLUSTERS_WARN = 30
FEW_CLUSTERS_WILD = 12


def example_rows(index: pd.Index | np.ndarray, mask: np.ndarray, k: int = 5) -> str:
    """``"<count> row(s), e.g. rows a, b, c"`` for the rows of ``index`` where ``mask``
    (row labels; positions counted from 0 when the labels repeat)."""
    mask = np.asarray(mask, bool)
    labels = pd.Index(index)
    if labels.is_unique:
        rows, word = labels.to_numpy()[mask], "rows"
    else:
        rows, word = np.flatnonzero(mask), "row positions (from 0)"
    shown = ", ".join(str(v) for v in rows[:k])
    more = f" (and {len(rows) - k} more)" if len(rows) > k else ""
    return f"{len(rows)} row(s), e.g. {word} {shown}{more}"


def example_values(values: np.ndarray, k: int = 3) -> str:
    """The first ``k`` distinct values, text quoted, numbers plain."""
    uniq = pd.unique(np.asarray(values, dtype=object))[:k]
    return ", ".join(repr(v) if isinstance(v, str) else str(v) for v in uniq)


def strict_numbers(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """The values of ``s`` as float64 and the mask of values that are present but are not
    numbers (text such as ``"3,5"`` or ``"nee"``). Missing values (NaN, None, empty text)
    become NaN and are not in the mask: what missing means is the caller's business.

    Estimators read no notation: ``"3,5"`` is refused, not taken for 3.5. Reading Dutch
    notation from raw extracts is the data layer's job
    (:func:`werkeffect.data.validate.parse_numbers`)."""
    if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
        return s.to_numpy(dtype=float, na_value=np.nan), np.zeros(len(s), bool)
    missing = s.isna().to_numpy()
    if s.dtype == object or pd.api.types.is_string_dtype(s):
        blank = s.astype(str).str.strip().eq("").to_numpy() & ~missing
        missing = missing | blank
    num = pd.to_numeric(s.where(~missing), errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    return num, np.isnan(num) & ~missing


def unreadable_message(s: pd.Series, column: str, bad: np.ndarray) -> str:
    """Words for values of ``column`` that are present but not numbers."""
    return (
        f"column '{column}' has values that are not numbers (such as "
        f"{example_values(s.to_numpy()[bad])}) in {example_rows(s.index, bad)}; a value that "
        "is present must be a number (decimals with a point), an empty cell means missing"
    )


def numbers(df: pd.DataFrame, column: str, table: str) -> np.ndarray:
    """``df[column]`` as float64; raises :class:`DataValidationError` on values that are
    present but are not numbers (missing values stay NaN)."""
    num, bad = strict_numbers(df[column])
    if bad.any():
        raise DataValidationError(f"{table}: " + unreadable_message(df[column], column, bad))
    return num


def cluster_codes(
    df: pd.DataFrame, column: str, table: str, what: str = "cluster", sort: bool = True
) -> np.ndarray:
    """Integer codes of a cluster or id column (``pandas.factorize``); raises naming the rows
    where it is missing."""
    s = df[column]
    missing = s.isna().to_numpy()
    if missing.any():
        raise DataValidationError(
            f"{table}: {what} column '{column}' is missing in {example_rows(df.index, missing)}; "
            "every row needs a value (fill in or drop these rows first)"
        )
    return pd.factorize(s.to_numpy(), sort=sort)[0].astype(np.int64)


def warn_few_clusters(g: int, then: str = "", stacklevel: int = 3) -> None:
    """Warn that ``g`` clusters are too few for cluster-robust errors; ``then`` says what the
    estimator does about it: ``"wild"`` (uses the wild cluster bootstrap), ``"suggest"``
    (suggests inference='wild') or ``""``."""
    en = f"only {g} clusters: cluster-robust standard errors are unreliable with fewer than "
    en += f"{FEW_CLUSTERS_WARN}"
    nl = f"slechts {g} clusters: clustergecorrigeerde standaardfouten zijn onbetrouwbaar bij "
    nl += f"minder dan {FEW_CLUSTERS_WARN}"
    if then == "wild":
        en += "; using the wild cluster bootstrap"
        nl += "; daarom wordt de wild cluster bootstrap gebruikt"
    elif then == "suggest":
        en += "; consider inference='wild'"
        nl += "; overweeg inference='wild' (wild cluster bootstrap)"
    warn_estimation(en, nl, stacklevel=stacklevel)


def require_clusters(g: int, column: str, table: str) -> None:
    """Raise :class:`EstimationError` when ``g`` < 2: with one cluster a cluster-robust
    standard error is zero or undefined, not small."""
    if g < 2:
        raise EstimationError(
            f"{table}: the cluster column '{column}' has {g} distinct value(s); cluster-robust "
            "standard errors need at least 2 clusters (with one cluster the standard error is "
            "0 or undefined, not small). Cluster on a column with more groups, or drop "
            "cluster= for unit-level errors"
        )


def check_clusters(g: int, column: str, table: str, stacklevel: int = 4) -> None:
    """Raise for fewer than 2 clusters, warn (English and Dutch) for fewer than
    :data:`FEW_CLUSTERS_WARN`."""
    require_clusters(g, column, table)
    if g < FEW_CLUSTERS_WARN:
        warn_few_clusters(g, stacklevel=stacklevel)


def require_unique(df: pd.DataFrame, columns: Sequence[str], table: str) -> None:
    """Raise :class:`DataValidationError` naming the rows that repeat a key of ``columns``
    (each key must occur once: a repeated row would count twice)."""
    dup = df.duplicated(subset=list(columns), keep=False).to_numpy()
    if dup.any():
        n_keys = int(df.loc[dup, list(columns)].drop_duplicates().shape[0])
        key = ", ".join(f"'{c}'" for c in columns)
        raise DataValidationError(
            f"{table}: {n_keys} value(s) of ({key}) occur more than once, in "
            f"{example_rows(df.index, dup)}; each must occur once (remove the duplicate rows)"
        )
