"""Spell data on a monthly grid and the risk sets of dynamic evaluation.

Time is elapsed benefit duration in months since the spell started (float). Dynamic
evaluation works on a grid of whole months: month ``m`` is the interval ``[m, m + 1)``.

* a spell is **on benefit in month m** when ``entry <= m`` and ``duration > m``; its exit (if
  any) happens in month ``ceil(duration) - 1``;
* the programme **starts in month m** when ``floor(treatment_start) == m``; a start is taken to
  happen at the beginning of its month, before any exit in that month (exact for data recorded
  per month; for day-exact data a spell that leaves early in the month of a comparison
  person's start counts as an exit of the comparison group — a small, documented
  approximation);
* **treated at u**: the programme starts in month ``u`` (and the spell was observed then);
* **not yet treated at u** (Sianesi's comparison group): on benefit in month ``u`` and no start
  in or before month ``u``; these people may start later.

:func:`risk_sets` builds all these comparison frames at once (``numpy.repeat``), without a loop
over people or months.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from werkeffect._inputs import example_rows, strict_numbers, unreadable_message
from werkeffect.exceptions import DataValidationError, warn_estimation
from werkeffect.formatting import nl_int

#: months a work exit must last to count as durable (no return to benefit within this time)
DURABLE_MONTHS = 12
NEVER = np.iinfo(np.int32).max // 2


@dataclass(frozen=True)
class SpellArrays:
    """Validated spell-level arrays on the monthly grid (internal)."""

    n: int
    spell_ids: np.ndarray
    cluster: np.ndarray  # int codes of the bootstrap clusters (persons by default)
    n_clusters: int
    entry_m: np.ndarray  # first month on benefit under observation
    exit_m: np.ndarray  # last month on benefit under observation (exit or censoring month)
    cause: np.ndarray  # 0 censored, >0 exit cause
    treat_m: np.ndarray  # month of programme start, NEVER when none
    X: np.ndarray  # standardised covariates (n, k)
    covariate_names: tuple[str, ...]
    durable_last: np.ndarray | None  # last month whose work exits' durability is observed
    durable: np.ndarray | None  # exit to work without return within DURABLE_MONTHS
    work_cause: int
    # continuous times (months); ``ps`` is inf without a start; ``durable_end`` is the last
    # time at which a work exit's durability is observed (followup - 12), None without it
    d: np.ndarray | None = None
    ps: np.ndarray | None = None
    entry: np.ndarray | None = None
    durable_end: np.ndarray | None = None
    cal0: np.ndarray | None = None  # calendar time of spell start, decimal years
    # time-varying covariates known at the start of elapsed month m (history up to m):
    # (n, n_months, k_z), standardised; None without them
    Z: np.ndarray | None = None
    z_names: tuple[str, ...] = ()

    def z_at(self, rows: np.ndarray, months: np.ndarray) -> np.ndarray:
        """Time-varying covariates of spells ``rows`` at months ``months`` (broadcasting),
        shape ``broadcast(rows, months) + (k_z,)``; months past the grid take its last month."""
        r, m = np.broadcast_arrays(np.asarray(rows), np.asarray(months))
        return self.Z[r, np.clip(m, 0, self.Z.shape[1] - 1)]

    def shift(self, phi: float) -> SpellArrays:
        """The same spells on a grid of months starting ``phi`` months after spell start."""
        if phi == 0:
            return self
        d = self.d - phi
        ps = self.ps - phi
        e = np.maximum(self.entry - phi, 0.0)
        entry_m = np.ceil(e - 1e-9).astype(np.int64)
        exit_m = (np.ceil(d - 1e-9) - 1).astype(np.int64)
        treat_m = np.where(np.isinf(ps), NEVER, np.floor(ps + 1e-9)).astype(np.int64)
        treat_m = np.where(treat_m < entry_m, -1, treat_m)
        de = None if self.durable_end is None else self.durable_end - phi
        dl = None if de is None else (np.ceil(de - 1e-9) - 1).astype(np.int64)
        return replace(
            self,
            entry_m=entry_m,
            exit_m=exit_m,
            treat_m=treat_m,
            durable_last=dl,
            d=d,
            ps=ps,
            entry=e,
            durable_end=de,
            cal0=None if self.cal0 is None else self.cal0 + phi / 12.0,
        )

    def outcome_times(self, outcome: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Continuous (end time, outcome event, any exit) for ``outcome``.

        The spell leaves observation at ``end``: with an exit of interest (``event``), with a
        competing exit (``any_exit`` and not ``event``), or censored.
        """
        cause_obs = self.cause > 0
        if outcome == "work":
            return self.d, cause_obs & (self.cause == self.work_cause), cause_obs
        if self.durable_end is None or self.durable is None:
            self.outcome_arrays("durable")  # raises the explanation
        seen = self.d <= self.durable_end
        end = np.where(seen, self.d, np.minimum(self.d, self.durable_end))
        return end, self.durable & seen, cause_obs & seen

    def outcome_arrays(self, outcome: str) -> tuple[np.ndarray, np.ndarray]:
        """Last month under observation and event indicator for ``outcome``.

        ``work``: exit to work (cause ``work_cause``), censored at the extract date.
        ``durable``: exit to work with no return within 12 months; spells are censored 12
        months before the extract date (their work exits after that have unknown durability).
        Other exits are competing events in both cases.
        """
        if outcome == "work":
            return self.exit_m, (self.cause == self.work_cause)
        if self.durable_last is None or self.durable is None:
            raise DataValidationError(
                "outcome='durable' needs the columns `followup` (months from spell start to the "
                "extract date) and `return_time` (months from exit to the next benefit spell, "
                "empty when none)"
            )
        last = np.minimum(self.exit_m, self.durable_last)
        return last, self.durable & (self.exit_m <= self.durable_last)

    def any_exit_by(self, last: np.ndarray) -> np.ndarray:
        """Indicator of an exit (any cause) observed in month ``last``."""
        return (self.cause > 0) & (self.exit_m <= last)


def _codes(values: pd.Series) -> tuple[np.ndarray, int]:
    codes, uniques = pd.factorize(values, sort=True)
    return codes.astype(np.int64), len(uniques)


def design_matrix(df: pd.DataFrame, covariates: Sequence[str]) -> pd.DataFrame:
    """Numeric design of ``covariates``: categories become dummies (first level dropped)."""
    parts = []
    for col in covariates:
        s = df[col]
        if (
            isinstance(s.dtype, pd.CategoricalDtype)
            or s.dtype == object
            or pd.api.types.is_string_dtype(s)
        ):
            d = pd.get_dummies(s.astype("category"), prefix=col, drop_first=True, dtype=float)
            parts.append(d)
        elif pd.api.types.is_bool_dtype(s):
            parts.append(s.astype(float).rename(col).to_frame())
        else:
            parts.append(pd.to_numeric(s, errors="raise").astype(float).rename(col).to_frame())
    if not parts:
        return pd.DataFrame(index=df.index)
    return pd.concat(parts, axis=1)


def prepare_spells(
    df: pd.DataFrame,
    *,
    id: str,
    duration: str,
    cause: str,
    treatment_start: str,
    covariates: Sequence[str],
    spell: str | None = None,
    entry: str | None = None,
    followup: str | None = None,
    return_time: str | None = None,
    cluster: str | None = None,
    work_cause: int = 1,
    calendar_start: str | None = None,
    table: str = "spells",
) -> SpellArrays:
    """Validate a one-row-per-spell frame and put it on the monthly grid."""
    if not isinstance(df, pd.DataFrame):
        raise DataValidationError(f"{table}: expected a pandas DataFrame, got {type(df)!r}")
    covariates = list(covariates)
    needed = [id, duration, cause, treatment_start, *covariates]
    needed += [
        c for c in (spell, entry, followup, return_time, cluster, calendar_start) if c is not None
    ]
    missing = [c for c in dict.fromkeys(needed) if c not in df.columns]
    if missing:
        raise DataValidationError(
            f"{table}: missing column(s) {missing}; available: {list(df.columns)}"
        )
    if len(df) == 0:
        raise DataValidationError(f"{table}: no rows")
    problems = []

    def _rows(mask: np.ndarray) -> str:
        return example_rows(df.index, mask)

    for col in [id, duration, cause, *covariates]:
        bad = df[col].isna().to_numpy()
        if bad.any():
            problems.append(f"column `{col}` has missing values in {_rows(bad)}")
    # values that are present but are not numbers: an error, never "missing" (for the
    # programme start, missing means no programme)
    parsed = {}
    for col in dict.fromkeys(
        x for x in (duration, treatment_start, cause, entry, followup, return_time) if x
    ):
        parsed[col], unreadable = strict_numbers(df[col])
        if unreadable.any():
            problems.append(unreadable_message(df[col], col, unreadable))
    d, ps, c = parsed[duration], parsed[treatment_start], parsed[cause]
    e = np.zeros(len(df)) if entry is None else parsed[entry]
    bad = np.isinf(ps)
    if bad.any():
        problems.append(
            f"column `{treatment_start}` has infinite values in {_rows(bad)}; leave the cell "
            "empty (NaN) for no programme"
        )
    if np.isnan(e).any():
        problems.append(f"column `{entry}` has missing values in {_rows(np.isnan(e))}")
    bad = ~np.isnan(d) & (d <= 0)
    if bad.any():
        problems.append(f"column `{duration}` must be > 0 months; {_rows(bad)}")
    bad = ~np.isnan(c) & ((c < 0) | (c != np.round(c)))
    if bad.any():
        problems.append(
            f"column `{cause}` must hold 0 (censored) or a positive cause code; {_rows(bad)}"
        )
    bad = ~np.isnan(ps) & ~np.isnan(d) & ((ps >= d) | (ps < 0))
    if bad.any():
        problems.append(
            f"column `{treatment_start}` must lie in [0, `{duration}`) (the programme starts "
            f"while on benefit); {_rows(bad)}"
        )
    bad = ~np.isnan(e) & ~np.isnan(d) & ((e < 0) | (e >= d))
    if bad.any():
        problems.append(f"column `{entry}` must lie in [0, `{duration}`); {_rows(bad)}")
    fu = rt = None
    if followup is not None:
        fu = parsed[followup]
        bad = np.isnan(fu) | (fu + 1e-6 < d)
        if bad.any():
            problems.append(
                f"column `{followup}` (months from spell start to the extract date) must be "
                f"present and >= `{duration}`; {_rows(bad)}"
            )
        cens = (c == 0) & ~np.isnan(fu)
        if cens.any() and np.any(np.abs(fu[cens] - d[cens]) > 1.0):
            n_off = int((np.abs(fu[cens] - d[cens]) > 1.0).sum())
            warn_estimation(
                f"{table}: for censored spells `{followup}` should equal `{duration}` (both run "
                f"to the extract date); they differ by more than a month for {n_off} spell(s)",
                f"{table}: bij gecensoreerde uitkeringen hoort `{followup}` gelijk te zijn aan "
                f"`{duration}` (beide lopen tot de peildatum); ze verschillen meer dan een "
                f"maand bij {nl_int(n_off)} uitkering(en)",
                stacklevel=3,
            )
    if return_time is not None:
        rt = parsed[return_time]
        bad = ~np.isnan(rt) & (rt < 0)
        if bad.any():
            problems.append(f"column `{return_time}` must be >= 0 months; {_rows(bad)}")
    if cluster is not None:
        bad = df[cluster].isna().to_numpy()
        if bad.any():
            problems.append(f"cluster column `{cluster}` has missing values in {_rows(bad)}")
    if spell is not None:
        bad = df[spell].duplicated(keep=False).to_numpy()
        if bad.any():
            problems.append(
                f"spell id column `{spell}` repeats {int(df.loc[bad, spell].nunique())} "
                f"id(s) in {_rows(bad)}: one row per spell (remove the duplicate rows)"
            )
    elif not df.index.is_unique:
        bad = df.index.duplicated(keep=False)
        problems.append(
            f"the row labels (index) repeat in {_rows(bad)} and no spell= column is given: "
            "one row per spell with a unique label (remove duplicate rows, or give spell=)"
        )
    if problems:
        raise DataValidationError(f"{table}: " + "; ".join(problems))

    design = design_matrix(df, covariates)
    sd = design.std(ddof=0).to_numpy()
    const = sd < 1e-12
    if const.any():
        gone = list(design.columns[const])
        warn_estimation(
            f"{table}: covariate column(s) {gone} are constant and are left out of the "
            "propensity model",
            f"{table}: kenmerk(en) {gone} zijn constant en blijven buiten het propensity-model",
            stacklevel=3,
        )
        design = design.loc[:, ~const]
        sd = sd[~const]
    X = (design.to_numpy(float) - design.mean().to_numpy()) / np.where(sd > 0, sd, 1.0)

    entry_m = np.ceil(e - 1e-9).astype(np.int64)
    exit_m = (np.ceil(d - 1e-9) - 1).astype(np.int64)
    treat_m = np.where(np.isnan(ps), NEVER, np.floor(ps + 1e-9)).astype(np.int64)
    # a start before the observed entry month: treated before observation, never in a risk set
    treat_m = np.where((treat_m < entry_m), -1, treat_m)
    cause_i = c.astype(np.int64)
    durable_last = durable = durable_end = None
    if fu is not None and rt is not None:
        durable_end = fu - DURABLE_MONTHS
        durable_last = (np.ceil(durable_end - 1e-9) - 1).astype(np.int64)
        durable = (cause_i == work_cause) & (np.isnan(rt) | (rt > DURABLE_MONTHS))
    cal0 = None
    if calendar_start is not None:
        cs = df[calendar_start]
        if pd.api.types.is_datetime64_any_dtype(cs):
            ts = pd.to_datetime(cs)
            cal0 = (ts.dt.year + (ts.dt.dayofyear - 1) / 365.25).to_numpy(float)
        else:
            cal0 = pd.to_numeric(cs, errors="coerce").to_numpy(float)
        if np.isnan(cal0).any():
            raise DataValidationError(
                f"{table}: column `{calendar_start}` has missing values in {_rows(np.isnan(cal0))}"
            )
    clus_col = cluster if cluster is not None else id
    clus, n_clusters = _codes(df[clus_col])
    spell_ids = df[spell].to_numpy() if spell is not None else df.index.to_numpy()
    return SpellArrays(
        n=len(df),
        spell_ids=spell_ids,
        cluster=clus,
        n_clusters=n_clusters,
        entry_m=entry_m,
        exit_m=exit_m,
        cause=cause_i,
        treat_m=treat_m,
        X=np.ascontiguousarray(X),
        covariate_names=tuple(design.columns),
        durable_last=durable_last,
        durable=durable,
        work_cause=int(work_cause),
        d=d,
        ps=np.where(np.isnan(ps), np.inf, ps),
        entry=e,
        durable_end=durable_end,
        cal0=cal0,
    )


def time_varying_arrays(
    frame: pd.DataFrame,
    spell_ids: np.ndarray,
    spell: str,
    n_months: int,
    columns: Sequence[str] | None = None,
    table: str = "time_varying",
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Dense (spell, month, covariate) array of time-varying history, standardised.

    ``frame`` has one row per spell and elapsed month: the spell id column ``spell``,
    ``month`` (whole elapsed months, the value holds at the *start* of month ``month``, so it
    must be known before a programme start in that month: history up to u) and numeric
    covariates. Months without a row carry the spell's previous value forward (its first
    value backward). Months from ``n_months`` on are not needed and ignored.
    """
    if not isinstance(frame, pd.DataFrame):
        raise DataValidationError(f"{table}: expected a pandas DataFrame, got {type(frame)!r}")
    missing = [c for c in (spell, "month") if c not in frame.columns]
    if missing:
        raise DataValidationError(
            f"{table}: missing column(s) {missing}; available: {list(frame.columns)}"
        )
    cols = (
        [c for c in frame.columns if c not in (spell, "month")]
        if columns is None
        else list(columns)
    )
    absent = [c for c in cols if c not in frame.columns]
    if absent or not cols:
        raise DataValidationError(
            f"{table}: time-varying covariate column(s) {absent or '(none)'} not found; "
            f"available: {list(frame.columns)}"
        )
    month = pd.to_numeric(frame["month"], errors="coerce").to_numpy(float)
    vals = frame[cols].apply(pd.to_numeric, errors="coerce").to_numpy(float)
    bad = np.isnan(month) | (month < 0) | (month != np.round(month)) | np.isnan(vals).any(axis=1)
    if bad.any():
        idx = np.flatnonzero(bad)[:5].tolist()
        raise DataValidationError(
            f"{table}: `month` must be a whole number >= 0 and the covariates {cols} numeric "
            f"without missing values; {int(bad.sum())} row(s) are not, e.g. rows {idx}"
        )
    pos = pd.Index(spell_ids).get_indexer(frame[spell].to_numpy())
    unknown = pos < 0
    keep = ~unknown & (month < n_months)
    pos, m, vals = pos[keep], month[keep].astype(np.int64), vals[keep]
    flat = pos * n_months + m
    if len(np.unique(flat)) < len(flat):
        raise DataValidationError(f"{table}: more than one row for some (`{spell}`, `month`)")
    n, kz = len(spell_ids), len(cols)
    has = np.zeros(n * n_months, bool)
    has[flat] = True
    no_rows = ~has.reshape(n, n_months).any(axis=1)
    if no_rows.any():
        ex = np.asarray(spell_ids)[no_rows][:5].tolist()
        raise DataValidationError(
            f"{table}: {int(no_rows.sum())} spell(s) have no row before month {n_months}, "
            f"e.g. {spell} {ex}"
        )
    idx = np.where(has.reshape(n, n_months), np.arange(n_months)[None, :], -1)
    idx = np.maximum.accumulate(idx, axis=1)
    first = np.argmax(has.reshape(n, n_months), axis=1)
    idx = np.where(idx < 0, first[:, None], idx)
    dense = np.zeros((n * n_months, kz))
    dense[flat] = vals
    Z = dense.reshape(n, n_months, kz)[np.arange(n)[:, None], idx]
    mu = Z.reshape(-1, kz).mean(axis=0)
    sd = Z.reshape(-1, kz).std(axis=0)
    const = sd < 1e-12
    if const.any():
        gone = [c for c, k in zip(cols, const, strict=True) if k]
        warn_estimation(
            f"{table}: time-varying covariate(s) {gone} are constant and are left out of the "
            "start model",
            f"{table}: tijdsafhankelijke kenmerk(en) {gone} zijn constant en blijven buiten het "
            "startmodel",
            stacklevel=3,
        )
    Z = ((Z - mu) / np.where(const, 1.0, sd))[:, :, ~const]
    names = tuple(c for c, k in zip(cols, const, strict=True) if not k)
    return np.ascontiguousarray(Z), names


def interval_rows(
    lo: np.ndarray, hi: np.ndarray, u_values: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """All (row, u index) pairs with ``lo[row] <= u_values[u index] <= hi[row]``.

    ``u_values`` must be sorted. Vectorised with ``searchsorted`` and ``repeat``.
    """
    a = np.searchsorted(u_values, lo, side="left")
    b = np.searchsorted(u_values, hi, side="right")
    count = np.maximum(b - a, 0)
    total = int(count.sum())
    rows = np.repeat(np.arange(len(lo)), count)
    starts = np.cumsum(count) - count
    offset = np.arange(total) - np.repeat(starts, count)
    return rows, a[rows] + offset


def control_rows(arr: SpellArrays, u_values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows of the not-yet-treated at each u: on benefit in month u, no start up to month u."""
    hi = np.minimum(arr.exit_m, arr.treat_m - 1)
    return interval_rows(arr.entry_m, hi, u_values)


def treated_rows(arr: SpellArrays, u_values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows of the programme starters in month u (u in ``u_values``)."""
    pos = np.searchsorted(u_values, arr.treat_m)
    pos_c = np.minimum(pos, len(u_values) - 1)
    ok = (arr.treat_m >= arr.entry_m) & (u_values[pos_c] == arr.treat_m)
    rows = np.flatnonzero(ok)
    return rows, pos_c[rows]


def default_u_values(arr: SpellArrays, min_treated: int, weights: np.ndarray | None = None):
    """Months with at least ``min_treated`` programme starts."""
    ok = (arr.treat_m >= arr.entry_m) & (arr.treat_m < NEVER)
    w = np.ones(arr.n) if weights is None else weights
    if not ok.any():
        return np.array([], dtype=np.int64)
    counts = np.bincount(arr.treat_m[ok], weights=w[ok])
    return np.flatnonzero(counts >= min_treated).astype(np.int64)


def risk_sets(
    spells: pd.DataFrame,
    *,
    id: str,
    duration: str,
    cause: str,
    treatment_start: str,
    u_values: Sequence[int] | None = None,
    entry: str | None = None,
    spell: str | None = None,
    min_treated: int = 10,
) -> pd.DataFrame:
    """The comparison frames of dynamic evaluation, for all u at once.

    Returns one row per spell and elapsed month ``u`` in which the spell is either a
    programme starter (``treated=1``) or still on benefit and not yet treated
    (``treated=0``, Sianesi's comparison group; such a spell may start later, in which case
    ``later_start`` holds the month). Columns: ``u``, ``row`` (position in ``spells``), the
    spell id, ``treated``, ``later_start``.
    """
    arr = prepare_spells(
        spells,
        id=id,
        duration=duration,
        cause=cause,
        treatment_start=treatment_start,
        covariates=[],
        spell=spell,
        entry=entry,
    )
    if u_values is None:
        uv = default_u_values(arr, min_treated)
    else:
        uv = np.unique(np.asarray(u_values, dtype=np.int64))
    ci, cu = control_rows(arr, uv)
    ti, tu = treated_rows(arr, uv)
    rows = np.concatenate([ti, ci])
    uidx = np.concatenate([tu, cu])
    later = arr.treat_m[rows].astype(float)
    later[(later >= NEVER) | (later < 0)] = np.nan
    later[: len(ti)] = np.nan
    out = pd.DataFrame(
        {
            "u": uv[uidx] if len(uv) else np.array([], dtype=np.int64),
            "row": rows,
            spell or "spell": arr.spell_ids[rows],
            "treated": np.r_[np.ones(len(ti), int), np.zeros(len(ci), int)],
            "later_start": later,
        }
    )
    return out.sort_values(["u", "treated", "row"], ascending=[True, False, True]).reset_index(
        drop=True
    )
