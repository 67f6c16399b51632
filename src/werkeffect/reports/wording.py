"""Conclusions in words that follow the numbers.

A report must never say "jobcoaching helps", "a loss is not excluded" or "the naive
comparison is twice as large" when the estimate says otherwise. These functions turn an
estimate and its interval into the words of a conclusion, in Dutch or English, so the text
of a report changes with the results instead of being written for one run.
"""

from __future__ import annotations

import math
from typing import Literal

from werkeffect.formatting import as_float, fmt_euro, fmt_interval, fmt_num

Side = Literal["above", "below", "spans", "unknown"]

#: a naive estimate within this factor of the causal one is "about as large"
ABOUT_SAME = 1.5


def interval_side(lower: object, upper: object, null: float = 0.0) -> Side:
    """Where an interval lies against ``null`` (0 for differences, 1 for ratios):
    ``"above"`` (lower bound above it), ``"below"``, ``"spans"`` (contains it) or
    ``"unknown"`` (a bound is missing)."""
    lo, hi = as_float(lower), as_float(upper)
    if lo is None or hi is None or math.isnan(lo) or math.isnan(hi):
        return "unknown"
    if lo > null:
        return "above"
    if hi < null:
        return "below"
    return "spans"


def naive_versus_causal(
    naive: object, causal: object, lang: str = "nl", than: str | None = None
) -> str:
    """How a naive comparison relates to the causal estimate, as a predicate: ``"is 2,4 keer
    zo groot als het effect"``, ``"is kleiner dan ..."``, ``"is ongeveer even groot als ..."``
    or ``"heeft het omgekeerde teken van ..."``; ``than`` names the causal estimate (default
    "het effect" / "the effect"). ``""`` when either is missing or the effect is zero."""
    n, c = as_float(naive), as_float(causal)
    if n is None or c is None or c == 0 or math.isnan(n) or math.isnan(c):
        return ""
    nl = lang == "nl"
    obj = than or ("het effect" if nl else "the effect")
    if n * c < 0:
        return f"heeft het omgekeerde teken van {obj}" if nl else f"has the opposite sign of {obj}"
    ratio = n / c
    if ratio >= ABOUT_SAME:
        times = fmt_num(ratio, 1, lang)
        return (
            f"is {times} keer zo groot als {obj}" if nl else f"is {times} times as large as {obj}"
        )
    if ratio <= 1 / ABOUT_SAME:
        return f"is kleiner dan {obj}" if nl else f"is smaller than {obj}"
    return f"is ongeveer even groot als {obj}" if nl else f"is about as large as {obj}"


def net_result(lower: object, upper: object, lang: str = "nl") -> str:
    """The net financial result of an interval of euros, as the rest of a sentence whose
    subject is the programme: ``"kost per saldo meer dan het aan uitkeringen bespaart:
    tussen € 9,8 miljoen en € 14,0 miljoen"``, ``"levert per saldo tussen ... op"`` or
    ``"heeft een netto resultaat tussen ...: winst en verlies zijn allebei mogelijk"``."""
    nl = lang == "nl"
    side = interval_side(lower, upper)
    if side == "unknown":
        return "heeft een onbekend netto resultaat" if nl else "has an unknown net result"
    lo, hi = as_float(lower), as_float(upper)
    if side == "below":
        between = fmt_interval(-hi, -lo, fmt_euro, lang, millions=True)
        return (
            f"kost per saldo meer dan het aan uitkeringen bespaart: {between}"
            if nl
            else f"costs more than it saves in benefits: {between} net"
        )
    between = fmt_interval(lo, hi, fmt_euro, lang, millions=True)
    if side == "above":
        return f"levert per saldo {between} op" if nl else f"yields {between} net"
    return (
        f"heeft een netto resultaat {between}: winst en verlies zijn allebei mogelijk"
        if nl
        else f"has a net result {between}: both a gain and a loss are possible"
    )


def parallel_trends_breakdown(table, lang: str = "nl") -> str:
    """What the sensitivity to parallel trends (Rambachan & Roth relative magnitudes, the
    default of ``honest_bounds``: M is a multiple of the largest pre-period change; columns
    ``M``, ``lower``, ``upper``) says, as a sentence: the smallest M whose robust interval
    holds no effect, or that none of the M's in the table reaches it."""
    nl = lang == "nl"
    if table is None or not {"M", "lower", "upper"} <= set(table.columns) or table.empty:
        return ""
    rows = table.sort_values("M")
    spans = [
        interval_side(lo, hi) == "spans"
        for lo, hi in zip(rows["lower"], rows["upper"], strict=True)
    ]
    ms = rows["M"].to_list()
    if not any(spans):
        top = fmt_num(ms[-1], 1, lang)
        return (
            f"Ook bij M = {top} bevat het interval nul niet: de conclusie houdt stand bij "
            "afwijkingen van de parallelle trends tot die grootte."
            if nl
            else f"Even at M = {top} the interval excludes zero: the conclusion holds for "
            "deviations from parallel trends up to that size."
        )
    first = ms[spans.index(True)]
    if first == 0:
        return (
            "Al zonder afwijking (M = 0) bevat het interval nul."
            if nl
            else "Even without a deviation (M = 0) the interval contains zero."
        )
    m = fmt_num(first, 1, lang)
    return (
        f"Bij M = {m} bevat het interval nul al: een afwijking van de trends na de start van "
        f"hooguit {m} keer de grootste vóór de start is genoeg om het effect niet meer van nul "
        "te onderscheiden."
        if nl
        else f"At M = {m} the interval already contains zero: a post-start deviation of at "
        f"most {m} times the largest one before the start is enough to make the effect "
        "indistinguishable from zero."
    )
