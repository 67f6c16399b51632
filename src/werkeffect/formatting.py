"""Numbers and dates in Dutch or English words, for every layer that writes for a reader.

Dutch conventions by default (decimal comma, thousands point, "€ 1.234", "12,5%",
"tussen 1,2 en 3,4", a true minus sign); ``lang="en"`` gives English ones. Estimator plots,
data-flow reasons and reports all format through here, so a number reads the same
everywhere.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "NA_TEXT",
    "as_float",
    "fmt_date",
    "fmt_euro",
    "fmt_interval",
    "fmt_month",
    "fmt_num",
    "fmt_p",
    "fmt_pct",
    "is_missing",
    "nl_date",
    "nl_int",
    "nl_month",
]

NA_TEXT = {"nl": "niet beschikbaar", "en": "not available"}
MONTHS_NL = (
    "januari februari maart april mei juni juli augustus september oktober november december"
).split()
MONTHS_EN = (
    "January February March April May June July August September October November December"
).split()


def is_missing(x: Any) -> bool:
    """None, pd.NA or a float NaN."""
    if x is None or x is pd.NA:
        return True
    try:
        return bool(isinstance(x, float | np.floating) and math.isnan(x))
    except TypeError:
        return False


def as_float(x: Any) -> float | None:
    """A stored number as a float: None when missing; the strings "inf"/"-inf" (how results
    files store an unbounded value) as infinities."""
    if is_missing(x):
        return None
    if x == "inf":
        return math.inf
    if x == "-inf":
        return -math.inf
    return float(x)


def fmt_num(x: Any, decimals: int = 0, lang: str = "nl", sign: bool = False) -> str:
    """``1234.5`` → ``"1.234,5"`` (nl) or ``"1,234.5"`` (en); missing → "niet beschikbaar"."""
    v = as_float(x)
    if v is None:
        return NA_TEXT.get(lang, NA_TEXT["nl"])
    if math.isinf(v):
        inf = {"nl": "onbegrensd", "en": "unbounded"}[lang]
        return inf if v > 0 else f"-{inf}"
    text = f"{v:{'+' if sign else ''},.{int(decimals)}f}"
    if text.lstrip("+-").strip("0.,") == "":  # no "-0,0"
        text = text.replace("-", "").replace("+", "")
    if lang == "nl":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text.replace("-", "−") if lang == "nl" else text


def fmt_p(p: Any, lang: str = "nl") -> str:
    """A p-value as a reader should see it: ``"0,37"``, ``"0,004"`` or ``"< 0,001"`` (never
    ``"0,00"``, which reads as certainty)."""
    v = as_float(p)
    if v is None or math.isnan(v):
        return NA_TEXT.get(lang, NA_TEXT["nl"])
    if v < 0.001:
        return "< " + fmt_num(0.001, 3, lang)
    return fmt_num(v, 3 if v < 0.01 else 2, lang)


def fmt_pct(
    p: Any, decimals: int = 1, lang: str = "nl", points: bool = False, sign: bool = False
) -> str:
    """A probability as a percentage (``0.123`` → ``"12,3%"``); ``points=True`` for a
    difference of probabilities (``"12,3 procentpunt"``)."""
    v = as_float(p)
    if v is None:
        return NA_TEXT.get(lang, NA_TEXT["nl"])
    num = fmt_num(v * 100, decimals, lang, sign=sign)
    if points:
        unit = {"nl": "procentpunt", "en": "percentage points"}[lang]
        return f"{num} {unit}"
    return f"{num}%"


def fmt_euro(x: Any, decimals: int = 0, lang: str = "nl", millions: bool = False) -> str:
    """``1234567`` → ``"€ 1.234.567"``; negative amounts ``"€ −1.234"``; with
    ``millions=True`` ``"€ 1,2 miljoen"``."""
    v = as_float(x)
    if v is None:
        return NA_TEXT.get(lang, NA_TEXT["nl"])
    if millions and math.isfinite(v):
        unit = {"nl": "miljoen", "en": "million"}[lang]
        sep = " " if lang == "nl" else ""
        return f"€{sep}{fmt_num(v / 1e6, 1, lang)} {unit}"
    return f"€ {fmt_num(v, decimals, lang)}" if lang == "nl" else f"€{fmt_num(v, decimals, lang)}"


def fmt_interval(
    lower: Any,
    upper: Any,
    fmt: Callable[..., str] | None = None,
    lang: str = "nl",
    **kwargs: Any,
) -> str:
    """``"tussen 1,2 en 3,4"`` (nl) / ``"between 1.2 and 3.4"`` (en), each bound formatted
    by ``fmt`` (default :func:`fmt_num`) with ``kwargs``.

    A bound that is not zero but would show as zero ("tussen −7,7 en 0,0" for an upper bound
    of −0.03) gets up to three more decimals: whether an interval holds zero is what a reader
    looks for."""
    fmt = fmt or fmt_num
    lo, hi = as_float(lower), as_float(upper)
    if lo is None or hi is None:
        return NA_TEXT.get(lang, NA_TEXT["nl"])
    a, b = (_nonzero_bound(v, fmt, lang, kwargs) for v in (lo, hi))
    if lang == "nl":
        return f"tussen {a} en {b}"
    return f"between {a} and {b}"


def _nonzero_bound(v: float, fmt: Callable[..., str], lang: str, kwargs: dict) -> str:
    text = fmt(v, lang=lang, **kwargs)
    if v == 0 or not math.isfinite(v) or any(c in "123456789" for c in text):
        return text
    decimals = int(kwargs.get("decimals", 0))
    for more in (1, 2, 3):
        try:
            finer = fmt(v, lang=lang, **{**kwargs, "decimals": decimals + more})
        except TypeError:  # a formatter without decimals
            return text
        if any(c in "123456789" for c in finer):
            return finer
    return text


def fmt_date(d: Any, lang: str = "nl") -> str:
    """``2019-10-01`` → ``"1 oktober 2019"`` / ``"1 October 2019"``."""
    if is_missing(d) or d == "":
        return NA_TEXT.get(lang, NA_TEXT["nl"])
    return f"{pd.Timestamp(d).day} {fmt_month(d, lang)}"


def fmt_month(d: Any, lang: str = "nl") -> str:
    """``2020-01`` → ``"januari 2020"`` / ``"January 2020"``."""
    if is_missing(d) or d == "":
        return NA_TEXT.get(lang, NA_TEXT["nl"])
    ts = pd.Timestamp(d)
    months = MONTHS_NL if lang == "nl" else MONTHS_EN
    return f"{months[ts.month - 1]} {ts.year}"


def nl_int(n: int) -> str:
    """A whole number with Dutch thousands points (9.930), for the Dutch reasons."""
    return f"{int(n):,}".replace(",", ".")


def nl_date(date: Any) -> str:
    """A date in Dutch words (1 januari 2015), for the Dutch reasons."""
    return fmt_date(date, "nl")


def nl_month(date: Any) -> str:
    """A month in Dutch words (januari 2015), for the Dutch reasons."""
    return fmt_month(date, "nl")
