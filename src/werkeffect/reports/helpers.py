"""What a report's chunks call: Dutch number formatting and Markdown from results files.

Reports read results files only — they never estimate. Everything here degrades gracefully:
a missing results file, estimate, table or figure gives a visible "niet beschikbaar" line,
not a crash, so a report renders while the analyses are still being written.

Numbers follow Dutch conventions by default (decimal comma, thousands point, "€ 1.234",
"12,5%", "tussen 1,2 en 3,4"); ``lang="en"`` gives English ones.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from werkeffect.disclosure import DisclosurePolicy, check_table
from werkeffect.formatting import (
    NA_TEXT,
    as_float,
    fmt_date,
    fmt_euro,
    fmt_interval,
    fmt_month,
    fmt_num,
    fmt_p,
    fmt_pct,
    is_missing,
)
from werkeffect.results.files import ResultsFile, read_results

__all__ = [
    "Report",
    "flow_for_report",
    "flow_suppressed",
    "fmt_date",
    "fmt_euro",
    "fmt_interval",
    "fmt_month",
    "fmt_num",
    "fmt_pct",
    "fmt_value",
    "load_report",
    "markdown_table",
    "not_available",
]


#: how each scale is shown: (formatter, kwargs) for effects
def fmt_value(x: Any, scale: str = "difference", lang: str = "nl", effect: bool = True) -> str:
    """Format a number by its scale (see ``werkeffect.results.files.SCALES``).

    ``probability`` is shown as a percentage, or — for an effect (``effect=True``, a difference
    of probabilities) — in percentage points.
    """
    if scale == "probability":
        return fmt_pct(x, 1, lang, points=effect)
    if scale == "percentage_points":
        return fmt_pct(x, 1, lang, points=True)
    if scale in ("hazard_ratio", "ratio"):
        return fmt_num(x, 2, lang)
    if scale == "log_hazard_ratio":
        return fmt_num(x, 3, lang)
    if scale == "euro":
        return fmt_euro(x, 0, lang)
    if scale == "months":
        v = as_float(x)
        if v is not None and math.isinf(v) and v > 0:  # e.g. a break-even not reached
            return NOT_WITHIN[lang]
        unit = {"nl": "maanden", "en": "months"}[lang]
        return fmt_num(x, 1, lang) if v is None else f"{fmt_num(x, 1, lang)} {unit}"
    if scale == "count":
        return fmt_num(x, 0, lang)
    return fmt_num(x, 3, lang)


#: a duration that lies beyond the months an evaluation follows (stored as +inf)
NOT_WITHIN = {"nl": "niet binnen de gevolgde periode", "en": "not within the period followed"}


#: units an interval in running text ends with, per scale
INTERVAL_UNITS = {
    "probability": {"nl": " procentpunt", "en": " percentage points"},
    "percentage_points": {"nl": " procentpunt", "en": " percentage points"},
    "months": {"nl": " maanden", "en": " months"},
}


#: the interval of a set amount in euros (lower = upper): a cost parameter, not an estimate
FIXED_AMOUNT = {
    "nl": "vast (geen statistische onzekerheid)",
    "en": "fixed (no statistical uncertainty)",
}
#: the interval of any other quantity with lower = upper: an estimate without spread, which
#: an evaluator should look into (e.g. every outcome the same), not a set amount
POINT_INTERVAL = {
    "nl": "geen spreiding (interval van één punt)",
    "en": "no spread (an interval of one point)",
}


#: the interval of an estimate stored without one (the analysis left it out, e.g. because the
#: method cannot give a usable one: its label, method and notes say why)
NO_INTERVAL = {"nl": "geen interval", "en": "no interval"}


def _no_interval(rec: Mapping[str, Any]) -> bool:
    """An estimate that is there, but stored without interval (not a suppressed one)."""
    return not is_missing(rec.get("estimate")) and (
        is_missing(rec.get("lower")) or is_missing(rec.get("upper"))
    )


def _is_fixed(lower: Any, upper: Any) -> bool:
    """An interval of one point (lower = upper): a set amount in euros, or an estimate
    without spread (see ``FIXED_AMOUNT`` and ``POINT_INTERVAL``)."""
    lo, hi = as_float(lower), as_float(upper)
    return lo is not None and lo == hi


def _interval_text(lower: Any, upper: Any, scale: str, lang: str, unit: bool = False) -> str:
    """An interval by its scale: ``"tussen 1,2 en 3,4"`` (with the unit when ``unit``). A
    duration whose upper end lies beyond the period followed (+inf) is said in words."""
    if scale == "months" and as_float(upper) == math.inf:
        lo = as_float(lower)
        if lo is None or math.isinf(lo):
            return NOT_WITHIN[lang]
        return {
            "nl": f"{fmt_num(lo, 1, 'nl')} maanden of later",
            "en": f"{fmt_num(lo, 1, 'en')} months or later",
        }[lang]
    if _is_fixed(lower, upper):
        return (FIXED_AMOUNT if scale == "euro" else POINT_INTERVAL)[lang]
    if is_missing(lower) or is_missing(upper):
        return NO_INTERVAL[lang]
    text = fmt_interval(lower, upper, _bound_fmt(scale), lang)
    return text + (INTERVAL_UNITS.get(scale, {}).get(lang, "") if unit else "")


def _bound(x: Any, scale: str, lang: str) -> str:
    """An interval bound: like fmt_value but without units repeated."""
    if scale == "months":
        return fmt_num(x, 1, lang)
    if scale in ("probability", "percentage_points"):
        return fmt_num(None if is_missing(x) else as_float(x) * 100, 1, lang)
    return fmt_value(x, scale, lang)


def _natural_key(name: str) -> list:
    """Sort key that puts 'u3' before 'u12' ('att_u12.u3', 'att_u12.u6', 'att_u12.u12')."""
    return [
        (0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", name)
    ]


def _readable_covariates(df: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Covariate names (and their kind) in words, in a table that lists covariates."""
    from werkeffect.reports.labels import covariate_label, kind_label

    if "covariate" not in df.columns:
        return df
    df = df.copy()
    df["covariate"] = [covariate_label(str(c), lang) for c in df["covariate"]]
    for col in ("type", "kind"):
        if col in df.columns:
            df[col] = [kind_label(str(k), lang) for k in df[col]]
    return df


def not_available(what: str, lang: str = "nl") -> str:
    """A visible line saying something is missing (Markdown)."""
    lead = {"nl": "Niet beschikbaar", "en": "Not available"}[lang]
    return f"\n[{lead}: {what}.]{{.niet-beschikbaar}}\n"


# -- tables ---------------------------------------------------------------------------------
COLUMN_LABELS = {
    "nl": {
        "estimand": "Schatter",
        "estimate": "Schatting",
        "std_error": "Standaardfout",
        "lower": "Ondergrens",
        "upper": "Bovengrens",
        "interval": "95%-interval",
        "p_value": "p-waarde",
        "method": "Methode",
        "n": "Aantal",
        "n_treated": "Deelnemers",
        "n_control": "Vergelijkingsgroep",
        "time": "Maand",
        "month": "Maand",
        "year": "Jaar",
        "jaar": "Jaar",
        "at_risk": "Nog in bijstand",
        "survival": "Nog in bijstand (aandeel)",
        "cif": "Cumulatieve incidentie",
        "group": "Groep",
        "start_half_year": "Start (halfjaar)",
        "half_year": "Halfjaar",
        "covariate": "Kenmerk",
        "smd": "SMD",
        "smd_before": "SMD vóór",
        "smd_after": "SMD na",
        "variance_ratio": "Variantieratio",
        "horizon": "Horizon (maanden)",
        "event_time": "Tijd t.o.v. start",
        "step": "Stap",
        "table": "Tabel",
        "rows_in": "Rijen in",
        "rows_out": "Rijen uit",
        "dropped": "Verwijderd",
        "reason": "Reden",
        "gamma": "Γ",
        "p_upper": "p (bovengrens)",
        "kind": "Soort",
        "term": "Term",
        "att": "Effect",
        "base_period": "Basisperiode",
        "post": "Na de start",
        "municipality": "Gemeente",
        "after": "Periode",
        "event": "Tijd t.o.v. start",
        "u": "Uitkeringsduur bij start (u)",
        "type": "Soort",
        "mean_treated_un": "Gemiddelde deelnemers (vóór)",
        "mean_control_un": "Gemiddelde vergelijking (vóór)",
        "smd_un": "SMD vóór",
        "variance_ratio_un": "Variantieratio vóór",
        "mean_treated": "Gemiddelde deelnemers",
        "mean_control": "Gemiddelde vergelijking",
        "chisq": "Chi²",
        "df": "Vrijheidsgraden",
        "p": "p-waarde",
        "p_lower": "p (ondergrens)",
        "statistic": "Toetsgrootheid",
        "n_informative": "Informatieve paren",
        "effect": "Effect",
        "power": "Power",
        "lower_set": "Verzameling: ondergrens",
        "upper_set": "Verzameling: bovengrens",
    },
    "en": {
        "std_error": "Std. error",
        "p_value": "p-value",
        "n_treated": "Treated",
        "n_control": "Comparison",
        "at_risk": "At risk",
        "interval": "95% interval",
        "start_half_year": "Start (half-year)",
        "half_year": "Half-year",
        "smd": "SMD",
        "smd_before": "SMD before",
        "smd_after": "SMD after",
        "smd_un": "SMD before",
        "variance_ratio_un": "Variance ratio before",
        "mean_treated_un": "Mean participants (before)",
        "mean_control_un": "Mean comparison (before)",
        "mean_treated": "Mean participants",
        "mean_control": "Mean comparison",
        "u": "Elapsed duration at start (u)",
        "horizon": "Horizon (months)",
        "att": "Effect",
        "post": "After the start",
        "event_time": "Time relative to start",
        "event": "Time relative to start",
        "chisq": "Chi²",
        "df": "Degrees of freedom",
        "p": "p-value",
        "gamma": "Γ",
        "p_upper": "p (upper bound)",
        "p_lower": "p (lower bound)",
        "statistic": "Test statistic",
        "n_informative": "Informative pairs",
        "kind": "Kind",
        "type": "Kind",
        "lower_set": "Identified set: lower",
        "upper_set": "Identified set: upper",
    },
}


# -- the data-flow record in Dutch -----------------------------------------------------------
#: Dutch names of the data-flow steps the package and the analyses record (others show as is)
FLOW_STEP_LABELS_NL = {
    "read": "inlezen",
    "validate": "controle",
    "repair": "herstel",
    "extract date": "peildatum",
    "extract": "extract",
    "simulate": "simulatie",
    "analysis": "analyse",
    "population": "populatie",
    "censoring": "censurering",
    "episodes": "episodes",
    "episodes: window": "episodes: venster",
    "episodes: no time at risk": "episodes: geen risicotijd",
    "episodes: programme": "episodes: traject",
    "episodes: split": "episodes: splitsen",
    "person_months": "persoonsmaanden",
    "person_months: window": "persoonsmaanden: venster",
    "person_months: one spell a month": "persoonsmaanden: één uitkering per maand",
    "ww: WW ended": "WW: WW afgelopen",
    "ww: follow-up complete": "WW: volgperiode compleet",
    "ww: municipality x period": "WW: gemeente × periode",
    "programme offered": "traject aangeboden",
    "programme available": "traject beschikbaar",
    "timing-of-events job spells": "timing-of-events: werkperioden",
    "pilot: all placement dates": "pilot: alle plaatsingsdata",
}
#: step names that end in a value (a date): the Dutch for the part before it
FLOW_STEP_PREFIXES_NL = {"pilot: placement date ": "pilot: plaatsingsdatum "}
#: Dutch names of the tables in the data-flow record
FLOW_TABLE_LABELS_NL = {
    "spells": "uitkeringsperioden",
    "persons": "personen",
    "programmes": "trajecten",
    "jobs": "banen",
    "ww": "WW-uitkeringen",
    "ladder": "participatieladder",
    "person-months": "persoonsmaanden",
    "person-months on benefit": "persoonsmaanden met uitkering",
    "exits to work": "uitstroom naar werk",
}


def flow_step_label(step: str, lang: str = "nl") -> str:
    """A data-flow step's name as a report shows it (Dutch for ``lang="nl"``)."""
    step = str(step)
    if lang != "nl":
        return step
    if step in FLOW_STEP_LABELS_NL:
        return FLOW_STEP_LABELS_NL[step]
    for prefix, nl in FLOW_STEP_PREFIXES_NL.items():
        if step.startswith(prefix):
            return nl + step[len(prefix) :]
    return step


def flow_table_label(table: str, lang: str = "nl") -> str:
    """A data-flow table's name as a report shows it (Dutch for ``lang="nl"``)."""
    table = str(table)
    return FLOW_TABLE_LABELS_NL.get(table, table) if lang == "nl" else table


def log_column_label(column: str, lang: str = "nl") -> str:
    """The column(s) an output-check log entry names, in the report's words."""
    words = COLUMN_LABELS["nl" if lang == "nl" else "en"]
    return ", ".join(words.get(p, p.replace("_", " ")) for p in column.split(",") if p)


def flow_for_report(flow: pd.DataFrame, lang: str = "nl") -> pd.DataFrame:
    """The data-flow record in the report's language, without a ``reason_nl`` column.

    Dutch: the Dutch reason where the record has one (records written before it existed
    have none: the English reason shows), Dutch step and table names. English: as recorded.
    A step that adds rows (episodes split into start–stop rows) removes none: its ``dropped``
    is missing and its reason starts with the rows added ("11.240 rijen erbij: …"). A
    missing ``dropped`` is therefore no suppressed count by itself: :func:`flow_suppressed`
    says which are.
    """
    out = flow.copy()
    nl = out.pop("reason_nl") if "reason_nl" in out.columns else None
    if lang == "nl":
        out["step"] = [flow_step_label(s, lang) for s in out["step"]]
        out["table"] = [flow_table_label(t, lang) for t in out["table"]]
        if nl is not None and "reason" in out.columns:
            nl = nl.fillna("").astype(str).str.strip()
            out["reason"] = out["reason"].where(nl.eq(""), nl)
    if {"rows_in", "rows_out", "dropped"} <= set(out.columns):
        added = pd.to_numeric(out["rows_out"], errors="coerce") - pd.to_numeric(
            out["rows_in"], errors="coerce"
        )
        grows = (added > 0).fillna(False).to_numpy(dtype=bool)
        if grows.any():
            words = "rijen erbij" if lang == "nl" else "rows added"
            out["dropped"] = out["dropped"].astype("Float64").mask(grows)
            out["reason"] = [
                f"{fmt_num(a, 0, lang)} {words}: {r}" if g else r
                for a, g, r in zip(added, grows, out["reason"], strict=True)
            ]
    return out


def flow_suppressed(flow: pd.DataFrame) -> pd.Series:
    """Which steps of a data-flow record (as stored) show no number of rows removed because
    the output check suppressed it (fewer than the threshold); a step that adds rows is
    none of them."""
    dropped = pd.to_numeric(flow["dropped"], errors="coerce")
    added = pd.to_numeric(flow["rows_out"], errors="coerce") - pd.to_numeric(
        flow["rows_in"], errors="coerce"
    )
    return dropped.isna() & ~(added > 0).fillna(False)


def markdown_table(
    df: pd.DataFrame,
    *,
    lang: str = "nl",
    count_columns: Sequence[str] = (),
    decimals: Mapping[str, int] | int | None = None,
    labels: Mapping[str, str] | None = None,
    marker: str = "<10",
    max_rows: int = 60,
    suppressed: pd.DataFrame | None = None,
    percent: Sequence[str] = (),
    points: Sequence[str] = (),
) -> str:
    """A pipe table with Dutch number formatting.

    Suppressed cells (``suppressed``: a boolean frame, e.g. from :func:`suppressed_cells`)
    show ``marker`` for counts and ``x`` for statistics; other missing cells show "–". Without
    ``suppressed``, a missing count is taken as suppressed. Shares in ``percent`` columns show
    as percentages ("53,6%"), differences of shares in ``points`` columns as percentage points
    (the number times 100; the column label says the unit), both with one decimal unless
    ``decimals`` says otherwise.
    """
    if suppressed is None:
        suppressed = pd.DataFrame(False, index=df.index, columns=df.columns)
        for c in df.columns:
            if c in set(count_columns):
                suppressed[c] = df[c].isna().to_numpy()
    if len(df) > max_rows:
        df = df.iloc[:max_rows]
        suppressed = suppressed.iloc[:max_rows]
    labels = {**COLUMN_LABELS["nl" if lang == "nl" else "en"], **(labels or {})}
    if lang == "en":
        labels = {**{k: k.replace("_", " ").capitalize() for k in df.columns}, **labels}
    counts = set(count_columns) | {
        c for c in df.columns if str(c) in ("n", "n_treated", "n_control", "at_risk", "aantal")
    }
    cols = [str(c) for c in df.columns]
    heads = [_md_escape(_cap(labels.get(c, c.replace("_", " ")))) for c in cols]
    align = []
    body: list[list[str]] = [[] for _ in range(len(df))]
    for c in df.columns:
        s = df[c]
        numeric = pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)
        align.append("---:" if numeric else ":---")
        if numeric:
            if isinstance(decimals, Mapping):
                d = decimals.get(str(c))
            else:
                d = decimals
            vals = s.astype("Float64")
            as_percent, as_points = str(c) in set(percent), str(c) in set(points)
            if as_percent or as_points:
                vals = vals * 100
                d = 1 if d is None else d
            if d is None:
                d = 0 if c in counts else _decimals(vals)
            plain = bool(_KEY_NAMES.match(str(c))) and d == 0  # years, months: no "2.019"
            hidden = (
                suppressed[c].to_numpy(dtype=bool)
                if c in suppressed.columns
                else np.zeros(len(df), dtype=bool)
            )
            p_column = str(c).lower() in P_COLUMNS
            for i, v in enumerate(vals):
                if pd.isna(v):
                    body[i].append((marker if c in counts else "x") if hidden[i] else "–")
                elif p_column:
                    body[i].append(_md_escape(fmt_p(float(v), lang)))
                elif plain:
                    body[i].append(str(int(round(float(v)))))
                else:
                    body[i].append(fmt_num(float(v), d, lang) + ("%" if as_percent else ""))
        else:
            yes_no = ("ja", "nee") if lang == "nl" else ("yes", "no")
            for i, v in enumerate(s):
                if isinstance(v, bool | np.bool_):
                    body[i].append(yes_no[0] if v else yes_no[1])
                else:
                    body[i].append("" if is_missing(v) else _md_escape(str(v)))
    # the dashes set relative column widths when pandoc wraps a wide table; two more for the
    # cell padding, so a narrow column of numbers does not run into its neighbour in the PDF
    widths = [
        max([len(heads[j]) // 2, 3] + [min(len(r[j]), 28) + 2 for r in body])
        for j in range(len(cols))
    ]
    align = [
        (":" + "-" * w if a.startswith(":") else "-" * w + ":")
        for a, w in zip(align, widths, strict=True)
    ]
    lines = ["| " + " | ".join(heads) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in body]
    return "\n".join(lines)


#: columns holding p-values: shown with fmt_p ("< 0,001", never "0,000")
P_COLUMNS = {"p", "p_value", "pvalue", "p_upper", "p_lower", "p-waarde", "wild_p_value"}

_KEY_NAMES = re.compile(
    r"^(year|jaar|time|tijd|month|maand|u|horizon|event_time|cohort|group|g|t|period|"
    r"periode|week|quarter|kwartaal)$",
    re.IGNORECASE,
)


def suppressed_cells(df: pd.DataFrame, entries: Sequence[Mapping[str, str]]) -> pd.DataFrame:
    """Which cells of ``df`` the output-check log says were suppressed (a boolean frame)."""
    mask = pd.DataFrame(False, index=df.index, columns=df.columns)
    for e in entries:
        if e.get("action") != "suppressed":
            continue
        cols = [c for c in str(e.get("column", "")).split(",") if c in df.columns]
        row = str(e.get("row", ""))
        if not cols or not row:
            continue
        m = re.fullmatch(r"row (\d+)", row)
        if m:
            sel = np.arange(len(df)) == int(m.group(1))
        else:
            sel = np.ones(len(df), dtype=bool)
            for pair in row.split(", "):
                if "=" not in pair:
                    sel[:] = False
                    break
                k, v = pair.split("=", 1)
                if k not in df.columns:
                    sel[:] = False
                    break
                sel &= df[k].astype(str).to_numpy() == v
        for c in cols:
            mask.loc[sel, c] = True
    return mask


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def _decimals(vals: pd.Series) -> int:
    """Fewest decimals (at most 3; 1 for numbers of 100 and more) that show the values."""
    x = vals.dropna().to_numpy(dtype=float)
    x = x[np.isfinite(x)]
    if not len(x):
        return 0
    need = 0
    for v in x:
        for d in range(4):
            if abs(round(v, d) - v) <= 1e-9 * max(1.0, abs(v)):
                break
        need = max(need, d)
    if np.abs(x).max() >= 100:
        need = min(need, 1)
    return need


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _labelled_table(md: str, label: str | None, caption: str, note: str = "") -> str:
    ident = f"#{label} " if label else ""
    parts = ["", f"::: {{{ident}.we-table}}", "", md, "", f"Table: {caption}" if caption else ""]
    if note:
        parts += ["", f"[{note}]{{.table-note}}"]
    parts += ["", ":::", ""]
    return "\n".join(parts)


# -- the report object ------------------------------------------------------------------------
class Report:
    """One evaluation's results, as a report reads them.

    Parameters
    ----------
    results
        The results root (``results/``) holding ``<name>/results.json``.
    name
        The evaluation.
    lang
        ``nl`` (default) or ``en``.
    """

    def __init__(self, results: str | os.PathLike, name: str, lang: str = "nl") -> None:
        if lang not in ("nl", "en"):
            raise ValueError("lang must be 'nl' or 'en'")
        self.lang = lang
        self.name = name
        self.root = Path(results)
        self.res: ResultsFile | None = None
        path = self.root / name / "results.json"
        if path.is_file():
            self.res = read_results(path)
        disc = (self.res.get("disclosure") if self.res else None) or {}
        self.policy = DisclosurePolicy(
            threshold=int(disc.get("threshold", 10)), rounding=disc.get("rounding")
        )

    # -- language -----------------------------------------------------------------------
    def t(self, nl: str, en: str) -> str:
        """Pick the text in the report's language."""
        return nl if self.lang == "nl" else en

    @property
    def available(self) -> bool:
        return self.res is not None

    def na(self, what: str) -> str:
        return not_available(what, self.lang)

    def missing_results(self) -> str:
        """A visible line when the whole results file is missing ('' when present)."""
        if self.res is not None:
            return ""
        return self.na(
            self.t(
                f"de resultaten van '{self.name}' ontbreken (voer eerst `werkeffect run "
                f"{self.name}` uit)",
                f"the results of '{self.name}' are missing (run `werkeffect run {self.name}`)",
            )
        )

    @property
    def title(self) -> str:
        if self.res is None:
            return self.name
        if self.lang == "en" and self.res.get("title_en"):
            return self.res["title_en"]
        return self.res.get("title") or self.name

    # -- numbers -----------------------------------------------------------------------
    def est(
        self, key: str, naive: bool = False, method: str | None = None
    ) -> dict[str, Any] | None:
        """The stored estimate (primary first), or None."""
        if self.res is None:
            return None
        rec = self.res.estimate(key, naive=naive, method=method)
        if rec is None or rec.get("suppressed") or is_missing(rec.get("estimate")):
            return None if rec is None or not rec.get("suppressed") else rec
        return rec

    def has(self, key: str, naive: bool = False) -> bool:
        rec = self.est(key, naive=naive)
        return rec is not None and not rec.get("suppressed")

    def value(self, key: str, default: Any = None) -> Any:
        """A stored single value (``values`` in results.json)."""
        if self.res is None:
            return default
        entry = (self.res.get("values") or {}).get(key)
        if entry is None or is_missing(entry.get("value")):
            return default
        return as_float(entry["value"]) if not isinstance(entry["value"], str) else entry["value"]

    def value_suppressed(self, key: str) -> bool:
        """Whether a stored count was suppressed by the output check (under the threshold)."""
        if self.res is None:
            return False
        log = (self.res.get("disclosure") or {}).get("log") or []
        return any(
            e.get("output") == f"value:{key}" and e.get("action") == "suppressed" for e in log
        )

    def num(self, key: str, part: str = "estimate", naive: bool = False) -> float | None:
        """One number of an estimate (``estimate``, ``lower``, ``upper``, ``std_error``,
        ``n_treated``, ``n_control``) or None."""
        rec = self.est(key, naive=naive)
        if rec is None or rec.get("suppressed"):
            return None
        return as_float(rec.get(part))

    def _why_missing(self, key: str, naive: bool = False) -> str:
        rec = None if self.res is None else self.res.estimate(key, naive=naive)
        if rec is not None and rec.get("suppressed"):
            return self.t(
                f"'{key}' is onderdrukt (groep kleiner dan {self.policy.threshold} personen)",
                f"'{key}' is suppressed (group under {self.policy.threshold} persons)",
            )
        return self.t(f"schatting '{key}' ontbreekt", f"estimate '{key}' is missing")

    def method_like(self, key: str, text: str) -> str | None:
        """The full method name of the first estimate of ``key`` whose method contains
        ``text`` (for ``method=`` of :meth:`sentence` and friends), or None."""
        if self.res is None:
            return None
        methods = sorted(
            e.get("method", "")
            for e in self.res.data.get("estimates", [])
            if e.get("estimand") == key and text in e.get("method", "")
        )
        return methods[0] if methods else None

    def fmt(
        self, key: str, naive: bool = False, part: str = "estimate", method: str | None = None
    ) -> str:
        """The estimate (or a bound) formatted by its scale; "niet beschikbaar" if missing.
        ``method``: that method's estimate instead of the primary one."""
        rec = self.est(key, naive=naive, method=method)
        if rec is None or rec.get("suppressed"):
            return NA_TEXT[self.lang]
        return fmt_value(rec.get(part), rec.get("scale", "difference"), self.lang)

    def interval(self, key: str, naive: bool = False, method: str | None = None) -> str:
        """``"tussen 1,2 en 3,4 procentpunt"`` for an estimate's interval."""
        rec = self.est(key, naive=naive, method=method)
        if rec is None or rec.get("suppressed"):
            return NA_TEXT[self.lang]
        scale = rec.get("scale", "difference")
        return _interval_text(rec.get("lower"), rec.get("upper"), scale, self.lang, unit=True)

    def sentence(self, key: str, naive: bool = False, method: str | None = None) -> str:
        """``"5,2 procentpunt (95%-interval: tussen 1,0 en 9,4 procentpunt)"`` or a
        visible "niet beschikbaar"."""
        rec = self.est(key, naive=naive, method=method)
        if rec is None or rec.get("suppressed"):
            return f"*{NA_TEXT[self.lang]}* ({self._why_missing(key, naive)})"
        level = fmt_num(100 * float(rec.get("level") or 0.95), 0, self.lang)
        lab = self.t(f"{level}%-interval", f"{level}% interval")
        fmt = self.fmt(key, naive, method=method)
        interval = self.interval(key, naive, method=method)
        if _is_fixed(rec.get("lower"), rec.get("upper")) or _no_interval(rec):
            return f"{fmt} ({interval})"
        return f"{fmt} ({lab}: {interval})"

    # -- conclusions in words (see werkeffect.reports.wording) ----------------------------
    def side(self, key: str, naive: bool = False) -> str:
        """Where the estimate's interval lies against no effect (0; 1 for ratios):
        ``"above"``, ``"below"``, ``"spans"`` or ``"unknown"`` (missing or suppressed)."""
        from werkeffect.reports.wording import interval_side

        rec = self.est(key, naive=naive)
        if rec is None or rec.get("suppressed"):
            return "unknown"
        null = 1.0 if rec.get("scale") in ("hazard_ratio", "ratio") else 0.0
        return interval_side(rec.get("lower"), rec.get("upper"), null)

    def naive_versus(self, key: str, than: str | None = None) -> str:
        """How the naive comparison of ``key`` relates to the primary estimate, as a
        predicate (``"is 2,4 keer zo groot als het effect"``, ``"heeft het omgekeerde teken
        van het effect"``; ``than`` replaces "het effect"); ``""`` if either is missing."""
        from werkeffect.reports.wording import naive_versus_causal

        return naive_versus_causal(self.num(key, naive=True), self.num(key), self.lang, than)

    def net_result(self, key: str) -> str:
        """The rest of a sentence on the net financial result of the euro interval ``key``
        (``"kost per saldo meer dan het aan uitkeringen bespaart: tussen ..."``)."""
        from werkeffect.reports.wording import net_result

        return net_result(self.num(key, part="lower"), self.num(key, part="upper"), self.lang)

    # -- tables --------------------------------------------------------------------------
    def estimates_table(
        self,
        keys: Sequence[str] | None = None,
        *,
        label: str | None = "tbl-schattingen",
        caption: str | None = None,
        with_naive: bool = True,
        exclude: Sequence[str] = (),
    ) -> str:
        """Every estimate (or the given estimands): method, estimate, interval and group
        sizes, the naive comparison labelled as such."""
        if self.res is None:
            return self.missing_results()
        rows = []
        for e in self.res.get("estimates", []):
            if keys is not None and e["estimand"] not in keys:
                continue
            if any(e["estimand"].startswith(x) for x in exclude):
                continue
            if e.get("naive") and not with_naive:
                continue
            scale = e.get("scale", "difference")
            lab = e.get("label_nl") if self.lang == "nl" else (e.get("label_en") or "")
            lab = lab or e["estimand"]
            if e.get("naive"):
                if not any(w in lab.lower() for w in ("naïef", "naïeve", "naive")):
                    lab += self.t(" (naïeve vergelijking)", " (naive comparison)")
            elif e.get("primary"):
                lab += self.t(" (primair)", " (primary)")
            if e.get("suppressed") or is_missing(e.get("estimate")):
                est = ci = self.t("onderdrukt", "suppressed")
            else:
                est = fmt_value(e.get("estimate"), scale, self.lang)
                ci = _interval_text(e.get("lower"), e.get("upper"), scale, self.lang)
            rows.append(
                {
                    "estimand": lab,
                    "method": (self.lang == "nl" and e.get("method_nl")) or e.get("method", ""),
                    "estimate": est,
                    "interval": ci,
                    "groups": " / ".join(
                        fmt_num(e.get(k), 0, self.lang) if not is_missing(e.get(k)) else "–"
                        for k in ("n_treated", "n_control")
                    ),
                    "_key": e["estimand"],
                    "_naive": bool(e.get("naive")),
                    "_order": (bool(e.get("naive")), not e.get("primary")),
                }
            )
        if not rows:
            return self.na(self.t("geen schattingen in de resultaten", "no estimates stored"))
        frame = pd.DataFrame(rows)
        if keys is not None:
            rank = {k: i for i, k in enumerate(keys)}
        else:  # estimands with a primary estimate first, then by name, numbers as numbers
            prim = {e["estimand"] for e in self.res.get("estimates", []) if e.get("primary")}
            seen = sorted(dict.fromkeys(frame["_key"]), key=_natural_key)
            rank = {k: (0 if k in prim else 1, i) for i, k in enumerate(seen)}
        frame["_rank"] = frame["_key"].map(rank)
        frame = frame.sort_values(["_rank", "_order"], kind="stable")
        has_naive = bool(frame["_naive"].any())
        frame = frame.drop(columns=["_order", "_rank", "_key", "_naive"])
        md = markdown_table(
            frame,
            lang=self.lang,
            labels={"groups": self.t("n (deeln. / vergel.)", "n (treated / comparison)")},
        )
        cap = caption or (
            self.t(
                "Schattingen met 95%-interval; de naïeve vergelijking staat ernaast",
                "Estimates with 95% intervals; the naive comparison beside them",
            )
            if has_naive
            else self.t("Schattingen met 95%-interval", "Estimates with 95% intervals")
        )
        return _labelled_table(md, label, cap)

    def table(
        self,
        name: str,
        *,
        label: str | None = None,
        caption: str | None = None,
        columns: Sequence[str] | None = None,
        labels: Mapping[str, str] | None = None,
        decimals: Mapping[str, int] | int | None = None,
        max_rows: int = 40,
        percent: Sequence[str] = (),
        points: Sequence[str] = (),
        values: Mapping[str, Mapping[str, str]] | None = None,
    ) -> str:
        """A stored table as a labelled Markdown table, disclosure-checked once more
        (``percent`` and ``points``: see :func:`markdown_table`). ``values`` shows a
        column's stored values in other words, e.g. the group names in English:
        ``{"groep": {"deelnemers": "participants"}}``; a value it does not list stays."""
        if self.res is None:
            return self.missing_results()
        df = self.res.table(name)
        if df is None:
            return self.na(self.t(f"tabel '{name}' ontbreekt", f"table '{name}' is missing"))
        entry = self.res["tables"][name]
        counts = list(entry.get("count_columns", []))
        risks = list(entry.get("risk_set_columns", []))
        df = check_table(
            df,
            name,
            count_columns=counts,
            risk_set_columns=risks,
            policy=DisclosurePolicy(threshold=self.policy.threshold, secondary=False),
        )
        log = (self.res.get("disclosure") or {}).get("log") or []
        mask = suppressed_cells(df, [e for e in log if e.get("output") == f"table:{name}"])
        if columns is not None:
            keep = [c for c in columns if c in df.columns]
            df, mask = df[keep], mask[keep]
        df = _readable_covariates(df, self.lang)
        for col, words in (values or {}).items():
            if col in df.columns:
                df = df.assign(**{col: [words.get(str(v), v) for v in df[col]]})
        md = markdown_table(
            df,
            lang=self.lang,
            count_columns=counts + risks,
            labels=labels,
            decimals=decimals,
            marker=self.policy.marker,
            max_rows=max_rows,
            suppressed=mask,
            percent=percent,
            points=points,
        )
        cap = caption or entry.get(f"caption_{self.lang}") or entry.get("caption_nl") or name
        note = ""
        if mask.to_numpy().any():
            note = self.t(
                f"{self.policy.marker}: minder dan {self.policy.threshold} personen; "
                f"x: onderdrukt (groep kleiner dan {self.policy.threshold} personen).",
                f"{self.policy.marker}: fewer than {self.policy.threshold} persons; "
                f"x: suppressed (group under {self.policy.threshold} persons).",
            )
        return _labelled_table(md, label if label is not None else _label("tbl", name), cap, note)

    def figure(self, name: str, *, label: str | None = None, caption: str | None = None) -> str:
        """A stored figure as a Markdown image with a label, or "niet beschikbaar"."""
        if self.res is None:
            return self.missing_results()
        path = self.res.figure_path(name, self.lang)
        if path is None:
            return self.na(self.t(f"figuur '{name}' ontbreekt", f"figure '{name}' is missing"))
        entry = self.res["figures"][name]
        cap = caption or entry.get(f"caption_{self.lang}") or entry.get("caption_nl") or name
        ident = label if label is not None else _label("fig", name)
        return _figure_markdown(cap, path.resolve(), ident)

    def heading(self, level: int, nl: str, en: str | None = None) -> str:
        """A Markdown heading in the report's language (blank lines around it)."""
        return f"\n{'#' * int(level)} {self.t(nl, en or nl)}\n"

    def ref(self, kind: str, name: str) -> str:
        """``@fig-name``/``@tbl-name`` when that figure/table exists, else words saying it is
        missing (so a missing output never breaks a cross-reference)."""
        present = self.has_figure(name) if kind == "fig" else self.has_table(name)
        if present:
            return "@" + _label(kind, name)
        what = {"fig": self.t("figuur", "figure"), "tbl": self.t("tabel", "table")}[kind]
        return self.t(f"({what} niet beschikbaar)", f"({what} not available)")

    def has_table(self, name: str) -> bool:
        return self.res is not None and self.res.table(name) is not None

    def has_figure(self, name: str) -> bool:
        return self.res is not None and self.res.figure_path(name) is not None

    # -- text lists ------------------------------------------------------------------------
    def _texts(self, key: str) -> list[str]:
        if self.res is None:
            return []
        out = []
        for a in self.res.get(key, []):
            text = a.get("text_nl") if self.lang == "nl" else (a.get("text_en") or a["text_nl"])
            out.append(text)
        return out

    def assumptions(self) -> str:
        items = self._texts("assumptions")
        if not items:
            return self.na(self.t("geen aannames vastgelegd", "no assumptions recorded"))
        return "\n" + "\n".join(f"- {a}" for a in items) + "\n"

    def note(self, name: str) -> str:
        """The text of the note called ``name`` in the report's language ('' if none), for a
        report that shows it where it belongs (then leave it out of :meth:`notes`)."""
        if self.res is None:
            return ""
        for note, text in zip(self.res.get("notes", []), self._texts("notes"), strict=True):
            if note.get("name") == name:
                return text
        return ""

    def notes(self, exclude: Sequence[str] = ()) -> str:
        """The notes for the reader (but those named in ``exclude``, shown elsewhere); the
        estimators' warnings after the others, under a lead-in that says what they are (and,
        in Dutch, that a warning without a Dutch text is shown in English, as the software
        words it)."""
        if self.res is None:
            return ""
        plain, warned, english = [], [], False
        for note, text in zip(self.res.get("notes", []), self._texts("notes"), strict=True):
            if note.get("name") in exclude:
                continue
            if note.get("kind") == "warning":
                warned.append(text)
                english |= note.get("text_nl") == note.get("text_en")
            else:
                plain.append(text)
        out = "".join(f"- {a}\n" for a in plain)
        if warned:
            lead = self.t(
                "Meldingen van de schattingsmethoden (technisch; waar de software geen "
                "Nederlandse tekst heeft, in het Engels):"
                if english
                else "Meldingen van de schattingsmethoden (technisch):",
                "Messages from the estimation methods:",
            )
            out += ("\n" if plain else "") + lead + "\n\n" + "".join(f"- {a}\n" for a in warned)
        return "\n" + out if out else ""

    # -- data flow --------------------------------------------------------------------------
    @property
    def has_flow(self) -> bool:
        return self.res is not None and not self.res.flow.empty

    def flow_table(self, label: str | None = "tbl-dataflow") -> str:
        if self.res is None:
            return self.missing_results()
        flow = self.res.flow
        if flow.empty:
            return self.na(self.t("geen datastroom vastgelegd", "no data flow recorded"))
        for c in ("rows_in", "rows_out", "dropped"):
            flow[c] = pd.to_numeric(flow[c], errors="coerce").astype("Float64")
        hidden = pd.DataFrame(False, index=flow.index, columns=flow.columns)
        hidden["dropped"] = flow_suppressed(flow).to_numpy()
        flow = flow_for_report(flow, self.lang)
        md = markdown_table(
            flow,
            lang=self.lang,
            count_columns=["rows_in", "rows_out", "dropped"],
            marker=self.policy.marker,
            suppressed=hidden.reindex(columns=flow.columns, fill_value=False),
        )
        cap = self.t(
            "Datastroom: van extract tot analysebestand", "Data flow: from extract to analysis"
        )
        base = self.flow_rounding
        if base:
            cap += self.t(
                f" (aantallen rijen afgerond op veelvouden van {base}; aantallen in de kolom "
                "Reden niet afgerond)",
                f" (row counts rounded to multiples of {base}; counts in the reasons not rounded)",
            )
        return _labelled_table(md, label, cap)

    @property
    def flow_rounding(self) -> int | None:
        """The multiple the data flow's row counts are rounded to (None: exact), as the
        results file records it (:func:`werkeffect.disclosure.flow_rounding`)."""
        from werkeffect.disclosure import flow_rounding

        disc = (self.res.get("disclosure") if self.res else None) or {}
        if "flow_rounding" in disc:
            return disc["flow_rounding"]
        # a results file written before the key existed: check_flow's rule on its flow
        return flow_rounding((self.res.get("flow") if self.res else None) or [], policy=self.policy)

    def flow_diagram(self):
        """A CONSORT-style diagram of the data flow (matplotlib Figure), or None."""
        if self.res is None or self.res.flow.empty:
            return None
        return flow_diagram(self.res.flow, lang=self.lang, marker=self.policy.marker)

    def flow_figure(self, label: str = "fig-dataflow") -> str:
        """The data-flow diagram as a labelled Markdown figure with its caption in the
        report's language (an ``output: asis`` chunk prints it; a chunk's ``fig-cap`` is one
        fixed text). The SVG goes to a content-named file, so the same flow gives the same
        file and the rendered report stays byte-identical: in the render's build folder
        (``WERKEFFECT_FIGURE_DIR``, removed after the render), else in the system's temporary
        folder."""
        import hashlib
        import tempfile

        import matplotlib.pyplot as plt

        from werkeffect.reports._kernel import FIGURE_DIR_ENV
        from werkeffect.results.files import figure_svg

        fig = self.flow_diagram()
        if fig is None:
            return self.na(self.t("datastroom", "data flow"))
        svg = figure_svg(fig)
        plt.close(fig)
        given = os.environ.get(FIGURE_DIR_ENV)
        folder = Path(given) if given else Path(tempfile.gettempdir()) / "werkeffect-report-figures"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{hashlib.sha256(svg).hexdigest()[:32]}.svg"
        if not path.exists():
            path.write_bytes(svg)
        cap = self.t(
            "Datastroom van extract tot analysebestand", "Data flow from extract to analysis"
        )
        return _figure_markdown(cap, path, label)

    # -- reproducibility ----------------------------------------------------------------------
    def reproducibility(self, label: str | None = "tbl-reproduceerbaarheid") -> str:
        if self.res is None:
            return self.missing_results()
        r = self.res
        rows = [
            (self.t("Evaluatie", "Evaluation"), r.get("name", "")),
            (
                self.t("Datavingerafdruk (SHA-256)", "Data fingerprint (SHA-256)"),
                f"`{r.get('data_fingerprint') or '–'}`",
            ),
            (
                self.t("Peildatum extract", "Extract date"),
                fmt_date(r.get("extract_date"), self.lang),
            ),
            ("Seed", str(r.get("seed", "–"))),
            (self.t("Commando", "Command"), f"`{r.get('command') or '–'}`"),
            ("werkeffect", r.get("werkeffect_version", "")),
            ("Python", r.get("python", "")),
        ]
        rows += [(k, v) for k, v in sorted((r.get("packages") or {}).items())]
        disc = r.get("disclosure") or {}
        rows.append(
            (
                self.t("Drempel onthullingscontrole", "Disclosure threshold"),
                self.t(
                    f"{disc.get('threshold', 10)} personen", f"{disc.get('threshold', 10)} persons"
                ),
            )
        )
        rounding, flow_base = disc.get("rounding"), self.flow_rounding
        if rounding:
            said = self.t(f"op veelvouden van {rounding}", f"to multiples of {rounding}")
        else:
            said = self.t("geen", "none")
        if flow_base and flow_base != rounding:
            others = (
                self.t("andere aantallen niet afgerond", "other counts not rounded")
                if not rounding
                else self.t(f"andere aantallen {said}", f"other counts {said}")
            )
            said = self.t(
                f"rijen in de datastroom op veelvouden van {flow_base} (een stap verwijderde "
                f"minder dan {self.policy.threshold} rijen); {others}",
                f"rows of the data flow to multiples of {flow_base} (a step removed fewer than "
                f"{self.policy.threshold} rows); {others}",
            )
        rows.append((self.t("Afronding aantallen", "Rounding of counts"), said))
        frame = pd.DataFrame(rows, columns=["item", "value"])
        md = markdown_table(
            frame,
            lang=self.lang,
            labels={"item": self.t("Onderdeel", "Item"), "value": self.t("Waarde", "Value")},
        )
        md = md.replace("\\|", "|")
        return _labelled_table(md, label, self.t("Gegevens om te reproduceren", "Provenance"))

    def disclosure_log(self, label: str | None = "tbl-outputcontrole") -> str:
        if self.res is None:
            return self.missing_results()
        log = (self.res.get("disclosure") or {}).get("log") or []
        if not log:
            return self.t(
                "\nDe outputcontrole hoefde niets te onderdrukken of af te ronden.\n",
                "\nThe output check suppressed or rounded nothing.\n",
            )
        t = self.policy.threshold
        i = 0 if self.lang == "nl" else 1
        rules = {
            "small_count": (f"minder dan {t} personen", f"fewer than {t} persons"),
            "secondary": (
                "tweede cel, anders terug te rekenen uit een totaal",
                "second cell, else recoverable from a total",
            ),
            "small_group": (f"groep kleiner dan {t} personen", f"group under {t} persons"),
            "risk_set": (f"risicoset kleiner dan {t} personen", f"risk set under {t} persons"),
            "small_share": (
                f"aandeel van minder dan {t} personen (of de rest van de groep)",
                f"share of fewer than {t} persons (or the rest of the group)",
            ),
            "text_count": (
                f"aantal onder {t} personen in een tekst",
                f"count under {t} persons in a text",
            ),
            "differencing": (
                f"verschil met een ander aantal kleiner dan {t} personen",
                f"differs from another count by fewer than {t} persons",
            ),
            "rounding": ("afronding van aantallen", "rounding of counts"),
        }
        actions = {
            "suppressed": ("onderdrukt", "suppressed"),
            "cut": ("afgekapt", "cut"),
            "rounded": ("afgerond", "rounded"),
        }
        rows = []
        for e in log:
            output, row = str(e.get("output", "")), str(e.get("row", ""))
            kind, _, name = output.partition(":")
            if output == "flow":
                where = self.t("datastroom", "data flow")
                step, _, table = row.rpartition(" (")
                if step and table.endswith(")"):
                    row = (
                        f"{flow_step_label(step, self.lang)} "
                        f"({flow_table_label(table[:-1], self.lang)})"
                    )
            elif kind == "table":
                entry = (self.res.get("tables") or {}).get(name) or {}
                where = entry.get(f"caption_{self.lang}") or entry.get("caption_nl") or name
                where = self.t("tabel: ", "table: ") + where
                row = _log_row_label(row, self.lang)
            elif kind == "estimate":
                recs = [r for r in self.res.get("estimates") or [] if r.get("estimand") == name]
                labels = [r.get(f"label_{self.lang}") or r.get("label_nl") for r in recs]
                where = self.t("schatting: ", "estimate: ") + next((x for x in labels if x), name)
                by = next((r for r in recs if r.get("method") == row), None)
                if by is not None and self.lang == "nl" and by.get("method_nl"):
                    row = by["method_nl"]
            elif kind == "value":
                entry = (self.res.get("values") or {}).get(name) or {}
                words = entry.get(f"label_{self.lang}") or entry.get("label_nl") or name
                where = self.t("waarde: ", "value: ") + words
            elif kind == "note":
                where = self.t("toelichting", "note") + (f" ({name})" if name else "")
            else:
                where = output
            rule, action = str(e.get("rule", "")), str(e.get("action", ""))
            rows.append(
                {
                    "output": where,
                    "column": log_column_label(str(e.get("column", "")), self.lang),
                    "row": row,
                    "rule": rules.get(rule, (rule, rule))[i],
                    "action": actions.get(action, (action, action))[i],
                }
            )
        md = markdown_table(
            pd.DataFrame(rows),
            lang=self.lang,
            labels={
                "output": self.t("Uitvoer", "Output"),
                "column": self.t("Kolom", "Column"),
                "row": self.t("Rij", "Row"),
                "rule": self.t("Reden", "Reason"),
                "action": self.t("Actie", "Action"),
            },
        )
        note = ""
        base = self.flow_rounding
        if base and any(e.get("output") == "flow" and e.get("rule") == "small_count" for e in log):
            note = self.t(
                f"Een stap in de datastroom verwijderde minder dan {t} rijen. Dat aantal staat "
                f"er niet, en de aantallen rijen van alle stappen (Rijen in, Rijen uit, "
                f"Verwijderd) zijn afgerond op veelvouden van {base}, zodat het niet uit de "
                "verschillen terug te rekenen is. De aantallen in de kolom Reden zijn niet "
                "afgerond.",
                f"A step of the data flow removed fewer than {t} rows. That number is not shown, "
                f"and the row counts of every step (rows in, rows out, removed) are rounded to "
                f"multiples of {base}, so it cannot be recovered from the differences. The counts "
                "in the reasons are not rounded.",
            )
        return _labelled_table(
            md,
            label,
            self.t("Logboek outputcontrole (onthullingscontrole)", "Output-check log"),
            note,
        )


def _log_row_label(row: str, lang: str) -> str:
    """A table row as the output-check log names it (``covariate=age_45_54, type=binary``)
    in words: covariates and their kind by their labels, other keys as they are."""
    from werkeffect.reports.labels import covariate_label, kind_label

    if "=" not in row:
        return row
    parts = []
    for part in row.split(", "):
        key, sep, value = part.partition("=")
        if not sep:
            parts.append(part)
        elif key in ("covariate", "kenmerk", "variable"):
            parts.append(covariate_label(value, lang))
        elif key in ("type", "kind", "soort"):
            parts.append(kind_label(value, lang))
        else:
            parts.append(part)
    return ", ".join(parts)


def _figure_markdown(caption: str, path: Path, ident: str) -> str:
    """A labelled Markdown figure (numbered and cross-referenced by the engine)."""
    return f"\n![{caption}]({path.as_posix()}){{#{ident}}}\n"


def _label(kind: str, name: str) -> str:
    return f"{kind}-" + name.replace("_", "-").replace(".", "-")


def _bound_fmt(scale: str) -> Callable[..., str]:
    def f(x: Any, lang: str = "nl") -> str:
        return _bound(x, scale, lang)

    return f


def flow_diagram(flow: pd.DataFrame, lang: str = "nl", marker: str = "<10"):
    """Draw the data-flow record as boxes with arrows (the CONSORT style)."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch

    hidden = flow_suppressed(flow).to_numpy()
    flow = flow_for_report(flow, lang)
    n = len(flow)
    fig, ax = plt.subplots(figsize=(7.0, 0.95 * n + 0.6))
    ax.set_xlim(0, 10)
    ax.set_ylim(-n + 0.3, 1.0)
    ax.axis("off")
    blue, grey = "#00468b", "#6b7785"
    for i, r in enumerate(flow.itertuples(index=False)):
        y = -i
        rows_out = fmt_num(r.rows_out, 0, lang) if not is_missing(r.rows_out) else marker
        text = f"{r.step} ({r.table})\n{rows_out} " + ("rijen" if lang == "nl" else "rows")
        ax.add_patch(
            FancyBboxPatch(
                (0.3, y - 0.32), 5.0, 0.64, boxstyle="round,pad=0.02", fc="#e8eef6", ec=blue, lw=1
            )
        )
        ax.text(2.8, y, text, ha="center", va="center", fontsize=8.5, color="#1a1a1a")
        dropped = r.dropped
        if is_missing(dropped) or dropped != 0:
            if is_missing(dropped) and not hidden[i]:  # rows added: the reason says how many
                lab = ""
            else:
                d = marker if hidden[i] else fmt_num(dropped, 0, lang)
                lab = ("verwijderd: " if lang == "nl" else "removed: ") + d + "\n"
            reason = str(r.reason)
            if len(reason) > 42:
                reason = reason[:40] + "…"
            ax.add_patch(
                FancyBboxPatch(
                    (6.0, y - 0.3), 3.8, 0.6, boxstyle="round,pad=0.02", fc="white", ec=grey, lw=0.8
                )
            )
            ax.text(7.9, y, f"{lab}{reason}", ha="center", va="center", fontsize=7.5, color=grey)
            ax.annotate(
                "",
                xy=(6.0, y),
                xytext=(5.3, y),
                arrowprops={"arrowstyle": "->", "color": grey, "lw": 0.8},
            )
        if i < n - 1:
            ax.annotate(
                "",
                xy=(2.8, y - 0.68),
                xytext=(2.8, y - 0.32),
                arrowprops={"arrowstyle": "->", "color": blue, "lw": 1},
            )
    fig.tight_layout()
    return fig


def load_report(results: str | os.PathLike, name: str, lang: str = "nl") -> Report:
    """The :class:`Report` for one evaluation (missing results give 'niet beschikbaar')."""
    return Report(results, name, lang)
