"""Privacy: refuse extracts holding BSNs, and pseudonymise id columns with a keyed hash.

**BSN guard.** A Dutch citizen service number (BSN) has 9 digits and passes the *elfproef*:
``9*d1 + 8*d2 + ... + 2*d8 - 1*d9`` is divisible by 11 (and not all digits are zero). Numbers
stored as integers lose a leading zero, so 8-digit values are padded with a ``0`` first.
:func:`load <werkeffect.data.io.load>` refuses an extract when 50% or more of a column's
non-null values look like BSNs. (A random 9-digit number passes the elfproef with chance about
1/11, so pseudonymous numeric ids do not trip the guard; real BSNs all pass.)

**Pseudonymisation.** :func:`pseudonymise_folder` replaces id columns (default: every column
whose name ends in ``_id``, in every table, so joins between tables keep working) by
HMAC-SHA256 keyed hashes, written as the first 16 hex characters (64 bits). With ``n`` distinct
ids the chance that any two collide is about ``n**2 / 2**65``: 1e-9 for 200,000 ids,
3e-8 for a million. Values are normalised before hashing: surrounding blanks are stripped and a
purely numeric id is written without leading zeros or a trailing ``.0``, so ``012345678``,
``12345678`` and ``12345678.0`` give the same pseudonym (BSNs stored as numbers lose their
leading zero).

The key is read from a file the user keeps (outside the output folder; never shared with the
pseudonymised data). When the file does not exist a random 256-bit key is created with
permissions 600 and a message says so. The key, and the original ids, are never written to the
output folder. The same key gives the same pseudonyms, so later extracts can be linked.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from werkeffect.exceptions import DataValidationError

#: vectorised string functions (numpy >= 2: numpy.strings; older: numpy.char)
_npstr = getattr(np, "strings", np.char)

BSN_SHARE = 0.5
PSEUDONYM_LENGTH = 16
_WEIGHTS = np.array([9, 8, 7, 6, 5, 4, 3, 2, -1], dtype=np.int64)


def _id_strings(values) -> pd.Series:
    """Values as stripped strings; integral numbers without ``.0``; missing stays missing."""
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    if pd.api.types.is_bool_dtype(s):
        return pd.Series(pd.NA, index=s.index, dtype="string")
    if pd.api.types.is_integer_dtype(s):
        return s.astype("string")
    if pd.api.types.is_float_dtype(s):
        v = s.to_numpy(dtype=float)
        ok = np.isfinite(v) & (v == np.round(v)) & (np.abs(v) < 1e15)
        out = pd.Series(pd.NA, index=s.index, dtype="string")
        out[ok] = v[ok].astype(np.int64).astype(str)
        return out
    if pd.api.types.is_datetime64_any_dtype(s):
        return pd.Series(pd.NA, index=s.index, dtype="string")
    from werkeffect.data.readers import strip_text

    return strip_text(s).astype("string")


#: a BSN written in three groups with one separator: 1234.56.782, 123 45 6782, 123-456-782
BSN_GROUPED = r"\d{2,4}([.\s-])\d{2,4}\1\d{2,4}"


def is_bsn(values) -> np.ndarray:
    """Vectorised: which values look like a BSN (9 digits, or 8 with a lost leading zero,
    passing the elfproef; also written in three groups, as 1234.56.782 or 123 45 6782)?
    Returns a boolean array, False for missing values."""
    s = _id_strings(values)
    grouped = s.str.fullmatch(BSN_GROUPED).fillna(False).to_numpy(dtype=bool)
    if grouped.any():
        s = s.copy()
        s[grouped] = s[grouped].str.replace(r"[.\s-]", "", regex=True)
        s[grouped & (s.str.len() != 9).fillna(True).to_numpy(dtype=bool)] = pd.NA
    out = np.zeros(len(s), dtype=bool)
    present = np.flatnonzero(s.notna().to_numpy(dtype=bool))
    if not len(present):
        return out
    u = s.to_numpy(dtype=object)[present].astype(str)
    n = _npstr.str_len(u)
    cand = (n >= 8) & (n <= 9) & _npstr.isdigit(u)
    if not cand.any():
        return out
    padded = _npstr.zfill(u[cand], 9).astype("<U9")
    d = padded.view(np.uint32).reshape(-1, 9).astype(np.int64) - 48
    ascii_digits = ((d >= 0) & (d <= 9)).all(axis=1)  # isdigit also accepts other scripts
    ok = ascii_digits & ((d @ _WEIGHTS) % 11 == 0) & (d.sum(axis=1) > 0)
    out[present[np.flatnonzero(cand)]] = ok
    return out


def bsn_columns(tables: dict[str, pd.DataFrame], share: float = BSN_SHARE) -> list[tuple]:
    """Columns in which at least ``share`` of the non-null values look like BSNs.

    Returns ``(table, column, share, n_values)`` tuples.
    """
    hits = []
    for name, df in tables.items():
        if df is None:
            continue
        for col in df.columns:
            s = df[col]
            if pd.api.types.is_datetime64_any_dtype(s) or pd.api.types.is_bool_dtype(s):
                continue
            n = int(s.notna().sum())
            if n == 0:
                continue
            frac = float(is_bsn(s).sum()) / n
            if frac >= share:
                hits.append((name, str(col), frac, n))
    return hits


def check_no_bsn(tables: dict[str, pd.DataFrame]) -> None:
    """Raise :class:`DataValidationError` when a column holds BSN-like values."""
    hits = bsn_columns(tables)
    if not hits:
        return
    from werkeffect.data.validate import Problem

    problems = [
        Problem(t, c, "looks like BSNs", 0, (), f"{frac:.0%} of {n:,} values pass the elfproef")
        for t, c, frac, n in hits
    ]
    lines = [
        "Refusing to load: the extract seems to contain BSNs (citizen service numbers), "
        "which an analysis extract must never hold:"
    ]
    lines += [f"  - {p.table}.{p.column}: {p.detail}" for p in problems]
    lines.append(
        "Pseudonymise the extract first: `werkeffect pseudonymise INPUT --out OUTPUT "
        "--key-file KEYFILE` (keep the key file outside the output folder), then load OUTPUT."
    )
    raise DataValidationError("\n".join(lines), problems)


# --------------------------------------------------------------------------- pseudonymise


def read_or_create_key(key_file: str | Path) -> bytes:
    """Read the secret key; create a random one (permissions 600) when the file is absent."""
    p = Path(key_file)
    if p.exists():
        key = p.read_bytes().strip()
        if len(key) < 16:
            raise DataValidationError(
                f"The key file {p} holds fewer than 16 bytes; use a longer random key"
            )
        if os.name == "posix" and p.stat().st_mode & 0o077:
            print(
                f"werkeffect: warning: key file {p} is readable by other users; "
                f"run `chmod 600 {p}`",
                file=sys.stderr,
            )
        return key
    p.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32).encode("ascii")
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key + b"\n")
    print(
        f"werkeffect: created a new random key in {p} (permissions 600). Keep it safe and "
        "private: the same key gives the same pseudonyms for later extracts; without it they "
        "cannot be linked. Never share it with the pseudonymised data.",
        file=sys.stderr,
    )
    return key


def _normalise_ids(s: pd.Series) -> pd.Series:
    out = _id_strings(s)
    numeric = out.str.fullmatch(r"\d+").fillna(False)
    if numeric.any():
        stripped = out[numeric].str.lstrip("0")
        out[numeric] = stripped.mask(stripped.eq(""), "0")
    return out


def pseudonymise_values(values: pd.Series, key: bytes) -> pd.Series:
    """HMAC-SHA256 of each (normalised) value, first 16 hex characters; missing stays missing.

    Each distinct value is hashed once, then mapped back (vectorised over rows).
    """
    norm = _normalise_ids(values)
    codes, uniques = pd.factorize(norm, use_na_sentinel=True)
    hashed = np.array(
        [
            hmac.new(key, str(u).encode("utf-8"), hashlib.sha256).hexdigest()[:PSEUDONYM_LENGTH]
            for u in uniques
        ],
        dtype=object,
    )
    out = np.full(len(norm), None, dtype=object)
    ok = codes >= 0
    out[ok] = hashed[codes[ok]]
    return pd.Series(out, index=values.index, name=values.name, dtype=object)


def pseudonymise_folder(
    input: str | Path,
    out: str | Path,
    key_file: str | Path,
    id_columns: list[str] | None = None,
) -> dict[str, list[str]]:
    """Write a copy of the extract in ``input`` to ``out`` with id columns pseudonymised.

    Parameters
    ----------
    input, out
        Folder with the raw extract (tables as CSV/Parquet/SPSS/Stata) and the output folder.
        Tables are written in the format they came in (CSV as UTF-8 with the original delimiter,
        other values untouched); ``extract.json`` is copied; other files are not.
    key_file
        File with the secret key (created with a random key when absent). Must not lie in
        ``out``.
    id_columns
        Columns to pseudonymise in every table that has them; default every ``*_id`` column.

    Returns
    -------
    dict
        Table name -> pseudonymised columns.

    Raises
    ------
    DataValidationError
        When, after pseudonymisation, a column still looks like BSNs (name it in
        ``id_columns``); nothing is written then.
    """
    from werkeffect.data.readers import find_table_files

    src = Path(input)
    dst = Path(out)
    key_path = Path(key_file)
    if not src.is_dir():
        raise DataValidationError(f"No extract folder at {src}")
    if dst.resolve() == src.resolve():
        raise DataValidationError("The output folder must differ from the input folder")
    if key_path.resolve().is_relative_to(dst.resolve()):
        raise DataValidationError(
            f"The key file {key_path} lies inside the output folder {dst}; keep it elsewhere"
        )
    files, clashes = find_table_files(src)
    if clashes:
        raise DataValidationError("Ambiguous tables: " + "; ".join(clashes))
    if not files:
        raise DataValidationError(f"No table files (persons.csv, spells.parquet, ...) in {src}")
    key = read_or_create_key(key_path)

    done: dict[str, list[str]] = {}
    outputs = {}
    for table, path in files.items():
        df, info = _read_raw(path, table)
        cols = [
            c
            for c in df.columns
            if (c in id_columns if id_columns else str(c).lower().endswith("_id"))
        ]
        for c in cols:
            df[c] = pseudonymise_values(df[c], key)
        done[table] = cols
        outputs[table] = (df, info, path, cols)
    left = bsn_columns({t: v[0] for t, v in outputs.items()})
    if left:
        names = ", ".join(f"{t}.{c}" for t, c, _, _ in left)
        raise DataValidationError(
            f"After pseudonymising, column(s) {names} still look like BSNs; nothing was "
            "written. Name them with --columns (or drop them from the extract)."
        )
    dst.mkdir(parents=True, exist_ok=True)
    for df, info, path, cols in outputs.values():
        _write_like(df, info, dst / path.name, cols)
    meta = src / "extract.json"
    if meta.is_file():
        data = json.loads(meta.read_text(encoding="utf-8-sig"))
        keep = {k: v for k, v in data.items() if k == "extract_date"}
        (dst / "extract.json").write_text(json.dumps(keep, indent=2) + "\n", encoding="utf-8")
    return done


def _read_raw(path: Path, table: str):
    """Read a table without renaming or parsing (values as in the file)."""
    from werkeffect.data.readers import read_csv, read_parquet

    ext = path.suffix.lower()
    if ext == ".csv":
        return read_csv(path, table)
    if ext == ".parquet":
        return read_parquet(path, table)
    import pyreadstat

    reader = pyreadstat.read_sav if ext == ".sav" else pyreadstat.read_dta
    df, meta = reader(str(path), apply_value_formats=False)
    return df, meta


def _write_like(df: pd.DataFrame, info, target: Path, id_cols: list[str]) -> None:
    ext = target.suffix.lower()
    if ext == ".csv":
        df.to_csv(target, sep=info.delimiter or ",", index=False, encoding="utf-8")
    elif ext == ".parquet":
        df.to_parquet(target, index=False)
    else:
        import pyreadstat

        # value labels of pseudonymised columns are dropped (they could name the ids)
        labels = {
            k: v
            for k, v in (info.variable_value_labels or {}).items()
            if k in df.columns and k not in id_cols
        }
        kwargs = {"variable_value_labels": labels} if labels else {}
        writer = pyreadstat.write_sav if ext == ".sav" else pyreadstat.write_dta
        try:
            writer(df, str(target), **kwargs)
        except TypeError:
            writer(df, str(target))
