"""Statistical disclosure control, as CBS applies it to microdata output.

Every table, figure, count and estimate that leaves werkeffect — through a results file or a
report — passes through here first. The rules (CBS, *Regels voor output*):

* no count, cell, group or risk set under a threshold (default 10 persons, configurable);
  such cells are suppressed (set missing and listed in the output-check log), and when one
  cell in a column is suppressed a second one is suppressed with it so that it cannot be
  recovered from a total (secondary suppression);
* statistics of a group under the threshold (a mean earnings of three people) are suppressed
  with the group's count, and statistics computed from a count (participants times an
  effect) go with it, a secondary cell's too;
* a share of a yes/no characteristic is a count in disguise (5,3% of 19 is one person): a
  share whose numerator, or the rest of its group, is under the threshold is suppressed;
* counts of persons in free text (a note, an estimator's warning, a reason in the data flow)
  are masked: "3 deelnemers" becomes "<10 deelnemers";
* two published counts of persons whose difference is under the threshold (a pilot of 40
  and an estimate on the 37 of them with a comparable control) count the few in between:
  the smaller is withheld (:func:`check_differences`);
* survival and cumulative-incidence curves are cut where their risk set falls under the
  threshold;
* no individual rows: a table with an id-like column (``person_id``, ``bsn``, ``*_id``, a birth
  date, a postcode), with as many rows as there are persons, or in which every count is one,
  cannot be made safe and raises :class:`DisclosureError`;
* no minimum or maximum of a person-level value (a column or a row called min/max);
* counts are rounded per policy (e.g. to multiples of 5 or 10);
* a step of the data flow that drops fewer rows than the threshold shows no number, and the
  row counts of every step are then rounded to multiples of the threshold
  (:func:`check_flow`; the multiple is stored as ``disclosure.flow_rounding``);
* no value that looks like a BSN (nine digits passing the *elfproef*, also written in groups
  as 1234.56.782) anywhere.

Suppressed cells are marked (missing in the data, ``policy.marker`` in reports) and every
suppression, cut and rounding is written to an :class:`OutputCheckLog`, which the results file
stores under ``disclosure.log`` for the output checker.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from werkeffect.data.privacy import is_bsn
from werkeffect.exceptions import DisclosureError

__all__ = [
    "DisclosureError",
    "DisclosurePolicy",
    "OutputCheckLog",
    "check_count",
    "check_differences",
    "check_estimate_counts",
    "check_flow",
    "check_table",
    "check_text",
    "check_text_counts",
    "find_bsn",
    "flow_rounding",
    "is_bsn",
]

#: column names that identify a person or a record of one person
_ID_LIKE = re.compile(
    r"^(bsn|sofinummer|sofi_nummer|a_?nummer|id|person|persoon|persoonsnummer|"
    r"pseudo(nym)?(_id)?|rin(nummer)?|.*_id|id_.*|.*_bsn|bsn_.*|"
    r"geboortedatum|birth_?date|date_of_birth|dob|postcode|zip|adres|address|"
    r"voornaam|achternaam|first_name|last_name|surname)$",
    re.IGNORECASE,
)
#: columns that are minima or maxima
_MIN_MAX = re.compile(
    r"^(min|max|minimum|maximum|laagste|hoogste)$|^(min|max|minimum|maximum)_|_(min|max|minimum|maximum)$",
    re.IGNORECASE,
)
_MIN_MAX_LABELS = {"min", "max", "minimum", "maximum", "laagste", "hoogste"}
#: column names taken as counts of persons even when not declared
_COUNT_LIKE = re.compile(
    r"^(n|count|aantal|personen|persons|n_persons|n_personen|n_.+|.+_n|aantal_.+|count_.+)$",
    re.IGNORECASE,
)
#: numeric columns that locate a row (time, horizon, cohort) rather than hold a statistic
_KEY_LIKE = re.compile(
    r"^(time|tijd|timeline|t|month|maand|months|maanden|year|jaar|u|horizon|event_time|e|"
    r"period|periode|g|group|groep|cohort|duration|duur|step|stap|ladder_step|horizon_months|"
    r"elapsed|week|quarter|kwartaal)$",
    re.IGNORECASE,
)
#: nine digits in a text, alone or in three groups (1234.56.782, 123 45 6782); not three
#: groups of three with points, which is how a Dutch report writes 123.456.789 (a number)
_NINE_DIGITS = re.compile(r"(?<![\d.,])(?:\d{9}|\d{2,4}([.\s-])\d{2,4}\1\d{2,4})(?![\d]|[.,]\d)")
_DUTCH_THOUSANDS = re.compile(r"\d{3}\.\d{3}\.\d{3}")


@dataclass(frozen=True)
class DisclosurePolicy:
    """The output rules.

    Parameters
    ----------
    threshold
        Smallest number of persons a cell, group or risk set may describe (CBS: 10).
    rounding
        Round every count to a multiple of this (``None``: no rounding; CBS often asks 5 or 10).
    secondary
        Suppress a second cell when a column has exactly one suppressed cell.
    max_rows_without_counts
        In reports, a displayed table with more rows than this and no count or risk-set column
        is taken for individual rows.
    """

    threshold: int = 10
    rounding: int | None = None
    secondary: bool = True
    max_rows_without_counts: int = 200

    def __post_init__(self) -> None:
        if int(self.threshold) < 1:
            raise ValueError("the disclosure threshold must be at least 1")
        if self.rounding is not None and int(self.rounding) < 1:
            raise ValueError("rounding must be a positive integer or None")

    @property
    def marker(self) -> str:
        """How a suppressed cell shows in a report."""
        return f"<{self.threshold}"

    def round_count(self, value: float) -> float:
        if self.rounding is None or value is None or not np.isfinite(value):
            return value
        base = int(self.rounding)
        return float(math.floor(value / base + 0.5) * base)

    def to_dict(self) -> dict[str, Any]:
        return {
            "threshold": int(self.threshold),
            "rounding": None if self.rounding is None else int(self.rounding),
            "secondary": bool(self.secondary),
        }


def _policy(policy: DisclosurePolicy | int | None) -> DisclosurePolicy:
    if policy is None:
        return DisclosurePolicy()
    if isinstance(policy, DisclosurePolicy):
        return policy
    return DisclosurePolicy(threshold=int(policy))


@dataclass
class OutputCheckLog:
    """What was suppressed, cut or rounded, in the order it happened."""

    entries: list[dict[str, str]] = field(default_factory=list)

    def add(
        self, output: str, rule: str, action: str, detail: str, column: str = "", row: str = ""
    ) -> None:
        self.entries.append(
            {
                "output": str(output),
                "column": str(column),
                "row": str(row),
                "rule": str(rule),
                "action": str(action),
                "detail": str(detail),
            }
        )

    def for_output(self, output: str) -> list[dict[str, str]]:
        return [e for e in self.entries if e["output"] == output]

    def to_records(self) -> list[dict[str, str]]:
        return [dict(e) for e in self.entries]

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self):
        return iter(self.entries)


# -- BSN ------------------------------------------------------------------------------------
def find_bsn(df: pd.DataFrame, skip: Iterable[str] = ()) -> dict[str, list[int]]:
    """Columns holding BSN-like values, with the positions (first five) of those rows."""
    skip = set(skip)
    found: dict[str, list[int]] = {}
    for col in df.columns:
        if col in skip:
            continue
        s = df[col]
        if not (
            pd.api.types.is_integer_dtype(s.dtype)
            or pd.api.types.is_object_dtype(s.dtype)
            or pd.api.types.is_string_dtype(s.dtype)
        ):
            continue
        if pd.api.types.is_object_dtype(s.dtype):
            s = s.map(lambda v: v if isinstance(v, str | int | np.integer) else "").astype(str)
        hits = np.flatnonzero(is_bsn(s))
        if len(hits):
            found[str(col)] = [int(i) for i in hits[:5]]
    return found


def check_text(text: str, where: str) -> str:
    """Refuse free text (a caption, a note, a label) that holds a BSN-like number."""
    if not isinstance(text, str):
        return text
    for m in _NINE_DIGITS.finditer(text):
        if _DUTCH_THOUSANDS.fullmatch(m.group()):
            continue
        if is_bsn([m.group()])[0]:
            raise DisclosureError(
                f"{where}: the text holds a BSN-like number (nine digits passing the elfproef); "
                "a BSN may never appear in an output"
            )
    return text


#: words for persons or their records, after which a number is a count of persons
_PERSON_WORDS = (
    r"deelnemers?|deelnemer\(s\)|participants?|participant\(s\)|persons?|person\(s\)|"
    r"personen|persoon|people|mensen|statushouders?|controls?|control\(s\)|"
    r"vergelijkingspersonen|vergelijkingspersoon|starters?|starter\(s\)|uitkeringen|"
    r"uitkering\(en\)|uitkeringsperioden?|spells?|spell\(s\)|exits?|records?|rows?|"
    r"rijen|rij|cases?|gevallen|geval|behandelden|huishoudens?|households?|inwoners?|"
    r"residents?|recipients?|ontvangers?|eenheid(?:/eenheden)?|eenheden|units?|unit\(s\)|"
    r"observations?|observation\(s\)|waarnemingen|waarneming"
)
_NUMBER = r"\d{1,3}(?:[.,]\d{3})+|\d+"
_TEXT_COUNT = re.compile(
    rf"(?<![\w.,])(?P<n>{_NUMBER})(?P<of>\s+(?:van|of|out\s+of|uit)\s+(?P<m>{_NUMBER}))?"
    rf"(?P<words>(?:\s+[^\W\d][\w-]*){{0,2}}?)\s+(?P<noun>{_PERSON_WORDS})\b",
    re.IGNORECASE,
)


def check_text_counts(
    text: str,
    where: str,
    *,
    policy: DisclosurePolicy | int | None = None,
    log: OutputCheckLog | None = None,
) -> str:
    """Free text (a note, a warning, a reason in the data flow) with counts of persons under
    the threshold masked: "3 deelnemers hebben …" becomes "<10 deelnemers hebben …".

    A count is a whole number before a word for persons or their records (deelnemers,
    participants, personen, spells, …), with at most two words between, or "n van m …".
    Numbers with a decimal comma or point, and numbers before other words, are left alone.
    """
    if not isinstance(text, str) or not text:
        return text
    pol = _policy(policy)
    t = pol.threshold

    def small(number: str | None) -> bool:
        if number is None:
            return False
        v = int(re.sub(r"[.,]", "", number))
        return 0 < v < t

    def mask(m: re.Match[str]) -> str:
        n, total = m.group("n"), m.group("m")
        if not (small(n) or small(total)):
            return m.group(0)
        if log is not None:
            log.add(where, "text_count", "suppressed", f"count under {t} in a text")
        out = pol.marker if small(n) else n
        if m.group("of"):
            head = m.group("of")[: m.start("m") - m.start("of")]
            out += head + (pol.marker if small(total) else total)
        return out + m.group("words") + m.group(0)[m.end("words") - m.start() :]

    return _TEXT_COUNT.sub(mask, text)


# -- tables ---------------------------------------------------------------------------------
def _row_label(df: pd.DataFrame, i: int, keys: Sequence[str]) -> str:
    if keys:
        return ", ".join(f"{k}={df[k].iloc[i]}" for k in keys)
    return f"row {i}"


def _is_numeric(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)


def check_table(
    df: pd.DataFrame,
    name: str,
    *,
    count_columns: Sequence[str] | None = None,
    risk_set_columns: Sequence[str] | None = None,
    key_columns: Sequence[str] | None = None,
    share_columns: Mapping[str, str | float] | None = None,
    share_rows: tuple[str, Any] | None = None,
    derived_columns: Sequence[str] = (),
    n_persons: int | None = None,
    policy: DisclosurePolicy | int | None = None,
    log: OutputCheckLog | None = None,
    displayed: bool = False,
) -> pd.DataFrame:
    """Return a copy of ``df`` that is safe to publish, or raise :class:`DisclosureError`.

    Parameters
    ----------
    df
        The table (a named or non-default index is kept as leading column(s)).
    name
        How the output is called in messages and in the log.
    count_columns
        Columns holding numbers of persons. Columns named like counts (``n``, ``n_*``,
        ``aantal*``, ``count``) are treated as counts too.
    risk_set_columns
        Columns holding the number at risk of a curve; the curve is cut (rows dropped) from the
        first row where it falls under the threshold, per group of the key columns.
    key_columns
        Columns that locate a row (group labels, time); default: the non-numeric columns and
        numeric ones named like time, month, year, horizon, cohort.
    share_columns
        Columns holding the share of a group with a yes/no characteristic (a proportion in
        [0, 1]), each with its group size: a count column of the table or a number of
        persons. Share times group size is a count: a share whose numerator or complement
        lies between 0 and the threshold is suppressed (5,3% of 19 is one person).
    share_rows
        ``(column, value)``: the shares apply only to the rows where ``column == value``
        (e.g. ``("type", "binary")`` in a balance table, whose other rows are means);
        default all rows.
    derived_columns
        Statistics computed from the counts or shares of their row (participants times an
        effect, a standardised difference): they are suppressed in every row where a count
        (a secondary one too) or a share is, so that number cannot be solved back.
    n_persons
        The number of persons in the data; a table with that many rows or more is refused.
    displayed
        The table is shown in a report without declared counts: more than
        ``policy.max_rows_without_counts`` rows without any count or risk set is refused.
    """
    pol = _policy(policy)
    log = log if log is not None else OutputCheckLog()
    t = pol.threshold
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{name}: expected a pandas DataFrame, got {type(df).__name__}")
    out = df.copy()
    if isinstance(out.columns, pd.MultiIndex):
        out.columns = [" ".join(str(p) for p in c if str(p)) for c in out.columns]
    named_index = any(n is not None for n in out.index.names)
    if named_index or not isinstance(out.index, pd.RangeIndex):
        idx_labels = [str(v).strip().lower() for v in out.index.to_flat_index()]
        bad = sorted(set(idx_labels) & _MIN_MAX_LABELS)
        if bad:
            raise DisclosureError(
                f"table '{name}': row(s) {bad} give a minimum or maximum of a person-level "
                "value; publish percentiles of groups of at least "
                f"{t} persons instead"
            )
        if named_index:
            out = out.reset_index()
        else:
            out = out.reset_index(drop=True)
    out.columns = [str(c) for c in out.columns]
    cols = list(out.columns)
    for c in derived_columns:
        if c not in out.columns:
            raise DisclosureError(f"table '{name}': derived column '{c}' is not in it")
    shares = _declared_shares(out, name, share_columns, share_rows, derived_columns)

    # 1. identifiers and individual rows: cannot be made safe
    ids = [c for c in cols if _ID_LIKE.match(c)]
    if ids:
        raise DisclosureError(
            f"table '{name}': column(s) {ids} identify persons (id-like); individual rows may "
            "never leave — aggregate to groups of at least "
            f"{t} persons"
        )
    count_cols = list(dict.fromkeys(list(count_columns or [])))
    risk_cols = list(dict.fromkeys(list(risk_set_columns or [])))
    for c in count_cols + risk_cols:
        if c not in out.columns:
            raise DisclosureError(f"table '{name}': declared count column '{c}' is not in it")
        if not _is_numeric(out[c]):
            raise DisclosureError(f"table '{name}': count column '{c}' is not numeric")
    for c in cols:
        if c not in count_cols and c not in risk_cols and _COUNT_LIKE.match(c):
            if _is_numeric(out[c]):
                count_cols.append(c)
    bsn = find_bsn(out, skip=count_cols + risk_cols)
    if bsn:
        where = "; ".join(f"column '{c}' rows {r}" for c, r in bsn.items())
        raise DisclosureError(
            f"table '{name}': BSN-like values (nine digits passing the elfproef) in {where}; "
            "a BSN may never appear in an output"
        )
    mm = [c for c in cols if _MIN_MAX.search(c)]
    if mm:
        raise DisclosureError(
            f"table '{name}': column(s) {mm} give a minimum or maximum of a person-level value; "
            f"publish percentiles of groups of at least {t} persons instead"
        )
    if key_columns is None:
        keys = [
            c
            for c in cols
            if c not in count_cols
            and c not in risk_cols
            and (not _is_numeric(out[c]) or _KEY_LIKE.match(c))
        ]
    else:
        keys = [c for c in key_columns if c in out.columns]
    for c in keys:
        if not _is_numeric(out[c]):
            labels = out[c].astype("string").str.strip().str.lower()
            bad = sorted(set(labels.dropna()) & _MIN_MAX_LABELS)
            if bad:
                raise DisclosureError(
                    f"table '{name}': row(s) {bad} in column '{c}' give a minimum or maximum of "
                    f"a person-level value; publish percentiles of groups of at least {t} instead"
                )
    if n_persons is not None and n_persons >= t and len(out) >= n_persons:
        raise DisclosureError(
            f"table '{name}': {len(out):,} rows for {n_persons:,} persons — this is a table of "
            "individual rows; aggregate it"
        )
    if count_cols and len(out) > 1:
        vals = out[count_cols].to_numpy(dtype=float, na_value=np.nan)
        finite = vals[np.isfinite(vals)]
        if len(finite) > 1 and np.all(finite == 1):
            raise DisclosureError(
                f"table '{name}': every count in {count_cols} is 1 — these are individual rows"
            )
    if displayed and not count_cols and not risk_cols:
        if len(out) > pol.max_rows_without_counts:
            raise DisclosureError(
                f"table '{name}': {len(out):,} rows and no count or risk-set column — this "
                "looks like individual rows; aggregate it or declare its count columns"
            )

    # 2. risk sets: cut each curve where it falls under the threshold
    if risk_cols and len(out):
        group_keys = [c for c in keys if not _is_numeric(out[c])]
        time_key = next((c for c in keys if _is_numeric(out[c])), None)
        small = np.zeros(len(out), dtype=bool)
        for c in risk_cols:
            small |= out[c].to_numpy(dtype=float, na_value=np.inf) < t
        if small.any():
            if group_keys:
                grp = out.groupby(group_keys, sort=False, dropna=False).ngroup().to_numpy()
            else:
                grp = np.zeros(len(out), dtype=np.int64)
            frame = pd.DataFrame({"g": grp, "s": small.astype(np.int64)})
            cut = frame.groupby("g", sort=False)["s"].cummax().to_numpy().astype(bool)
            firsts = frame.index[small].to_series().groupby(grp[small], sort=False).first()
            for i in firsts.to_numpy():
                at = f"{time_key}={out[time_key].iloc[i]}" if time_key else f"row {i}"
                label = _row_label(out, i, group_keys) if group_keys else at
                log.add(
                    f"table:{name}",
                    "risk_set",
                    "cut",
                    f"curve cut from {at} on: risk set under {t}",
                    column=",".join(risk_cols),
                    row=label,
                )
            out = out.loc[~cut].reset_index(drop=True)
            if shares is not None:
                shares["rows"] = shares["rows"][~cut]
                shares["sizes"] = {c: v[~cut] for c, v in shares["sizes"].items()}

    # 3. small counts: primary and secondary suppression, statistics of small groups
    if count_cols and len(out):
        stat_cols = [
            c for c in cols if c not in keys and c not in count_cols and c not in risk_cols
        ]
        stat_cols = [c for c in stat_cols if c in out.columns and _is_numeric(out[c])]
        suppressed = pd.DataFrame(False, index=out.index, columns=count_cols)
        for c in count_cols:
            v = out[c].to_numpy(dtype=float, na_value=np.nan)
            suppressed[c] = (v > 0) & (v < t)
        primary = suppressed.copy()
        for c in count_cols:
            for i in np.flatnonzero(primary[c].to_numpy()):
                log.add(
                    f"table:{name}",
                    "small_count",
                    "suppressed",
                    f"count under {t}",
                    column=c,
                    row=_row_label(out, i, keys),
                )
        if pol.secondary:
            for c in count_cols:
                v = out[c].to_numpy(dtype=float, na_value=np.nan)
                if primary[c].sum() == 1 and np.isfinite(v).sum() >= 2:
                    cand = np.where(~primary[c].to_numpy() & np.isfinite(v) & (v > 0), v, np.inf)
                    if np.isfinite(cand).any():
                        j = int(np.argmin(cand))
                        suppressed.iloc[j, suppressed.columns.get_loc(c)] = True
                        log.add(
                            f"table:{name}",
                            "secondary",
                            "suppressed",
                            "second cell suppressed so the first cannot be recovered from a total",
                            column=c,
                            row=_row_label(out, j, keys),
                        )
        small_rows = primary.to_numpy().any(axis=1)
        for c in count_cols:
            mask = suppressed[c].to_numpy()
            if mask.any():
                out[c] = out[c].astype("Float64")
                out.loc[mask, c] = pd.NA
        _suppress_rows(
            out, name, small_rows, stat_cols, keys, log,
            "small_group", f"statistics of a group under {t} persons",
        )  # fmt: skip
        # statistics computed from a row's counts (participants × an effect) would give a
        # secondary cell back: they go wherever a count of their row does
        _suppress_rows(
            out, name, suppressed.to_numpy().any(axis=1) & ~small_rows, list(derived_columns),
            keys, log, "secondary", "statistics computed from a suppressed count",
        )  # fmt: skip

    if shares is not None and len(out):
        _suppress_small_shares(out, name, shares, keys, t, log)

    for c in count_cols + risk_cols:
        integral = c in df.columns and pd.api.types.is_integer_dtype(df[c].dtype)
        if integral and c in out.columns:
            v = out[c].astype("Float64")
            if ((v.dropna() % 1) == 0).all():
                out[c] = v.astype("Int64")

    # 4. rounding of counts
    if pol.rounding is not None and len(out):
        for c in count_cols + [c for c in risk_cols if c in out.columns]:
            v = out[c].astype("Float64")
            rounded = (v / pol.rounding + 0.5).apply(
                lambda x: pd.NA if pd.isna(x) else math.floor(x)
            ).astype("Float64") * pol.rounding
            if not rounded.equals(v):
                integral = c in df.columns and pd.api.types.is_integer_dtype(df[c].dtype)
                out[c] = rounded.astype("Int64") if integral else rounded
                log.add(
                    f"table:{name}",
                    "rounding",
                    "rounded",
                    f"counts rounded to multiples of {pol.rounding}",
                    column=c,
                )
    return out


def _declared_shares(
    out: pd.DataFrame,
    name: str,
    share_columns: Mapping[str, str | float] | None,
    share_rows: tuple[str, Any] | None,
    derived_columns: Sequence[str],
) -> dict[str, Any] | None:
    """The share declarations of :func:`check_table`, checked against the table."""
    if not share_columns:
        return None
    for c, n in share_columns.items():
        if c not in out.columns or not _is_numeric(out[c]):
            raise DisclosureError(f"table '{name}': share column '{c}' is not a numeric column")
        if isinstance(n, str) and (n not in out.columns or not _is_numeric(out[n])):
            raise DisclosureError(
                f"table '{name}': the group size of share column '{c}', '{n}', is not a "
                "numeric column of the table"
            )
    rows = np.ones(len(out), dtype=bool)
    if share_rows is not None:
        col, value = share_rows
        if col not in out.columns:
            raise DisclosureError(f"table '{name}': share_rows column '{col}' is not in it")
        rows = out[col].eq(value).fillna(False).to_numpy(dtype=bool)
    # group sizes are read before any count is suppressed
    sizes = {
        c: out[n].to_numpy(dtype=float, na_value=np.nan)
        if isinstance(n, str)
        else np.full(len(out), float(n))
        for c, n in share_columns.items()
    }
    return {"sizes": sizes, "rows": rows, "derived": list(derived_columns)}


def _suppress_small_shares(
    out: pd.DataFrame,
    name: str,
    shares: dict[str, Any],
    keys: Sequence[str],
    t: int,
    log: OutputCheckLog,
) -> None:
    """Suppress shares whose numerator or complement is a count between 0 and ``t``."""
    rows = shares["rows"]
    hit_rows = np.zeros(len(out), dtype=bool)
    for c, size in shares["sizes"].items():
        p = out[c].to_numpy(dtype=float, na_value=np.nan)
        k = p * size
        # a tolerance for the rounding of the stored proportion
        small = (
            rows
            & np.isfinite(k)
            & (((k > 1e-6) & (k < t - 1e-6)) | ((size - k > 1e-6) & (size - k < t - 1e-6)))
        )
        _suppress_rows(
            out, name, small, [c], keys, log,
            "small_share", f"share whose number of persons (or its complement) is under {t}",
        )  # fmt: skip
        hit_rows |= small
    _suppress_rows(
        out, name, hit_rows, shares["derived"], keys, log,
        "small_share", "statistics computed from a suppressed share",
    )  # fmt: skip


def _suppress_rows(
    out: pd.DataFrame,
    name: str,
    rows: np.ndarray,
    columns: Sequence[str],
    keys: Sequence[str],
    log: OutputCheckLog,
    rule: str,
    detail: str,
) -> None:
    """Set ``columns`` missing in ``rows`` (in place), one log entry per row."""
    columns = [c for c in columns if c in out.columns]
    if not rows.any() or not columns:
        return
    for i in np.flatnonzero(rows):
        log.add(
            f"table:{name}", rule, "suppressed", detail,
            column=",".join(columns), row=_row_label(out, i, keys),
        )  # fmt: skip
    for c in columns:
        out[c] = out[c].astype("Float64")
        out.loc[rows, c] = pd.NA


def check_count(
    value: float | None,
    name: str,
    *,
    policy: DisclosurePolicy | int | None = None,
    log: OutputCheckLog | None = None,
) -> float | None:
    """A single count of persons: ``None`` (suppressed, logged) under the threshold, rounded."""
    pol = _policy(policy)
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return value
    v = float(value)
    if 0 < v < pol.threshold:
        if log is not None:
            log.add(name, "small_count", "suppressed", f"count under {pol.threshold}")
        return None
    r = pol.round_count(v)
    if r != v and log is not None:
        log.add(name, "rounding", "rounded", f"count rounded to multiples of {pol.rounding}")
    return r


def check_differences(
    counts: Sequence[tuple[str, str, str, float | None]],
    *,
    policy: DisclosurePolicy | int | None = None,
    log: OutputCheckLog | None = None,
) -> set[tuple[str, str, str]]:
    """The counts to withhold so that no two published counts of persons differ by 1 to
    threshold − 1 (differencing: a pilot of 40 beside an estimate on 37 of them counts the 3
    without a comparable control).

    ``counts`` are ``(output, row, column, value)`` of one output (one evaluation's results);
    missing values are skipped. Whether two counts are nested cannot be read from the numbers,
    so every pair is treated as if it were: the largest count is kept, and each smaller one is
    kept only when it differs from every kept count by 0 or by at least the threshold.
    Returns the ``(output, row, column)`` of the withheld counts, logged as rule ``differencing``.
    """
    pol = _policy(policy)
    t = pol.threshold
    present = [
        (str(out), str(row), str(col), float(v))
        for out, row, col, v in counts
        if v is not None and np.isfinite(float(v))
    ]
    # largest first, ties in name order: the result does not depend on the order given
    present.sort(key=lambda c: (-c[3], c[0], c[1], c[2]))
    kept: list[float] = []
    withheld: set[tuple[str, str, str]] = set()
    for out, row, col, v in present:
        if any(0 < k - v < t for k in kept):
            withheld.add((out, row, col))
            if log is not None:
                log.add(
                    out,
                    "differencing",
                    "suppressed",
                    f"differs from another published count by fewer than {t} persons",
                    column=col,
                    row=row,
                )
        else:
            kept.append(v)
    return withheld


def check_estimate_counts(
    name: str,
    n_treated: float | None,
    n_control: float | None,
    *,
    policy: DisclosurePolicy | int | None = None,
    log: OutputCheckLog | None = None,
) -> bool:
    """True when an estimate rests on a group under the threshold and must be suppressed."""
    pol = _policy(policy)
    small = [
        f"{label}={int(v)}"
        for label, v in (("n_treated", n_treated), ("n_control", n_control))
        if v is not None and np.isfinite(v) and 0 < v < pol.threshold
    ]
    if small and log is not None:
        log.add(
            f"estimate:{name}",
            "small_group",
            "suppressed",
            f"estimate on a group under {pol.threshold} persons",
            column=",".join(s.split("=")[0] for s in small),
        )
    return bool(small)


def flow_rounding(
    records: Sequence[Mapping[str, Any]], *, policy: DisclosurePolicy | int | None = None
) -> int | None:
    """The multiple :func:`check_flow` rounds the data-flow record's row counts to: the
    policy's rounding, raised to the threshold when a step drops 1 to threshold−1 rows;
    ``None`` when the counts stay exact. The counts in the steps' reasons are not rounded.
    Works on a record as collected and on one as published, where such a step's ``dropped``
    is missing."""
    pol = _policy(policy)
    t = pol.threshold

    def small_drop(r: Mapping[str, Any]) -> bool:
        removed = int(r["rows_in"]) - int(r["rows_out"])
        if "dropped" in r and r["dropped"] is None:  # published: suppressed, or rows added
            return removed >= 0
        return 0 < removed < t

    small = any(small_drop(r) for r in records)
    if small:
        return max(int(pol.rounding or 1), t)
    return None if pol.rounding is None else int(pol.rounding)


def check_flow(
    records: Sequence[Mapping[str, Any]],
    *,
    policy: DisclosurePolicy | int | None = None,
    log: OutputCheckLog | None = None,
) -> list[dict[str, Any]]:
    """The data-flow record made safe: a step that drops 1–(threshold−1) rows shows no exact
    number (``dropped`` missing) and the row counts of every step (``rows_in``, ``rows_out``,
    ``dropped``) are rounded to multiples of the threshold (:func:`flow_rounding`), so the small
    number cannot be recovered from the difference; counts of persons under the threshold in
    the reasons' text are masked (:func:`check_text_counts`), the others stay exact."""
    pol = _policy(policy)
    t = pol.threshold
    out = [dict(r) for r in records]
    for r in out:
        r["dropped"] = int(r["rows_in"]) - int(r["rows_out"])
        for key in ("reason", "reason_nl"):
            if isinstance(r.get(key), str):
                r[key] = check_text_counts(r[key], "flow", policy=pol, log=log)
    small = [i for i, r in enumerate(out) if 0 < r["dropped"] < t]
    base = flow_rounding(records, policy=pol)
    for i in small:
        if log is not None:
            log.add(
                "flow",
                "small_count",
                "suppressed",
                f"fewer than {t} rows dropped; counts of the flow rounded to multiples of {base}",
                column="dropped",
                row=f"{out[i]['step']} ({out[i]['table']})",
            )
    if base:
        for r in out:
            r["rows_in"] = int(math.floor(r["rows_in"] / base + 0.5) * base)
            r["rows_out"] = int(math.floor(r["rows_out"] / base + 0.5) * base)
            r["dropped"] = r["rows_in"] - r["rows_out"]
        for i in small:
            out[i]["dropped"] = None
    return out
