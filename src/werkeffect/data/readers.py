"""Read one table file of an extract: CSV, Parquet, SPSS ``.sav`` or Stata ``.dta``.

Readers return the table *as read* (values still as the file holds them; CSV values are
strings) with a 0-based ``RangeIndex`` in file order, so validation can name rows. Types are
parsed by :mod:`werkeffect.data.validate`, where unparseable values are reported.

CSV dialect (Dutch systems write these):

- the delimiter is detected from the header line: ``;`` (Dutch Excel), ``,``, tab or ``|``;
- the encoding is detected from the bytes: UTF-8 with a byte-order mark, UTF-8, otherwise
  Windows-1252 (the superset of latin-1 Dutch Windows systems write), and latin-1 as the last
  resort (it decodes any byte);
- decimal comma and dd-mm-yyyy dates are handled when types are parsed (see ``validate``);
- values and column names are stripped of surrounding blanks; an empty field is missing.

SPSS and Stata value labels (rule): labels are applied to the schema's *category* columns only
(``sex``, ``education``, ``household``, ``exit_reason``, ``programme``). For each labelled
value, the label is compared case-insensitively with the schema's codes and then with the
codes' meanings (``"vrouw"`` -> ``"V"``); a match gives that code. When the label matches
nothing but the stored value is itself a schema code, the value is kept. Otherwise the label
text is used, so validation reports it as an unknown code, naming it. Other columns keep
their stored values (booleans coded 0/1 with labels ``nee``/``ja`` stay 0/1).

Column renaming: a mapping file (YAML or JSON) ``{table: {their_name: our_name}}`` renames
the extract's columns to the schema's names before anything else happens.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from werkeffect.data.schema import TABLES
from werkeffect.exceptions import DataValidationError

#: vectorised string functions (numpy >= 2: numpy.strings; older: numpy.char)
_npstr = getattr(np, "strings", np.char)

#: File extensions load reads, in order of preference when reporting.
EXTENSIONS = (".csv", ".parquet", ".sav", ".dta")
_DELIMITERS = (";", ",", "\t", "|")


def strip_text(s: pd.Series) -> pd.Series:
    """Values as stripped strings (object dtype); blank or missing -> NaN.

    Vectorised with ``numpy.strings`` (no Python call per value).
    """
    values = s.to_numpy(dtype=object)
    mask = ~pd.isna(values)
    out = np.full(len(values), np.nan, dtype=object)
    idx = np.flatnonzero(mask)
    if len(idx):
        st = _npstr.strip(values[idx].astype(str))
        out[idx] = st.astype(object)
        out[idx[_npstr.str_len(st) == 0]] = np.nan
    return pd.Series(out, index=s.index, name=s.name)


@dataclass(frozen=True)
class ReadInfo:
    """How a file was read (shown by ``werkeffect check``)."""

    path: str
    format: str
    encoding: str | None = None
    delimiter: str | None = None
    labelled_columns: tuple[str, ...] = ()

    def describe(self, lang: str = "en") -> str:
        """File, format and how it was read (``lang="nl"``: in Dutch, for the data flow of
        the Dutch reports)."""
        nl = lang == "nl"
        kind = FORMAT_NAMES.get(self.format, self.format)
        parts = [f"{Path(self.path).name} ({kind})"]
        if self.encoding:
            parts.append(f"{'tekencodering' if nl else 'encoding'} {self.encoding}")
        if self.delimiter:
            parts.append(f"{'scheidingsteken' if nl else 'delimiter'} {self.delimiter!r}")
        if self.labelled_columns:
            lead = "waardelabels toegepast op " if nl else "value labels applied to "
            parts.append(lead + ", ".join(self.labelled_columns))
        return ", ".join(parts)

    def describe_nl(self) -> str:
        """:meth:`describe` in Dutch."""
        return self.describe("nl")


#: the file formats as a reader knows them
FORMAT_NAMES = {"csv": "CSV", "parquet": "Parquet", "sav": "SPSS", "dta": "Stata"}


class TableReadError(DataValidationError):
    """A file could not be read at all (empty, unreadable, ragged CSV)."""

    def __init__(self, table: str, message: str) -> None:
        super().__init__(f"{table}: {message}")
        self.table = table
        self.reason = message


# --------------------------------------------------------------------------- mapping file


def read_mapping(mapping: str | Path | dict | None) -> dict[str, dict[str, str]]:
    """Read a column mapping ``{table: {their_name: our_name}}`` from YAML or JSON (or a dict)."""
    if mapping is None:
        return {}
    if isinstance(mapping, dict):
        data = mapping
        where = "mapping"
    else:
        p = Path(mapping)
        where = str(p)
        if not p.is_file():
            raise DataValidationError(f"Mapping file not found: {p}")
        text = p.read_text(encoding="utf-8-sig")
        try:
            if p.suffix.lower() == ".json":
                data = json.loads(text)
            else:
                import yaml

                data = yaml.safe_load(text)
        except Exception as exc:
            raise DataValidationError(f"Mapping file {p} cannot be parsed: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict) or not all(
        isinstance(v, dict) and all(isinstance(a, str) and isinstance(b, str) for a, b in v.items())
        for v in data.values()
    ):
        raise DataValidationError(
            f"{where}: a mapping must look like {{table: {{their_column: our_column}}}}, "
            "e.g. YAML 'spells: {UITKERING_ID: spell_id, BEGINDATUM: start_date}'"
        )
    unknown = sorted(set(data) - set(TABLES))
    if unknown:
        raise DataValidationError(
            f"{where}: unknown table(s) {', '.join(unknown)}; tables are {', '.join(TABLES)}"
        )
    return {str(k): dict(v) for k, v in data.items()}


def rename_columns(df: pd.DataFrame, table: str, rename: dict[str, str] | None) -> pd.DataFrame:
    """Apply the mapping, then match remaining names case-insensitively to the schema's."""
    rename = dict(rename or {})
    schema = TABLES.get(table)
    if schema is not None:
        targets = set(rename.values())
        lower = {n.lower(): n for n in schema.names}
        for col in df.columns:
            if col in rename or col in schema.names:
                continue
            hit = lower.get(str(col).strip().lower())
            if hit is not None and hit not in targets and hit not in df.columns:
                rename[col] = hit
    out = df.rename(columns=rename)
    dup = out.columns[out.columns.duplicated()].tolist()
    if dup:
        raise TableReadError(
            table,
            f"after renaming, column(s) {', '.join(map(str, dup))} occur twice; "
            "check the mapping file",
        )
    return out


# --------------------------------------------------------------------------- CSV


def detect_encoding(raw: bytes) -> str:
    """UTF-8 with BOM, UTF-16 with BOM, UTF-8, Windows-1252, latin-1 (in that order)."""
    if raw.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    head = raw[:4000]
    if head.count(b"\x00") * 3 > len(head):  # UTF-16 without byte-order mark
        even, odd = head[0::2].count(b"\x00"), head[1::2].count(b"\x00")
        if odd > 0.9 * len(head) / 2 and even == 0:
            return "utf-16-le"
        if even > 0.9 * len(head) / 2 and odd == 0:
            return "utf-16-be"
    for enc in ("utf-8", "cp1252"):
        try:
            raw.decode(enc)
            return enc
        except UnicodeDecodeError:
            continue
    return "latin-1"


def detect_delimiter(header: str) -> str:
    """The most frequent of ``; , TAB |`` in the header line (``,`` when none occurs)."""
    counts = {d: header.count(d) for d in _DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def read_csv(path: str | Path, table: str) -> tuple[pd.DataFrame, ReadInfo]:
    p = Path(path)
    raw = p.read_bytes()
    encoding = detect_encoding(raw)
    if not encoding.startswith("utf-16") and b"\x00" in raw[:4000]:
        raise TableReadError(
            table,
            f"{p.name} is not a text file (it holds NUL bytes; an Excel or other binary file "
            "named .csv?). Save it as CSV (UTF-8 or Windows-1252).",
        )
    text = raw.decode(encoding)
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise TableReadError(table, f"the file {p.name} is empty (no header, no rows)")
    header = next(line for line in text.splitlines() if line.strip())
    delimiter = detect_delimiter(header)
    try:
        df = pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            dtype=str,
            keep_default_na=False,
            na_values=[],
            quoting=csv.QUOTE_MINIMAL,
            skip_blank_lines=True,
        )
    except pd.errors.ParserError as exc:
        msg = str(exc).replace("Error tokenizing data. C error: ", "")
        raise TableReadError(
            table, f"{p.name} cannot be read as CSV with delimiter {delimiter!r}: {msg}"
        ) from None
    except pd.errors.EmptyDataError:
        raise TableReadError(table, f"the file {p.name} is empty (no header, no rows)") from None
    df.columns = [str(c).strip().lstrip("\ufeff") for c in df.columns]
    unnamed = [c for c in df.columns if c.startswith("Unnamed: ")]
    if unnamed and all(df[c].str.strip().eq("").all() for c in unnamed):
        df = df.drop(columns=unnamed)  # trailing delimiter at the end of every line
    for c in df.columns:
        df[c] = strip_text(df[c])
    df = df.reset_index(drop=True)
    return df, ReadInfo(str(p), "csv", encoding=encoding, delimiter=delimiter)


# --------------------------------------------------------------------------- Parquet


def read_parquet(path: str | Path, table: str) -> tuple[pd.DataFrame, ReadInfo]:
    p = Path(path)
    if p.stat().st_size == 0:
        raise TableReadError(table, f"the file {p.name} is empty")
    try:
        df = pd.read_parquet(p)
    except Exception as exc:
        raise TableReadError(table, f"{p.name} cannot be read as Parquet: {exc}") from None
    for c in df.columns:
        if isinstance(df[c].dtype, pd.CategoricalDtype):
            df[c] = df[c].astype(object)
    df = _blank_strings_to_na(df)
    return df.reset_index(drop=True), ReadInfo(str(p), "parquet")


# --------------------------------------------------------------------------- SPSS / Stata


def _code_strings(s: pd.Series) -> pd.Series:
    """Values as code strings: integral floats lose their ``.0`` (SPSS stores numbers)."""
    if pd.api.types.is_float_dtype(s):
        v = s.to_numpy(dtype=float)
        integral = np.isfinite(v) & (v == np.round(v))
        out = s.astype(object)
        out[integral] = v[integral].astype(np.int64).astype(str)
        out[~integral & np.isfinite(v)] = s[~integral & np.isfinite(v)].astype(str)
        return out.where(s.notna())
    if pd.api.types.is_integer_dtype(s):
        return s.astype(str).where(s.notna())
    return s.astype(object).where(s.notna()).map(lambda x: x if x is None else str(x).strip())


def apply_value_labels(
    df: pd.DataFrame, labels: dict[str, dict], table: str
) -> tuple[pd.DataFrame, list[str]]:
    """Apply SPSS/Stata value labels to the schema's category columns (rule in module doc)."""
    schema = TABLES.get(table)
    applied: list[str] = []
    if schema is None:
        return df, applied
    for col, lab in labels.items():
        if col not in df.columns or col not in schema.names or not lab:
            continue
        column = schema.column(col)
        if column.dtype != "category" or not column.codes:
            continue
        by_code = {k.casefold(): k for k in column.codes}
        by_meaning = {v.casefold(): k for k, v in column.codes.items()}
        lookup: dict[str, str] = {}
        for value, label in lab.items():
            key = _code_strings(pd.Series([value])).iloc[0]
            text = str(label).strip()
            hit = by_code.get(text.casefold()) or by_meaning.get(text.casefold())
            if hit is None and key in column.codes:
                hit = key
            lookup[key] = hit if hit is not None else text
        codes = _code_strings(df[col])
        df[col] = codes.map(lambda v, lk=lookup: lk.get(v, v) if isinstance(v, str) else v)
        applied.append(col)
    return df, applied


def _blank_strings_to_na(df: pd.DataFrame) -> pd.DataFrame:
    """Empty or blank strings are missing values (SPSS stores missing strings as '')."""
    for c in df.columns:
        s = df[c]
        if (s.dtype == object or pd.api.types.is_string_dtype(s)) and pd.api.types.infer_dtype(
            s, skipna=True
        ) in ("string", "empty"):
            df[c] = strip_text(s)
    return df


def read_stat(
    path: str | Path, table: str, rename: dict[str, str] | None = None
) -> tuple[pd.DataFrame, ReadInfo]:
    import pyreadstat

    p = Path(path)
    if p.stat().st_size == 0:
        raise TableReadError(table, f"the file {p.name} is empty")
    fmt = "sav" if p.suffix.lower() == ".sav" else "dta"
    reader = pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta
    try:
        df, meta = reader(str(p), apply_value_formats=False)
    except Exception as exc:
        kind = "SPSS" if fmt == "sav" else "Stata"
        raise TableReadError(table, f"{p.name} cannot be read as {kind}: {exc}") from None
    labels = dict(meta.variable_value_labels or {})
    df = _blank_strings_to_na(df)
    df = rename_columns(df, table, rename)
    full = dict(rename or {})
    renamed_labels = {full.get(k, k): v for k, v in labels.items()}
    # case-insensitive schema matches were applied by rename_columns too
    lower = {c.lower(): c for c in df.columns}
    renamed_labels = {lower.get(str(k).lower(), k): v for k, v in renamed_labels.items()}
    df, applied = apply_value_labels(df, renamed_labels, table)
    return df.reset_index(drop=True), ReadInfo(str(p), fmt, labelled_columns=tuple(applied))


# --------------------------------------------------------------------------- dispatch


def read_table(
    path: str | Path, table: str, rename: dict[str, str] | None = None
) -> tuple[pd.DataFrame, ReadInfo]:
    """Read one table file and rename its columns; returns the raw frame and how it was read."""
    p = Path(path)
    ext = p.suffix.lower()
    if ext in (".sav", ".dta"):
        return read_stat(p, table, rename)
    if ext == ".csv":
        df, info = read_csv(p, table)
    elif ext == ".parquet":
        df, info = read_parquet(p, table)
    else:
        raise TableReadError(
            table, f"{p.name}: unsupported file type (use {', '.join(EXTENSIONS)})"
        )
    return rename_columns(df, table, rename), info


def find_table_files(folder: str | Path) -> tuple[dict[str, Path], list[str]]:
    """Map table name -> file in ``folder``; also return messages about ambiguous tables."""
    folder = Path(folder)
    found: dict[str, list[Path]] = {}
    for f in sorted(folder.iterdir()):
        if f.is_file() and f.suffix.lower() in EXTENSIONS and f.stem.lower() in TABLES:
            found.setdefault(f.stem.lower(), []).append(f)
    files = {t: fs[0] for t, fs in found.items() if len(fs) == 1}
    clashes = [
        f"{t}: {len(fs)} files ({', '.join(f.name for f in fs)}); keep exactly one"
        for t, fs in found.items()
        if len(fs) > 1
    ]
    return files, clashes
