"""Validate an extract against the data model, finding ALL problems in one pass.

``validate(tables, extract_date, repair=False)`` parses every column to its schema type and
checks every rule; it raises one :class:`DataValidationError` listing, per problem, the table,
column, count and up to five example rows. **Rows are 1-based record numbers within each file,
the header not counted** (record 1 is the first data row; in a CSV file with a header, file
line = row + 1; in Parquet/SPSS/Stata it is the case number).

Rules (``Problem.rule``):

- ``missing table`` / ``empty table`` / ``unreadable file``: persons and spells must have rows;
  programmes must exist (it may hold only a header);
- ``missing column``: a required column of the schema is absent (after the mapping);
- ``wrong type``: a value that is not a valid date, number, whole number or yes/no;
- ``ambiguous number notation``: a number whose ``.`` could be a thousands separator or a
  decimal mark, given the rest of its column (see Parsing below);
- ``missing value``: empty in a column that must be filled;
- ``identical duplicate rows``: repaired (dropped, recorded in the data flow) only with
  ``repair=True``; ``duplicate key``: rows share a key but differ elsewhere (never repaired);
- ``end before start``: an end date before its start date (also ``ww_max_end`` < ``ww_start``);
- ``overlapping spells``: a bijstand spell that starts on or before the end of an earlier spell
  of the same person (running spells end at the extract date);
- ``outside every spell``: a ``jobcoaching``, ``scholing`` or ``praktijkleren`` participation
  whose start date lies in no bijstand spell of that person. ``nazorg`` (support after work
  starts), ``stadsbeheer`` (the pilot may start off benefit) and ``ww_naar_bijstand`` (contact
  *before* bijstand) need not lie within a spell;
- ``unknown person``: a ``person_id`` absent from persons;
- ``impossible age``: a person under 15 or over 100 at the start of a spell;
- ``after extract date``: any date after the extract date (except ``ww_max_end``, a planned
  date), ``before 1900``: any date before 1900;
- ``out of range``: a number outside the schema's range;
- ``unknown code``: a category value outside the schema's codes (codes are matched
  case-insensitively and normalised, e.g. ``werk`` for ``WERK``);
- ``exit reason while running``: a spell without an end date that has an exit reason.

Parsing (the Dutch CSV dialect): dates in ISO ``yyyy-mm-dd`` (optionally with a time),
``dd-mm-yyyy``, ``dd/mm/yyyy``, ``dd.mm.yyyy`` and ``yyyymmdd`` are accepted, mixed within a
column. Numbers, per column: when any value has a decimal comma the column is Dutch notation
(``.`` separates thousands, ``,`` is the decimal mark); without commas, when every value with a
``.`` is a whole number in groups of three (``1.200``, ``€ 1.200``: whole euros) ``.`` separates
thousands (noted in the data flow); otherwise ``.`` is the decimal mark. A column that mixes
notations so that a value could be read either way (``1.200`` next to ``1075.38``; ``85.50``
next to ``1.234,56``) is refused (``ambiguous number notation``), naming the rows. A euro sign
and spaces are ignored. Yes/no columns accept 1/0, ja/nee, j/n, true/false, waar/onwaar,
yes/no, y/n.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from werkeffect.data.flow import DataFlow
from werkeffect.data.schema import TABLES, Column, Table
from werkeffect.exceptions import DataValidationError
from werkeffect.formatting import nl_date

__all__ = ["DataValidationError", "Problem", "empty_table", "validate", "REQUIRE_SPELL"]

#: Programmes whose participations must start within a bijstand spell of the person.
REQUIRE_SPELL = ("jobcoaching", "scholing", "praktijkleren")
#: Date columns that may lie after the extract date (planned dates).
FUTURE_ALLOWED = {("ww", "ww_max_end")}
MAX_EXAMPLES = 5
_EARLIEST = pd.Timestamp("1900-01-01")

_TRUE = {"1", "1.0", "true", "t", "ja", "j", "yes", "y", "waar", "w"}
_FALSE = {"0", "0.0", "false", "f", "nee", "n", "no", "onwaar", "o"}
_DATE_FORMATS = (
    "%d-%m-%Y",
    "%d/%m/%Y",
    "%d.%m.%Y",
    "%Y%m%d",
    "%Y/%m/%d",
    "%d-%m-%Y %H:%M:%S",
    "%d-%m-%Y %H:%M",
)


@dataclass(frozen=True)
class Problem:
    """One problem: ``count`` rows of ``table.column`` break ``rule``."""

    table: str
    column: str
    rule: str
    count: int = 0
    rows: tuple[int, ...] = ()  # 1-based record numbers (examples)
    detail: str = ""

    def format(self) -> str:
        where = f"{self.table}.{self.column}" if self.column else self.table
        text = f"{where}: {self.rule}"
        if self.count:
            text += f" — {self.count:,} row{'s' if self.count != 1 else ''}"
        if self.detail:
            text += f"; {self.detail}"
        if self.rows:
            more = ", ..." if self.count > len(self.rows) else ""
            text += f" (rows {', '.join(map(str, self.rows))}{more})"
        return text


def format_problems(problems: list[Problem]) -> str:
    n = len(problems)
    head = (
        f"The extract has {n} problem{'s' if n != 1 else ''} "
        "(rows are 1-based record numbers within each file, header not counted; "
        "in a CSV file, line = row + 1):"
    )
    return "\n".join([head] + [f"  - {p.format()}" for p in problems])


@dataclass
class _Collector:
    problems: list[Problem] = field(default_factory=list)

    def add(
        self, table: str, column: str, rule: str, mask=None, detail: str = "", index=None
    ) -> None:
        """Record a problem for the rows where ``mask`` is true (index = original row)."""
        if mask is None:
            self.problems.append(Problem(table, column, rule, 0, (), detail))
            return
        m = np.asarray(mask, dtype=bool)
        if not m.any():
            return
        idx = np.asarray(index)[m]
        examples = tuple(int(i) + 1 for i in np.sort(idx)[:MAX_EXAMPLES])
        self.problems.append(Problem(table, column, rule, int(m.sum()), examples, detail))


def _values(s: pd.Series, n: int = 5) -> str:
    vals = pd.unique(s.dropna().astype(str))[:n]
    return ", ".join(repr(v) for v in vals)


# --------------------------------------------------------------------------- parsing


def _as_string(s: pd.Series) -> pd.Series:
    """Stripped strings (pandas ``string`` dtype); blank -> NA. Vectorised."""
    from werkeffect.data.readers import strip_text

    return strip_text(s).astype("string")


def parse_dates(s: pd.Series) -> pd.Series:
    """Parse a date column (ISO, dd-mm-yyyy, ...); unparseable values become NaT."""
    if pd.api.types.is_datetime64_any_dtype(s):
        out = s
        if getattr(out.dt, "tz", None) is not None:
            out = out.dt.tz_localize(None)
        return out.astype("datetime64[ns]").dt.normalize()
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        st = _code_like(s)
    else:
        st = _as_string(s)
    out = pd.to_datetime(st, format="ISO8601", errors="coerce")
    for fmt in _DATE_FORMATS:
        todo = out.isna() & st.notna()
        if not todo.any():
            break
        out[todo] = pd.to_datetime(st[todo], format=fmt, errors="coerce")
    return out.astype("datetime64[ns]").dt.normalize()


def _code_like(s: pd.Series) -> pd.Series:
    from werkeffect.data.readers import _code_strings

    return _code_strings(s).astype("string")


#: '.' may group thousands: 1.200, 12.345.678 (no leading zero, groups of three)
_GROUPED = r"[+-]?[1-9]\d{0,2}(?:\.\d{3})+"
#: valid Dutch notation: '.' groups thousands, ',' is the decimal mark
_DUTCH = r"[+-]?(?:[1-9]\d{0,2}(?:\.\d{3})+|\d*)(?:,\d*)?"


def _number_text(s: pd.Series) -> pd.Series:
    """Numeric text without euro sign and spaces (blank -> NA)."""
    st = _as_string(s).str.replace("\u20ac", "", regex=False).str.replace(" ", "", regex=False)
    return st.str.replace("\u00a0", "", regex=False).replace("", pd.NA)


def number_notation(text: pd.Series) -> tuple[str, pd.Series, str]:
    """How a numeric text column writes its numbers, and the values that contradict it.

    ``text`` is the column as from :func:`_number_text`. Returns ``(notation, conflict,
    detail)``: ``notation`` is ``"comma"`` (any value has a comma: ``.`` groups thousands,
    ``,`` is the decimal mark), ``"thousands"`` (no comma, and every value with a ``.`` is a
    grouped whole number such as ``1.200`` or ``€ 1.200``: whole euros, ``.`` groups
    thousands) or ``"point"`` (``.`` is the decimal mark). ``conflict`` marks the values
    that could be read either way given the rest of the column (e.g. ``1.200`` next to
    ``1075.38``; ``85.50`` next to ``1.234,56``); ``detail`` explains them.
    """
    t = text.dropna()
    none = pd.Series(False, index=text.index)
    if t.empty:
        return "point", none, ""
    dotted = t.str.contains(".", regex=False).astype(bool)
    if t.str.contains(",", regex=False).any():
        bad = dotted & ~t.str.fullmatch(_DUTCH).astype(bool)
        detail = (
            "the column has decimal commas (Dutch notation, '.' groups thousands) but "
            f"{_values(t[bad], 3)} use '.' otherwise (a decimal point?); "
            "write all amounts in one notation"
        )
        return "comma", bad.reindex(text.index, fill_value=False), detail
    grouped = dotted & t.str.fullmatch(_GROUPED).astype(bool)
    if not grouped.any():
        return "point", none, ""
    decimal = dotted & ~grouped  # '.' can only be a decimal mark here (1075.38, 0.5)
    if not decimal.any():
        return "thousands", none, ""
    decimals = t[decimal].str.rsplit(".", n=1).str[-1].str.len()
    if (decimals == 3).all():  # three decimals throughout: 1.200 is 1.2
        return "point", none, ""
    detail = (
        f"{_values(t[grouped], 3)} read with '.' as thousands separator would be whole euros "
        f"(1.200 = 1200), but {_values(t[decimal], 3)} in the same column use '.' as decimal "
        "mark (1.200 = 1.2); write all amounts in one notation"
    )
    return "point", grouped.reindex(text.index, fill_value=False), detail


def parse_numbers(s: pd.Series) -> pd.Series:
    """Parse numbers; the notation (decimal comma, thousands separator or decimal point) is
    decided per column by :func:`number_notation` (see module doc). Values that contradict
    the column's notation become NaN (:func:`validate` reports them)."""
    if pd.api.types.is_bool_dtype(s):
        return s.astype(float)
    if pd.api.types.is_numeric_dtype(s):
        return s.astype(float)
    st = _number_text(s)
    notation, conflict, _ = number_notation(st)
    if notation == "comma":
        st = st.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    elif notation == "thousands":
        st = st.str.replace(".", "", regex=False)
    out = pd.to_numeric(st, errors="coerce").astype(float)
    return out.mask(conflict.to_numpy(bool))


def parse_bools(s: pd.Series) -> pd.Series:
    """Parse yes/no values to a nullable boolean; unparseable values become NA."""
    if pd.api.types.is_bool_dtype(s):
        return s.astype("boolean")
    if pd.api.types.is_numeric_dtype(s):
        v = s.astype(float)
        out = pd.Series(pd.NA, index=s.index, dtype="boolean")
        out[v == 1] = True
        out[v == 0] = False
        return out
    st = _as_string(s).str.lower()
    out = pd.Series(pd.NA, index=s.index, dtype="boolean")
    out[st.isin(_TRUE).fillna(False).to_numpy(bool)] = True
    out[st.isin(_FALSE).fillna(False).to_numpy(bool)] = False
    return out


def parse_ids(s: pd.Series) -> pd.Series:
    """Ids as strings (numeric ids lose a trailing ``.0``)."""
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        return _code_like(s).astype(object).where(s.notna())
    return _as_string(s).astype(object).where(s.notna())


_EMPTY_DTYPES = {
    "id": object,
    "date": "datetime64[ns]",
    "int": "Int64",
    "float": float,
    "bool": "boolean",
    "category": object,
    "str": object,
}


def empty_table(name: str) -> pd.DataFrame:
    """An empty frame with the schema's columns and dtypes."""
    t = TABLES[name]
    return pd.DataFrame({c.name: pd.Series(dtype=_EMPTY_DTYPES[c.dtype]) for c in t.columns})


def _by_unique(raw: pd.Series, fn) -> pd.Series:
    """Apply a parser to the distinct values only, then spread back (dates, codes and flags
    repeat a lot in large extracts)."""
    textual = raw.dtype == object or pd.api.types.is_string_dtype(raw)
    if len(raw) < 2000 or not textual:
        return fn(raw)
    codes, uniq = pd.factorize(raw, use_na_sentinel=True)
    if len(uniq) == 0 or len(uniq) > len(raw) // 2:
        return fn(raw)
    parsed = fn(pd.Series(np.asarray(uniq, dtype=object)))
    ext = isinstance(parsed.dtype, pd.api.extensions.ExtensionDtype)
    taken = pd.api.extensions.take(
        parsed.array if ext else parsed.to_numpy(), codes, allow_fill=True
    )
    return pd.Series(taken, index=raw.index, name=raw.name)


def _notation_of(raw: pd.Series) -> tuple[str, np.ndarray, str]:
    """:func:`number_notation` of a raw column, decided on its distinct values; the
    conflict mask is per row."""
    if pd.api.types.is_numeric_dtype(raw) or pd.api.types.is_bool_dtype(raw):
        return "point", np.zeros(len(raw), bool), ""
    uniq = pd.Series(pd.unique(raw.dropna()), dtype=object)
    notation, conflict, detail = number_notation(_number_text(uniq))
    bad = raw.isin(uniq[conflict.to_numpy(bool)]).to_numpy(bool)
    return notation, bad, detail


def _parse_column(
    df: pd.DataFrame,
    raw: pd.Series,
    col: Column,
    table: str,
    out: _Collector,
    flow: DataFlow | None = None,
) -> pd.Series:
    idx = df.index
    if col.dtype == "date":
        parsed = _by_unique(raw, parse_dates)
        bad = parsed.isna() & raw.notna()
        out.add(table, col.name, "wrong type", bad, f"not a date: {_values(raw[bad])}", idx)
        return parsed
    parsed = None
    if col.dtype in ("int", "float"):
        parsed = _by_unique(raw, parse_numbers)
        notation, conflict, detail = _notation_of(raw)
        out.add(table, col.name, "ambiguous number notation", conflict, detail, idx)
        if notation == "thousands" and flow is not None:
            n = len(raw)
            flow.add(
                "read",  # a reading of the file (reports know the step's Dutch name)
                table,
                n,
                n,
                f"{col.name}: '.' read as thousands separator (whole euros, 1.200 = 1200)",
                f"{col.name}: '.' gelezen als scheiding van duizendtallen "
                "(hele euro's, 1.200 = 1200)",
            )
        return _parse_typed(df, raw, col, table, out, parsed, skip=conflict)
    elif col.dtype == "bool":
        parsed = _by_unique(raw, parse_bools)
    elif col.dtype == "category":
        parsed = _by_unique(raw, lambda r: _as_string(r).astype(object).where(r.notna()))
    return _parse_typed(df, raw, col, table, out, parsed)


def _parse_typed(
    df: pd.DataFrame, raw: pd.Series, col: Column, table: str, out: _Collector, pre, skip=None
) -> pd.Series:
    """``skip``: rows already reported (ambiguous number notation), not reported again."""
    idx = df.index
    if col.dtype in ("int", "float"):
        parsed = parse_numbers(raw) if pre is None else pre
        bad = parsed.isna() & raw.notna()
        if skip is not None:
            bad &= ~np.asarray(skip, bool)
        out.add(table, col.name, "wrong type", bad, f"not a number: {_values(raw[bad])}", idx)
        if col.dtype == "int":
            frac = parsed.notna() & (parsed != np.round(parsed))
            out.add(
                table,
                col.name,
                "wrong type",
                frac,
                f"not a whole number: {_values(raw[frac])}",
                idx,
            )
            parsed = parsed.where(~frac).round().astype("Int64")
        return parsed
    if col.dtype == "bool":
        parsed = parse_bools(raw) if pre is None else pre
        bad = parsed.isna() & raw.notna()
        out.add(
            table,
            col.name,
            "wrong type",
            bad,
            f"not yes/no (1/0, ja/nee): {_values(raw[bad])}",
            idx,
        )
        return parsed
    if col.dtype == "id":
        return parse_ids(raw)
    parsed = _as_string(raw).astype(object).where(raw.notna()) if pre is None else pre
    if col.dtype == "category" and col.codes:
        norm = {k.casefold(): k for k in col.codes}
        uniq = pd.unique(parsed.dropna())
        fold = {u: norm.get(str(u).casefold(), u) for u in uniq}
        folded = parsed.map(fold) if fold else parsed
        unknown = folded.notna() & ~folded.isin(list(col.codes))
        out.add(
            table,
            col.name,
            "unknown code",
            unknown,
            f"values {_values(folded[unknown])}; allowed: {', '.join(col.codes)}",
            idx,
        )
        parsed = folded
    return parsed


# --------------------------------------------------------------------------- checks


def _check_table(
    name: str,
    raw: pd.DataFrame,
    extract_date: pd.Timestamp,
    repair: bool,
    out: _Collector,
    flow: DataFlow,
) -> pd.DataFrame | None:
    t: Table = TABLES[name]
    df = raw.copy()
    missing = [c for c in t.required_names if c not in df.columns]
    for c in missing:
        out.add(
            name,
            c,
            "missing column",
            None,
            f"required column absent (columns present: {', '.join(map(str, raw.columns))}); "
            "rename columns with a mapping file",
        )
    if len(df) == 0 and name in ("persons", "spells"):
        out.add(name, "", "empty table", None, "the file has a header but no rows")
    parsed: dict[str, pd.Series] = {}
    for col in t.columns:
        if col.name not in df.columns:
            continue
        raw_col = df[col.name]
        parsed[col.name] = p = _parse_column(df, raw_col, col, name, out, flow)
        if not col.nullable:
            out.add(name, col.name, "missing value", raw_col.isna(), "must be filled", df.index)
        if col.dtype in ("int", "float") and (col.min is not None or col.max is not None):
            lo = -np.inf if col.min is None else col.min
            hi = np.inf if col.max is None else col.max
            v = p.astype(float)
            bad = v.notna() & ((v < lo) | (v > hi))
            out.add(
                name,
                col.name,
                "out of range",
                bad,
                f"allowed {lo:g} to {hi:g}, found {_values(v[bad])}",
                df.index,
            )
        if col.dtype == "date":
            out.add(name, col.name, "before 1900", p < _EARLIEST, "", df.index)
            if (name, col.name) not in FUTURE_ALLOWED:
                late = p > extract_date
                out.add(
                    name,
                    col.name,
                    "after extract date",
                    late,
                    f"extract date {extract_date.date()}, found {_values(p[late].dt.date)}",
                    df.index,
                )
    for c, s in parsed.items():
        df[c] = s
    for col in t.columns:  # absent optional columns, typed
        if col.name not in df.columns and not col.required:
            df[col.name] = pd.Series(pd.NA, index=df.index).astype(_EMPTY_DTYPES[col.dtype])
    order = t.names + [c for c in df.columns if c not in t.names]
    df = df[[c for c in order if c in df.columns]]

    # duplicates
    if len(df):
        ident = raw.duplicated(keep="first").to_numpy()
        if ident.any():
            if repair:
                n = len(df)
                df = df[~ident]
                raw = raw[~ident]
                flow.add(
                    "repair",
                    name,
                    n,
                    len(df),
                    "identical duplicate rows dropped (repair=True)",
                    "identieke dubbele rijen verwijderd (herstel aangezet: repair=True)",
                )
            else:
                out.add(
                    name,
                    "",
                    "identical duplicate rows",
                    ident,
                    "repeat an earlier row exactly; repair with load(..., repair=True) or "
                    "`werkeffect check --repair`",
                    df.index,
                )
                df = df[~ident]
                raw = raw[~ident]
        if all(k in df.columns for k in t.key):
            dup = df.duplicated(list(t.key), keep=False) & df[list(t.key)].notna().all(axis=1)
            out.add(
                name,
                ", ".join(t.key),
                "duplicate key",
                dup,
                "rows share a key but differ in other columns",
                df.index,
            )
    for start, end in t.date_pairs + ((("ww_start", "ww_max_end"),) if name == "ww" else ()):
        if start in df.columns and end in df.columns:
            bad = df[end] < df[start]
            out.add(name, end, "end before start", bad, f"{end} is before {start}", df.index)
    if name == "spells" and {"end_date", "exit_reason"} <= set(df.columns):
        bad = df["end_date"].isna() & df["exit_reason"].notna() & raw["end_date"].isna()
        out.add(
            name,
            "exit_reason",
            "exit reason while running",
            bad,
            "a spell without end_date has an exit_reason",
            df.index,
        )
    return df


def _check_overlaps(spells: pd.DataFrame, extract_date: pd.Timestamp, out: _Collector) -> None:
    sp = spells[["person_id", "start_date", "end_date"]].dropna(subset=["person_id", "start_date"])
    if sp.empty:
        return
    end = sp["end_date"].fillna(max(extract_date, sp["start_date"].max()))
    sp = sp.assign(_end=end).sort_values(["person_id", "start_date"], kind="mergesort")
    prev_end = sp.groupby("person_id", sort=False)["_end"].cummax()
    prev_end = prev_end.groupby(sp["person_id"], sort=False).shift()
    bad = (sp["start_date"] <= prev_end).to_numpy()
    out.add(
        "spells",
        "start_date",
        "overlapping spells",
        bad,
        "starts on or before the end of an earlier spell of the same person",
        sp.index,
    )


def _spell_at(
    left: pd.DataFrame, date_col: str, spells: pd.DataFrame, extract_date: pd.Timestamp
) -> pd.DataFrame:
    """For each row of ``left``: the spell of its person containing ``left[date_col]``.

    Returns ``left``'s index with ``spell_id``, ``spell_start``, ``spell_end`` (NaN when no
    spell contains the date). Vectorised with ``merge_asof`` (spells must not overlap).
    """
    sp = spells[["person_id", "spell_id", "start_date", "end_date"]].dropna(
        subset=["person_id", "start_date"]
    )
    sp = sp.rename(columns={"start_date": "spell_start", "end_date": "spell_end"})
    sp["spell_end"] = sp["spell_end"].fillna(extract_date)
    sp = sp.sort_values("spell_start", kind="mergesort")
    lf = left[["person_id", date_col]].dropna()
    lf = lf.assign(_row=lf.index).sort_values(date_col, kind="mergesort")
    m = pd.merge_asof(
        lf, sp, left_on=date_col, right_on="spell_start", by="person_id", direction="backward"
    )
    inside = m["spell_end"].notna() & (m[date_col] <= m["spell_end"])
    m.loc[~inside, ["spell_id", "spell_start", "spell_end"]] = np.nan
    return m.set_index("_row").reindex(left.index)[["spell_id", "spell_start", "spell_end"]]


def _check_cross(
    tables: dict[str, pd.DataFrame], extract_date, out: _Collector, broken: set[str]
) -> None:
    """Checks across tables; skipped where a table is missing, unreadable or empty, so one
    problem is not reported again as many consequences."""
    persons = None if "persons" in broken else tables.get("persons")
    spells = None if "spells" in broken else tables.get("spells")
    known = None
    if persons is not None and "person_id" in persons.columns:
        known = pd.Index(persons["person_id"].dropna().unique())
    if known is not None:
        for name in ("spells", "programmes", "ww", "jobs", "ladder"):
            df = tables.get(name)
            if df is None or "person_id" not in df.columns or df.empty:
                continue
            bad = df["person_id"].notna() & ~df["person_id"].isin(known)
            out.add(name, "person_id", "unknown person", bad, "person_id not in persons", df.index)
    sp_ok = spells is not None and {"person_id", "start_date", "end_date", "spell_id"} <= set(
        spells.columns
    )
    if sp_ok:
        _check_overlaps(spells, extract_date, out)
    pr = tables.get("programmes")
    if sp_ok and pr is not None and {"person_id", "programme", "start_date"} <= set(pr.columns):
        # persons whose spells have unusable dates are skipped (already reported)
        unusable = spells["start_date"].isna() | (spells["end_date"] < spells["start_date"])
        skip = spells.loc[unusable, "person_id"].unique()
        need = pr[
            pr["programme"].isin(REQUIRE_SPELL)
            & pr["start_date"].notna()
            & ~pr["person_id"].isin(skip)
        ]
        if len(need):
            at = _spell_at(need, "start_date", spells, extract_date)
            bad = at["spell_id"].isna().to_numpy()
            out.add(
                "programmes",
                "start_date",
                "outside every spell",
                bad,
                f"a {'/'.join(REQUIRE_SPELL)} participation must start within a bijstand spell "
                "of the person",
                need.index,
            )
    if (
        sp_ok
        and persons is not None
        and {"person_id", "birth_date"} <= set(persons.columns)
        and len(spells)
    ):
        birth = persons.drop_duplicates("person_id").set_index("person_id")["birth_date"]
        b = spells["person_id"].map(birth)
        s = spells["start_date"]
        ok = b.notna() & s.notna()
        age = (
            s.dt.year - b.dt.year - ((s.dt.month * 100 + s.dt.day) < (b.dt.month * 100 + b.dt.day))
        )
        young = ok & (age < 15)
        old = ok & (age > 100)
        out.add(
            "spells",
            "start_date",
            "impossible age",
            young,
            "person under 15 at the start of the spell (birth_date in persons)",
            spells.index,
        )
        out.add(
            "spells",
            "start_date",
            "impossible age",
            old,
            "person over 100 at the start of the spell (birth_date in persons)",
            spells.index,
        )


def latest_date(tables: dict[str, pd.DataFrame]) -> pd.Timestamp | None:
    """The latest date in the extract's date columns (planned dates excluded)."""
    latest = None
    for name, df in tables.items():
        t = TABLES.get(name)
        if t is None or df is None:
            continue
        for col in t.columns:
            if (
                col.dtype != "date"
                or col.name not in df.columns
                or (name, col.name) in FUTURE_ALLOWED
            ):
                continue
            d = parse_dates(df[col.name]).max()
            if pd.notna(d) and (latest is None or d > latest):
                latest = d
    return latest


def validate(
    tables: dict[str, pd.DataFrame],
    extract_date=None,
    repair: bool = False,
    *,
    problems: list[Problem] | None = None,
    flow: DataFlow | None = None,
) -> tuple[dict[str, pd.DataFrame], DataFlow]:
    """Parse and check all tables; raise one :class:`DataValidationError` listing every problem.

    Parameters
    ----------
    tables
        Raw tables by name (as read; the index is the 0-based record number of each file).
    extract_date
        Date the extract was drawn. ``None``: the end of the month of the latest date in the
        data (not that date itself, one person's event), recorded in the flow.
    repair
        Drop identical duplicate rows (recorded in the flow) instead of reporting them.
    problems
        Problems found earlier (while reading), reported together with these.

    Returns
    -------
    tables, flow
        Typed tables for all six table names (absent optional tables are empty with the
        schema's columns), index reset; the data-flow record.
    """
    flow = flow if flow is not None else DataFlow()
    out = _Collector(list(problems or []))
    if extract_date is None:
        # the end of the latest date's month: the latest date itself is one person's event,
        # and the extract date is published
        extract_date = latest_date(tables)
        if extract_date is None:
            extract_date = pd.Timestamp.today().normalize()
        extract_date = extract_date + pd.offsets.MonthEnd(0)
        flow.add(
            "extract date",
            "-",
            0,
            0,
            "extract date not given: taken as the end of the month of the latest date in the "
            f"data, {extract_date.date()}",
            "peildatum niet opgegeven: het einde van de maand van de laatste datum in de "
            f"gegevens is genomen, {nl_date(extract_date)}",
        )
    extract_date = pd.Timestamp(extract_date).normalize()
    unread = {p.table for p in out.problems}
    broken = set(unread)
    typed: dict[str, pd.DataFrame] = {}
    for name, t in TABLES.items():
        raw = tables.get(name)
        if raw is None or len(raw) == 0:
            broken.add(name)
        if raw is not None and any(c not in raw.columns for c in t.required_names):
            broken.add(name)
        if raw is None:
            if t.required and name not in unread:
                out.add(name, "", "missing table", None, f"no {name}.csv/.parquet/.sav/.dta file")
            typed[name] = empty_table(name)
            continue
        raw = raw.reset_index(drop=True) if not isinstance(raw.index, pd.RangeIndex) else raw
        typed[name] = _check_table(name, raw, extract_date, repair, out, flow)
    _check_cross(typed, extract_date, out, broken)
    if out.problems:
        raise DataValidationError(format_problems(out.problems), out.problems)
    result = {k: v.reset_index(drop=True) for k, v in typed.items()}
    for name in ("persons", "spells", "programmes", "ww", "jobs", "ladder"):
        if name in tables and tables[name] is not None:
            n = len(result[name])
            flow.add("validate", name, n, n, "all checks passed", "alle controles doorstaan")
    return result, flow
