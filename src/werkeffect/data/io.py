"""Load an extract folder into a validated :class:`Dataset`; ``werkeffect check``.

An extract is a folder with one file per table, named ``<table>.<ext>`` (``persons``,
``spells``, ``programmes``, optionally ``ww``, ``jobs``, ``ladder``; ext ``csv``, ``parquet``,
``sav`` or ``dta``) and optionally ``extract.json`` ``{"extract_date": "YYYY-MM-DD"}``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd

from werkeffect.data.dataset import Dataset
from werkeffect.data.flow import DataFlow
from werkeffect.data.privacy import check_no_bsn
from werkeffect.data.readers import (
    ReadInfo,
    TableReadError,
    find_table_files,
    read_mapping,
    read_table,
)
from werkeffect.data.schema import TABLES
from werkeffect.data.validate import Problem, validate
from werkeffect.exceptions import DataValidationError

__all__ = ["check", "load", "read_extract_date"]


def read_extract_date(folder: str | Path) -> pd.Timestamp | None:
    """The ``extract_date`` in ``folder/extract.json``, or None."""
    meta = Path(folder) / "extract.json"
    if not meta.is_file():
        return None
    try:
        data = json.loads(meta.read_text(encoding="utf-8-sig"))
        value = data.get("extract_date")
        return None if value is None else pd.Timestamp(value).normalize()
    except Exception as exc:
        raise DataValidationError(f"{meta}: cannot read the extract date: {exc}") from None


def _load(path, mapping, extract_date, repair) -> tuple[Dataset, dict[str, ReadInfo]]:
    folder = Path(path)
    if not folder.exists():
        raise DataValidationError(f"No extract at {folder}")
    if not folder.is_dir():
        raise DataValidationError(
            f"{folder} is a file; load expects a folder with persons, spells and programmes "
            "files (csv, parquet, sav or dta)"
        )
    rename = read_mapping(mapping)
    files, clashes = find_table_files(folder)
    if not files and not clashes:
        raise DataValidationError(
            f"No table files in {folder}: expected persons, spells and programmes as "
            ".csv, .parquet, .sav or .dta"
        )
    problems = [Problem(c.split(":")[0], "", "ambiguous table", 0, (), c) for c in clashes]
    raw: dict[str, pd.DataFrame] = {}
    infos: dict[str, ReadInfo] = {}
    flow = DataFlow()
    for table, file in files.items():
        try:
            df, info = read_table(file, table, rename.get(table))
        except TableReadError as exc:
            problems.append(Problem(table, "", "unreadable file", 0, (), exc.reason))
            continue
        raw[table] = df
        infos[table] = info
        flow.add(
            "read",
            table,
            len(df),
            len(df),
            f"read {info.describe()}",
            f"ingelezen: {info.describe_nl()}",
        )
    check_no_bsn(raw)  # refuse before anything else looks at the values
    if extract_date is None:
        extract_date = read_extract_date(folder)
    tables, flow = validate(raw, extract_date, repair=repair, problems=problems, flow=flow)
    if extract_date is None:
        extract_date = _noted_extract_date(flow)
    ds = Dataset(
        persons=tables["persons"],
        spells=tables["spells"],
        programmes=tables["programmes"],
        ww=tables["ww"],
        jobs=tables["jobs"],
        ladder=tables["ladder"],
        extract_date=pd.Timestamp(extract_date).normalize(),
        flow=flow,
        source=str(folder),
    )
    return ds, infos


def _noted_extract_date(flow: DataFlow) -> pd.Timestamp:
    for s in flow:
        if s.step == "extract date":
            return pd.Timestamp(s.reason.rsplit(", ", 1)[-1])
    raise AssertionError("validate records the extract date it chose")  # pragma: no cover


def load(
    path: str | Path,
    mapping: str | Path | dict | None = None,
    extract_date=None,
    repair: bool = False,
) -> Dataset:
    """Read, check and type an extract folder; return a validated :class:`Dataset`.

    Parameters
    ----------
    path
        Folder with ``persons``, ``spells``, ``programmes`` (and optionally ``ww``, ``jobs``,
        ``ladder``) as CSV (Dutch dialect understood), Parquet, SPSS ``.sav`` or Stata ``.dta``.
    mapping
        YAML/JSON file (or dict) ``{table: {their_column: our_column}}`` for extracts with other
        column names.
    extract_date
        Date the extract was drawn; default ``extract.json`` in the folder, else the latest date
        in the data (noted in the flow).
    repair
        Drop identical duplicate rows (recorded in ``dataset.flow``) instead of refusing.

    Raises
    ------
    DataValidationError
        Listing every problem (table, column, count, example rows); or refusing an extract
        that holds BSNs.
    """
    return _load(path, mapping, extract_date, repair)[0]


def _date_range(df: pd.DataFrame, table: str) -> list[str]:
    out = []
    t = TABLES[table]
    for c in t.columns:
        if c.dtype == "date" and c.name in df.columns and df[c.name].notna().any():
            s = df[c.name]
            empty = int(s.isna().sum())
            extra = f", {empty:,} empty" if empty else ""
            out.append(f"{c.name} {s.min().date()} .. {s.max().date()}{extra}")
    return out


def report(ds: Dataset, infos: dict[str, ReadInfo] | None = None) -> str:
    """A plain-text report of a loaded extract (tables, rows, date ranges, flow)."""
    lines = [
        f"Extract: {ds.source or '(in memory)'}",
        f"Extract date: {pd.Timestamp(ds.extract_date).date()}",
        f"Fingerprint: {ds.fingerprint()[:16]}",
        "",
        "Tables:",
    ]
    for name, df in ds.tables().items():
        if infos is not None and name not in infos and df.empty:
            lines.append(f"  {name:<11} (absent)")
            continue
        lines.append(f"  {name:<11} {len(df):>10,} rows  {', '.join(_date_range(df, name))}")
    if ds.has("spells"):
        running = int(ds.spells["end_date"].isna().sum())
        lines.append(
            f"  spells running at the extract date (right-censored): {running:,}; "
            f"persons with a spell: {ds.spells['person_id'].nunique():,}"
        )
    warnings = _missing_reasons(ds, lines) if ds.has("spells") else []
    if ds.has("programmes"):
        counts = ds.programmes["programme"].value_counts()
        lines.append("  programmes: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    lines += ["", "Data flow:"]
    for s in ds.flow:
        change = f"{s.rows_in:,} -> {s.rows_out:,}" if s.table != "-" else ""
        lines.append(f"  {s.step:<12} {s.table:<11} {change:<22} {s.reason}")
    lines += [""] + [f"Warning: {w}" for w in warnings]
    lines += ["OK: all checks passed" + (" (see the warning above)." if warnings else ".")]
    return "\n".join(lines)


#: a share of ended spells without an exit reason above which `werkeffect check` warns
MISSING_REASON_WARN_SHARE = 0.05


def _missing_reasons(ds: Dataset, lines: list[str]) -> list[str]:
    """Add the count of ended spells without an exit reason to ``lines``; return a warning
    when their share is large."""
    sp = ds.spells
    ended = sp["end_date"].notna() & (sp["end_date"] <= pd.Timestamp(ds.extract_date))
    n_ended = int(ended.sum())
    n = int((ended & sp["exit_reason"].isna()).sum())
    if not n_ended:
        return []
    share = n / n_ended
    lines.append(
        f"  spells ended without an exit reason: {n:,} of {n_ended:,} ({share:.1%}); the "
        "evaluations count them as exits for another reason (cause 3, 'other')"
    )
    if share <= MISSING_REASON_WARN_SHARE:
        return []
    return [
        f"{share:.1%} of the ended spells ({n:,}) have no exit_reason (more than "
        f"{MISSING_REASON_WARN_SHARE:.0%}). They count as exits for another reason, never as "
        "exits to work: exits to work are undercounted, and where reasons are missing more "
        "often for participants than for others (or the reverse) the effect on exit to work "
        "is biased. Ask the supplier of the extract to fill in exit_reason."
    ]


def check(path: str | Path, mapping: str | Path | None = None, repair: bool = False) -> int:
    """``werkeffect check PATH``: load, validate and print the report; 1 on bad data."""
    try:
        ds, infos = _load(path, mapping, None, repair)
    except DataValidationError as exc:
        print(f"werkeffect check: {path} did not pass.\n{exc}", file=sys.stderr)
        return 1
    print(report(ds, infos))
    return 0
