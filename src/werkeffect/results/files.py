"""Results files: what an evaluation leaves behind for reports, checkers and the council.

An analysis script collects its estimates, tables and figures in a :class:`ResultsWriter`;
``write()`` puts them in ``<out_dir>/<name>/``::

    results.json          estimates, data-flow record, fingerprint, versions, seed, command,
                          assumptions, notes and the disclosure (output-check) log
    tables/<table>.parquet
    figures/<figure>.svg

Everything passes disclosure control (:mod:`werkeffect.disclosure`) before it is written, and
the same inputs give byte-identical files: keys sorted, floats written with 12 significant
digits, no timestamps, no absolute paths, SVGs with a fixed hash salt and no date.
``read_results`` reads a folder back (reports use it; they never re-estimate).
"""

from __future__ import annotations

import io
import json
import math
import os
import platform
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from werkeffect.data.flow import DataFlow
from werkeffect.disclosure import (
    DisclosurePolicy,
    OutputCheckLog,
    check_count,
    check_differences,
    check_estimate_counts,
    check_flow,
    check_table,
    check_text,
    check_text_counts,
    flow_rounding,
)
from werkeffect.exceptions import DisclosureError

__all__ = ["SCALES", "ResultsFile", "ResultsWriter", "read_results", "schema_path"]

SCALES = (
    "probability",
    "hazard_ratio",
    "log_hazard_ratio",
    "count",
    "euro",
    "months",
    "difference",
    "ratio",
    "percentage_points",
)
#: packages whose versions a results file records
PACKAGES = (
    "numpy",
    "pandas",
    "scipy",
    "statsmodels",
    "linearmodels",
    "lifelines",
    "matplotlib",
    "pyarrow",
    "joblib",
)
SVG_HASHSALT = "werkeffect"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_SIGNIFICANT = 12


def schema_path() -> Path:
    """Path of ``docs/results.schema.json`` in the source tree (or the packaged copy)."""
    here = Path(__file__).resolve()
    for cand in (here.parents[3] / "docs" / "results.schema.json", here.with_name("schema.json")):
        if cand.is_file():
            return cand
    raise FileNotFoundError("results.schema.json not found")


# -- canonical JSON -------------------------------------------------------------------------
def _canon_float(x: float) -> float | str | None:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return None
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == 0:
        return 0.0
    y = float(f"{x:.{_SIGNIFICANT}g}")
    return y


def _canon(obj: Any) -> Any:
    """Plain JSON types, floats rounded to fixed significant digits, inf as "inf"."""
    if obj is None or isinstance(obj, bool | str):
        return obj
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, int | np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        return _canon_float(float(obj))
    if obj is pd.NA or obj is pd.NaT:
        return None
    if isinstance(obj, pd.Timestamp):
        return str(obj.date()) if obj == obj.normalize() else obj.isoformat()
    if isinstance(obj, Mapping):
        return {str(k): _canon(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_canon(v) for v in obj]
    if isinstance(obj, Path):
        return obj.as_posix()
    raise TypeError(f"cannot store {type(obj).__name__} in results.json")


def dumps(data: Mapping[str, Any]) -> str:
    """The canonical text of a results file."""
    return json.dumps(_canon(data), sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def _unfloat(v: Any) -> Any:
    if v == "inf":
        return math.inf
    if v == "-inf":
        return -math.inf
    return v


_ABS_PATH = re.compile(r"(?<![\w.])/(?:[^\s/'\"]+/)*[^\s/'\"]*")


def _strip_abs_paths(text: str) -> str:
    """Relative paths for anything under the working directory; others keep their last part."""
    cwd = Path.cwd().resolve()

    def repl(m: re.Match) -> str:
        p = Path(m.group())
        try:
            return p.resolve().relative_to(cwd).as_posix() or "."
        except ValueError:
            return p.name or "."

    return _ABS_PATH.sub(repl, text)


def _versions() -> dict[str, str]:
    out = {}
    for pkg in PACKAGES:
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            continue
    return out


def _werkeffect_version() -> str:
    import werkeffect

    return str(werkeffect.__version__)


# -- writer ---------------------------------------------------------------------------------
class ResultsWriter:
    """Collect an evaluation's outputs and write them, disclosure-checked, as a results folder.

    Parameters
    ----------
    name
        The evaluation (``jobcoaching``, ``ww_naar_bijstand``, ``statushouders``,
        ``programma``); the folder is ``<out_dir>/<name>/``.
    out_dir
        The results root (``results/``).
    title
        Title of the evaluation (Dutch; reports show it).
    seed, command
        The seed and the command line that reproduce the results (a list or a string;
        absolute paths are made relative to the working directory).
    dataset
        The :class:`~werkeffect.data.dataset.Dataset` analysed: fingerprint, extract date,
        data-flow record and the number of persons (to refuse person-level tables) are read
        from it. Or pass ``fingerprint``, ``flow`` and ``extract_date`` (and ``n_persons``).
    threshold, rounding
        Disclosure policy: smallest group (default 10) and rounding base of counts (None).
    lang
        Language of the main texts (``nl``).
    """

    def __init__(
        self,
        name: str,
        out_dir: str | os.PathLike = "results",
        *,
        title: str = "",
        title_en: str = "",
        seed: int | None = None,
        command: str | Sequence[str] | None = None,
        dataset: Any = None,
        fingerprint: str | None = None,
        flow: DataFlow | Sequence[Mapping[str, Any]] | None = None,
        extract_date: Any = None,
        n_persons: int | None = None,
        threshold: int = 10,
        rounding: int | None = None,
        policy: DisclosurePolicy | None = None,
        lang: str = "nl",
    ) -> None:
        if not _NAME.match(name):
            raise ValueError(f"results name {name!r} must be letters, digits, '_', '-', '.'")
        if lang not in ("nl", "en"):
            raise ValueError("lang must be 'nl' or 'en'")
        self.name = name
        self.out_dir = Path(out_dir)
        self.title = check_text(title or name, "title")
        self.title_en = check_text(title_en, "title_en")
        self.seed = None if seed is None else int(seed)
        if command is None:
            command = ""
        if not isinstance(command, str):
            command = shlex.join(str(c) for c in command)
        self.command = _strip_abs_paths(command)
        self.policy = policy or DisclosurePolicy(threshold=threshold, rounding=rounding)
        self.log = OutputCheckLog()
        self.lang = lang
        if dataset is not None:
            fingerprint = fingerprint or dataset.fingerprint()
            flow = flow if flow is not None else dataset.flow
            extract_date = extract_date if extract_date is not None else dataset.extract_date
            if n_persons is None and getattr(dataset, "persons", None) is not None:
                n_persons = int(len(dataset.persons))
        self.fingerprint = fingerprint
        self.extract_date = None if extract_date is None else str(pd.Timestamp(extract_date).date())
        self.n_persons = n_persons
        if isinstance(flow, DataFlow):
            flow_records = flow.to_records()
        else:
            flow_records = [dict(r) for r in (flow or [])]
        self._flow_raw = flow_records
        # a DataFlow is read when the file is written, so steps added later are included
        self._flow_live = flow if isinstance(flow, DataFlow) else None
        self.estimates: list[dict[str, Any]] = []
        self.tables: dict[str, dict[str, Any]] = {}
        self.figures: dict[str, dict[str, Any]] = {}
        self.values: dict[str, dict[str, Any]] = {}
        self.assumptions: list[dict[str, str]] = []
        self.notes: list[dict[str, str]] = []
        self._table_data: dict[str, pd.DataFrame] = {}
        self._figure_data: dict[str, bytes] = {}
        self._count_values: set[str] = set()

    # -- estimates ----------------------------------------------------------------------
    def add_estimate(
        self,
        estimand: str,
        result: Any = None,
        term: Any = None,
        *,
        estimate: float | None = None,
        std_error: float | None = None,
        lower: float | None = None,
        upper: float | None = None,
        level: float = 0.95,
        method: str | None = None,
        primary: bool = False,
        naive: bool = False,
        n_treated: int | None = None,
        n_control: int | None = None,
        label_nl: str = "",
        label_en: str = "",
        scale: str = "difference",
        p_value: float | None = None,
        method_nl: str = "",
        counts_persons: bool = False,
    ) -> dict[str, Any]:
        """Add one estimate, from a result object (``result`` and ``term``) or given numbers.

        ``estimand`` is the key shared with ``truth.json`` (``jobcoaching.hazard_ratio``).
        From a result, ``estimate``, ``std_error``, the interval at ``level``, ``method`` and
        the sample sizes are taken unless given. ``method`` names the method in English (it also
        identifies the estimate), ``method_nl`` in Dutch for Dutch reports (optional). An
        estimate on fewer than ``threshold``
        treated or control persons is suppressed (numbers missing, ``suppressed: true``,
        logged); so is an estimate that is itself a count of persons (``counts_persons=True``,
        a naive count of participants who found work) under the threshold. Returns the stored
        record.
        """
        if scale not in SCALES:
            raise ValueError(f"scale must be one of {SCALES}, got {scale!r}")
        if result is not None:
            params = result.params
            if term is None:
                if len(params) != 1:
                    raise ValueError(
                        f"{estimand}: the result has {len(params)} terms "
                        f"({list(params.index)[:6]}); say which with term="
                    )
                term = params.index[0]
            if term not in params.index:
                raise KeyError(f"{estimand}: term {term!r} not in the result's params")
            ci = result.conf_int(level)
            estimate = float(params[term]) if estimate is None else estimate
            std_error = float(result.std_errors[term]) if std_error is None else std_error
            lower = float(ci.loc[term, "lower"]) if lower is None else lower
            upper = float(ci.loc[term, "upper"]) if upper is None else upper
            if p_value is None:
                try:
                    p_value = float(result.pvalues[term])
                except Exception:
                    p_value = None
            method = method or getattr(result, "method", "")
            n = dict(getattr(result, "n", {}) or {})
            n_treated = n.get("n_treated") if n_treated is None else n_treated
            n_control = n.get("n_control") if n_control is None else n_control
        if estimate is None:
            raise ValueError(f"{estimand}: give an estimate or a result")
        if method is None:
            raise ValueError(f"{estimand}: say which method produced the estimate (method=)")
        texts = ((label_nl, "label_nl"), (label_en, "label_en"), (method, "method"),
                 (method_nl, "method_nl"))  # fmt: skip
        for text, where in texts:
            check_text(text, f"estimate '{estimand}' {where}")
        suppressed = check_estimate_counts(
            estimand, n_treated, n_control, policy=self.policy, log=self.log
        )
        if counts_persons and 0 < float(estimate) < self.policy.threshold:
            suppressed = True
            self.log.add(
                f"estimate:{estimand}",
                "small_count",
                "suppressed",
                f"the estimate counts fewer than {self.policy.threshold} persons",
                column="estimate",
            )
        rec: dict[str, Any] = {
            "estimand": str(estimand),
            "method": str(method),
            "term": None if term is None else str(term),
            "estimate": None if suppressed else float(estimate),
            "std_error": None if suppressed or std_error is None else float(std_error),
            "lower": None if suppressed or lower is None else float(lower),
            "upper": None if suppressed or upper is None else float(upper),
            "p_value": None if suppressed or p_value is None else float(p_value),
            "level": float(level),
            "primary": bool(primary),
            "naive": bool(naive),
            "suppressed": suppressed,
            "n_treated": self._count(n_treated, f"estimate:{estimand}:n_treated"),
            "n_control": self._count(n_control, f"estimate:{estimand}:n_control"),
            "label_nl": str(label_nl),
            "label_en": str(label_en),
            "scale": scale,
        }
        if method_nl:
            rec["method_nl"] = str(method_nl)
        for old in self.estimates:
            if (old["estimand"], old["method"], old["naive"]) == (
                rec["estimand"],
                rec["method"],
                rec["naive"],
            ):
                raise ValueError(
                    f"estimate {estimand!r} by {method!r} (naive={naive}) was already added"
                )
        self.estimates.append(rec)
        return rec

    def _count(self, value: Any, where: str) -> int | None:
        if value is None:
            return None
        v = check_count(float(value), where, policy=self.policy, log=self.log)
        return None if v is None else int(v)

    def add_value(
        self,
        key: str,
        value: float | str | None,
        *,
        label_nl: str = "",
        label_en: str = "",
        scale: str = "count",
        count: bool | None = None,
    ) -> None:
        """A single number a report quotes (a target, the pilot's size, a minimum detectable
        effect). Counts of persons (``scale="count"`` unless ``count=False``) are
        disclosure-checked: under the threshold they are stored as missing and logged."""
        if scale not in SCALES:
            raise ValueError(f"scale must be one of {SCALES}, got {scale!r}")
        if isinstance(value, str):
            check_text(value, f"value '{key}'")
        elif value is not None:
            value = float(value)
            if count if count is not None else scale == "count":
                value = check_count(value, f"value:{key}", policy=self.policy, log=self.log)
                self._count_values.add(str(key))
        self.values[str(key)] = {
            "value": value,
            "label_nl": str(label_nl),
            "label_en": str(label_en),
            "scale": scale,
        }

    # -- tables and figures -------------------------------------------------------------
    def add_table(
        self,
        name: str,
        df: pd.DataFrame,
        *,
        caption_nl: str = "",
        caption_en: str = "",
        count_columns: Sequence[str] = (),
        risk_set_columns: Sequence[str] = (),
        key_columns: Sequence[str] | None = None,
        share_columns: Mapping[str, str | float] | None = None,
        share_rows: tuple[str, Any] | None = None,
        derived_columns: Sequence[str] = (),
    ) -> pd.DataFrame:
        """Add a table (stored as ``tables/<name>.parquet``) after disclosure control.

        Small counts are suppressed (missing) and logged, curves cut at small risk sets,
        counts rounded per policy; person-level tables and min/max raise
        :class:`DisclosureError`. Shares of a yes/no characteristic (``share_columns``, each
        with its group size) are counts in disguise: one that stands for fewer persons than
        the threshold, or leaves fewer in the rest of its group, is suppressed too (see
        :func:`werkeffect.disclosure.check_table`). Returns the table as it will be written.
        """
        if not _NAME.match(name):
            raise ValueError(f"table name {name!r} must be letters, digits, '_', '-', '.'")
        if name in self.tables:
            raise ValueError(f"table {name!r} was already added")
        check_text(caption_nl, f"table '{name}' caption")
        check_text(caption_en, f"table '{name}' caption")
        safe = check_table(
            df,
            name,
            count_columns=list(count_columns),
            risk_set_columns=list(risk_set_columns),
            key_columns=key_columns,
            share_columns=share_columns,
            share_rows=share_rows,
            derived_columns=derived_columns,
            n_persons=self.n_persons,
            policy=self.policy,
            log=self.log,
        )
        self._table_data[name] = safe
        self.tables[name] = {
            "file": f"tables/{name}.parquet",
            "caption_nl": caption_nl,
            "caption_en": caption_en,
            "count_columns": list(count_columns),
            "risk_set_columns": list(risk_set_columns),
            "rows": int(len(safe)),
            "columns": list(safe.columns),
        }
        return safe

    def add_figure(
        self,
        name: str,
        fig: Any,
        *,
        caption_nl: str = "",
        caption_en: str = "",
        data: pd.DataFrame | None = None,
        count_columns: Sequence[str] = (),
        risk_set_columns: Sequence[str] = (),
        min_count: int | None = None,
        fig_en: Any = None,
    ) -> None:
        """Add a matplotlib figure (or Axes), written as a reproducible SVG; ``fig_en`` the
        same figure with English words (``figures/<name>.en.svg``, which English reports show).

        A figure's pixels cannot be checked; pass the ``data`` it draws (checked like a
        table — a curve must already be cut where its risk set falls under the threshold)
        or ``min_count``, the smallest group or risk set it shows. Either under the threshold
        raises :class:`DisclosureError`.
        """
        if not _NAME.match(name):
            raise ValueError(f"figure name {name!r} must be letters, digits, '_', '-', '.'")
        if name in self.figures:
            raise ValueError(f"figure {name!r} was already added")
        if name.endswith(".en"):
            raise ValueError(
                f"figure name {name!r} ends in '.en', which names the English drawing of "
                f"figure {name[:-3]!r}; pass that drawing as fig_en instead"
            )
        check_text(caption_nl, f"figure '{name}' caption")
        check_text(caption_en, f"figure '{name}' caption")
        if min_count is not None and 0 < min_count < self.policy.threshold:
            raise DisclosureError(
                f"figure '{name}': it shows a group or risk set of {min_count} persons, under "
                f"the threshold of {self.policy.threshold}; cut the curve or merge groups"
            )
        if data is not None:
            log = OutputCheckLog()
            check_table(
                data,
                f"figure {name}",
                count_columns=list(count_columns),
                risk_set_columns=list(risk_set_columns),
                n_persons=self.n_persons,
                policy=DisclosurePolicy(threshold=self.policy.threshold, secondary=False),
                log=log,
            )
            if len(log):
                first = log.entries[0]
                raise DisclosureError(
                    f"figure '{name}': its data break the output rules ({first['rule']}: "
                    f"{first['detail']}, column {first['column']}, {first['row']}); cut or "
                    "aggregate before drawing"
                )
        entry = {"file": f"figures/{name}.svg", "caption_nl": caption_nl, "caption_en": caption_en}
        for key, drawn in ((name, fig), (f"{name}.en", fig_en)):
            if drawn is None:
                continue
            figure = getattr(drawn, "figure", drawn)
            if not hasattr(figure, "savefig"):
                raise TypeError(f"figure '{key}': expected a matplotlib Figure or Axes")
            self._figure_data[key] = figure_svg(figure)
        if fig_en is not None:
            entry["file_en"] = f"figures/{name}.en.svg"
        self.figures[name] = entry

    def add_assumption(self, text_nl: str, text_en: str = "", *, name: str = "") -> None:
        """An identifying assumption in plain words (Dutch; English optional)."""
        check_text(text_nl, "assumption")
        check_text(text_en, "assumption")
        self.assumptions.append({"name": str(name), "text_nl": text_nl, "text_en": text_en})

    def add_note(
        self, text_nl: str, text_en: str = "", *, name: str = "", kind: str = "note"
    ) -> None:
        """A note for the reader: a choice made (``kind="note"``) or an estimator's warning
        (``kind="warning"``, which reports list apart, as the software words it). Counts of
        persons under the disclosure threshold in the text are masked
        (:func:`werkeffect.disclosure.check_text_counts`)."""
        if kind not in ("note", "warning"):
            raise ValueError(f"note {name!r}: kind must be 'note' or 'warning', not {kind!r}")
        check_text(text_nl, "note")
        check_text(text_en, "note")
        where = f"note:{name}" if name else "note"
        text_nl = check_text_counts(text_nl, where, policy=self.policy, log=self.log)
        text_en = check_text_counts(text_en, where, policy=self.policy, log=self.log)
        self.notes.append({"name": str(name), "kind": kind, "text_nl": text_nl, "text_en": text_en})

    # -- output ---------------------------------------------------------------------------
    def _published_counts(
        self, log: OutputCheckLog
    ) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
        """The estimates and values as they are published: copies in which a count of persons
        that differs from another by fewer than ``threshold`` is withheld
        (:func:`werkeffect.disclosure.check_differences`). The pool is the whole evaluation:
        its counts describe one programme's participants and comparison groups, nested in
        ways the numbers do not show."""
        estimates = [dict(e) for e in self.estimates]
        values = {k: dict(v) for k, v in self.values.items()}
        counts: list[tuple[str, str, str, float | None]] = [
            (f"estimate:{e['estimand']}", e["method"], col, e[col])
            for e in estimates
            for col in ("n_treated", "n_control")
        ]
        counts += [
            (f"value:{k}", "", "value", v["value"])
            for k, v in values.items()
            if k in self._count_values
        ]
        withheld = check_differences(counts, policy=self.policy, log=log)
        for e in estimates:
            for col in ("n_treated", "n_control"):
                if (f"estimate:{e['estimand']}", e["method"], col) in withheld:
                    e[col] = None
        for k, v in values.items():
            if (f"value:{k}", "", "value") in withheld:
                v["value"] = None
        return estimates, values

    def to_dict(self) -> dict[str, Any]:
        # checks made on the whole output log into a copy: to_dict can be called again
        log = OutputCheckLog(list(self.log.entries))
        raw = self._flow_live.to_records() if self._flow_live is not None else self._flow_raw
        flow = check_flow(raw, policy=self.policy, log=log)
        estimates, values = self._published_counts(log)
        return {
            "schema_version": 1,
            "name": self.name,
            "title": self.title,
            "title_en": self.title_en,
            "lang": self.lang,
            "werkeffect_version": _werkeffect_version(),
            "python": platform.python_version(),
            "packages": _versions(),
            "seed": self.seed,
            "command": self.command,
            "data_fingerprint": self.fingerprint,
            "extract_date": self.extract_date,
            "flow": flow,
            "estimates": sorted(estimates, key=lambda e: (e["estimand"], e["naive"], e["method"])),
            "values": values,
            "tables": self.tables,
            "figures": self.figures,
            "assumptions": self.assumptions,
            "notes": self.notes,
            "disclosure": {
                **self.policy.to_dict(),
                "flow_rounding": flow_rounding(raw, policy=self.policy),
                "log": log.to_records(),
            },
        }

    def write(self) -> Path:
        """Write the folder; returns the path of ``results.json``.

        Old tables and figures of this evaluation are removed first, so the folder holds
        exactly what this run produced.
        """
        folder = self.out_dir / self.name
        (folder / "tables").mkdir(parents=True, exist_ok=True)
        (folder / "figures").mkdir(parents=True, exist_ok=True)
        for sub, ext in (("tables", ".parquet"), ("figures", ".svg")):
            for old in (folder / sub).glob(f"*{ext}"):
                old.unlink()
        for name, df in self._table_data.items():
            write_parquet(df, folder / "tables" / f"{name}.parquet")
        for name, svg in self._figure_data.items():
            (folder / "figures" / f"{name}.svg").write_bytes(svg)
        text = dumps(self.to_dict())
        path = folder / "results.json"
        path.write_text(text, encoding="utf-8")
        return path


def write_parquet(df: pd.DataFrame, path: Path) -> None:
    """Parquet with no index and no timestamps (byte-identical for the same frame).

    ``DataFrame.attrs`` (e.g. a data-flow record that pandas carried over from the frame a
    table was computed from) are left out: they are not part of the table."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    plain = df.reset_index(drop=True)
    plain.attrs = {}
    table = pa.Table.from_pandas(plain, preserve_index=False)
    pq.write_table(table, path, compression="snappy", write_statistics=True)


def figure_svg(figure: Any) -> bytes:
    """A matplotlib figure as SVG bytes that do not change between runs."""
    import matplotlib

    buf = io.BytesIO()
    with matplotlib.rc_context({"svg.hashsalt": SVG_HASHSALT, "svg.fonttype": "path"}):
        figure.savefig(buf, format="svg", metadata={"Date": None}, bbox_inches="tight")
    return buf.getvalue()


# -- reader ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class ResultsFile:
    """A results folder as read back: ``data`` is results.json, tables load on demand."""

    path: Path
    data: dict[str, Any]

    @property
    def folder(self) -> Path:
        return self.path.parent

    @property
    def name(self) -> str:
        return str(self.data.get("name", ""))

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    @property
    def estimates(self) -> pd.DataFrame:
        cols = [
            "estimand",
            "method",
            "estimate",
            "std_error",
            "lower",
            "upper",
            "level",
            "primary",
            "naive",
            "n_treated",
            "n_control",
            "label_nl",
            "label_en",
            "scale",
        ]
        rows = self.data.get("estimates", [])
        frame = pd.DataFrame(rows)
        for c in cols:
            if c not in frame.columns:
                frame[c] = None
        for c in ("estimate", "std_error", "lower", "upper"):
            frame[c] = frame[c].map(_unfloat).astype(float)
        return frame

    def estimate(
        self, estimand: str, *, naive: bool | None = False, method: str | None = None
    ) -> dict[str, Any] | None:
        """The record of one estimate (the primary one when several methods estimated it)."""
        cands = [e for e in self.data.get("estimates", []) if e.get("estimand") == estimand]
        if naive is not None:
            cands = [e for e in cands if bool(e.get("naive")) == naive]
        if method is not None:
            cands = [e for e in cands if e.get("method") == method]
        if not cands:
            return None
        cands.sort(key=lambda e: (not e.get("primary", False), e.get("method", "")))
        rec = dict(cands[0])
        for c in ("estimate", "std_error", "lower", "upper"):
            rec[c] = _unfloat(rec.get(c))
        return rec

    def table(self, name: str) -> pd.DataFrame | None:
        entry = self.data.get("tables", {}).get(name)
        if entry is None:
            return None
        path = self.folder / entry["file"]
        if not path.is_file():
            return None
        return pd.read_parquet(path)

    def figure_path(self, name: str, lang: str = "nl") -> Path | None:
        """The figure's file; for ``lang="en"`` its English drawing when there is one."""
        entry = self.data.get("figures", {}).get(name)
        if entry is None:
            return None
        path = self.folder / (
            entry.get("file_en") if lang == "en" and entry.get("file_en") else entry["file"]
        )
        return path if path.is_file() else None

    @property
    def flow(self) -> pd.DataFrame:
        """The data-flow record; ``reason_nl`` is empty in files written before it existed."""
        flow = pd.DataFrame(
            self.data.get("flow", []),
            columns=["step", "table", "rows_in", "rows_out", "dropped", "reason", "reason_nl"],
        )
        flow["reason_nl"] = flow["reason_nl"].fillna("").astype(str)
        return flow


def read_results(path: str | os.PathLike, *, validate: bool = False) -> ResultsFile:
    """Read ``results.json`` (a file, or a results folder holding one)."""
    p = Path(path)
    if p.is_dir():
        p = p / "results.json"
    if not p.is_file():
        raise FileNotFoundError(f"no results file at {p}")
    data = json.loads(p.read_text(encoding="utf-8"))
    if validate:
        import jsonschema

        schema = json.loads(schema_path().read_text(encoding="utf-8"))
        jsonschema.validate(data, schema)
    return ResultsFile(path=p, data=data)
