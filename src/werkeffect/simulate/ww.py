"""WW-naar-bijstand: WW exhaustees in Groningen and comparison municipalities.

DiD time is the half-year of ``ww_max_end`` (the end of the entitlement, known in advance and
what decides the contact): period 1 = 2017H1, 2 = 2017H2, ..., 16 = 2024H2
(:func:`ww_period`). A municipality that adopts the approach on date A contacts everyone still
on WW at ``ww_max_end - 6 months`` if that date is on or after A; its group ``g`` is the period
of ``A + 6 months`` (the first period with contacts; adoption on 1 January or 1 July gives
cleanly treated periods). The outcome is inflow into bijstand within h months after the actual
WW end; with a linear probability model the untreated inflow probability is additive in
municipality, period and person effects, so parallel trends hold exactly unless
``ww_trend_diff`` adds a differential linear trend.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from werkeffect.simulate.engine import CalendarTable
from werkeffect.simulate.params import DAYS_PER_MONTH, WW_MUNICIPALITIES, SimParams, to_months
from werkeffect.simulate.rng import Streams
from werkeffect.simulate.world import Population, draw_persons, features, linear_index

_ORIGIN = np.datetime64("2000-01-01", "D")


def _day(months: np.ndarray) -> np.ndarray:
    return np.floor(np.asarray(months, dtype=float) * DAYS_PER_MONTH + 1e-7).astype(np.int64)


def _months(days: np.ndarray) -> np.ndarray:
    """Calendar months of the middle of a day (so ``_day(_months(d)) == d``)."""
    return (np.asarray(days, dtype=float) + 0.5) / DAYS_PER_MONTH


def _dates(days: np.ndarray) -> np.ndarray:
    return _ORIGIN + np.asarray(days, dtype=np.int64).astype("timedelta64[D]")


def ww_period(calendar_month: np.ndarray) -> np.ndarray:
    """Half-year index of a calendar time (months since 2000-01-01): 2017H1 = 1.

    Computed from the calendar date (``ORIGIN + floor(months * 365.25/12)`` days), so it equals
    the half-year of the date written to the tables.
    """
    return period_of_dates(_dates(_day(calendar_month)))


def period_of_dates(dates) -> np.ndarray:
    """Half-year index of dates (datetime64 or Timestamps): 2017H1 = 1, 2024H2 = 16."""
    d = np.asarray(dates, dtype="datetime64[D]")
    month = d.astype("datetime64[M]").astype(np.int64)  # months since 1970-01
    year = month // 12 + 1970
    return (year - 2017) * 2 + (month % 12) // 6 + 1


def _minus_months(days: np.ndarray, k: int) -> np.ndarray:
    """The same day-of-month ``k`` calendar months earlier (clipped to the month end)."""
    d = _dates(days)
    m = d.astype("datetime64[M]")
    dom = (d - m.astype("datetime64[D]")).astype(np.int64)
    target = m - np.timedelta64(k, "M")
    length = ((target + 1).astype("datetime64[D]") - target.astype("datetime64[D]")).astype(
        np.int64
    )
    out = target.astype("datetime64[D]") + np.minimum(dom, length - 1).astype("timedelta64[D]")
    return (out - _ORIGIN).astype(np.int64)


def period_label(t: int) -> str:
    return f"{2017 + (t - 1) // 2}H{(t - 1) % 2 + 1}"


def municipality_names(p: SimParams) -> list[str]:
    if not 0 <= p.ww_municipalities <= len(WW_MUNICIPALITIES):
        raise ValueError(f"ww_municipalities must be between 0 and {len(WW_MUNICIPALITIES)}")
    return ["Groningen"] + [name for name, _ in WW_MUNICIPALITIES[: p.ww_municipalities]]


@dataclass
class WWRecords:
    pop: Population  # one person per WW record
    municipality: np.ndarray
    start: np.ndarray
    max_end: np.ndarray
    end: np.ndarray
    contact: np.ndarray  # calendar month or nan
    period: np.ndarray
    group: np.ndarray  # adoption period of the municipality (0 = never)
    inflow: np.ndarray  # observed: flows into bijstand within 12 months
    inflow_time: np.ndarray  # months after WW end (if inflow)
    y0: np.ndarray  # potential inflow within 12 months without / with contact
    y1: np.ndarray
    treated_unit: np.ndarray  # municipality-period is post-adoption


def simulate_ww(streams: Streams, p: SimParams) -> WWRecords:
    gen = streams.generator("ww")
    names = municipality_names(p)
    sizes = np.array([1.0] + [s for _, s in WW_MUNICIPALITIES[: p.ww_municipalities]])
    d0 = int(_day(to_months(p.ww_first_end)))
    d1 = int(_day(to_months(p.ww_last_end)))
    # monthly Poisson counts per municipality, days uniform within the calendar month
    first_m = _dates(np.array([d0])).astype("datetime64[M]")[0]
    last_m = _dates(np.array([d1])).astype("datetime64[M]")[0]
    months = np.arange(first_m, last_m + 1)
    mstart = (months.astype("datetime64[D]") - _ORIGIN).astype(np.int64)
    mlen = ((months + 1).astype("datetime64[D]") - months.astype("datetime64[D]")).astype(np.int64)
    lam = p.ww_rate_groningen * p.scale * sizes[:, None] * np.ones(months.size)[None, :]
    counts = gen.poisson(lam)
    muni = np.repeat(np.repeat(np.arange(len(names)), months.size), counts.ravel())
    k = np.repeat(np.tile(np.arange(months.size), len(names)), counts.ravel())
    max_end_day = mstart[k] + np.floor(gen.random(muni.size) * mlen[k]).astype(np.int64)
    max_end_day = np.clip(max_end_day, d0, d1)
    n = muni.size
    dur = gen.integers(3, 25, size=n)  # entitlement in months
    start_day = max_end_day - np.round(dur * DAYS_PER_MONTH).astype(np.int64)
    early = gen.random(n) < p.ww_p_early_end
    end_day = np.where(
        early,
        start_day + np.floor((max_end_day - start_day) * gen.random(n)).astype(np.int64),
        max_end_day,
    )
    max_end, start, end = _months(max_end_day), _months(start_day), _months(end_day)
    pop = draw_persons(
        gen,
        start,
        p,
        age_probs=(0.15, 0.45, 0.40),
        education_probs=(0.35, 0.45, 0.20),
        statushouder_prob=0.0,
        p_health=0.12,
        municipality=muni,
    )
    pop.entry[:] = np.nan
    period = period_of_dates(_dates(max_end_day))
    # adoption: contact ww_contact_months calendar months before the maximum end date
    adopt_day = np.full(len(names), np.iinfo(np.int64).max)
    for name, date in p.ww_adoption.items():
        if name not in names:
            raise ValueError(f"ww_adoption names {name!r}, not one of the municipalities {names}")
        adopt_day[names.index(name)] = int(_day(to_months(date)))
    adopted = adopt_day < np.iinfo(np.int64).max
    kc = int(round(p.ww_contact_months))
    group_of = np.zeros(len(names), dtype=np.int64)
    for j in np.flatnonzero(adopted):
        first = _minus_months(np.array([adopt_day[j]]), -kc)  # adoption + k months
        group_of[j] = int(period_of_dates(_dates(first))[0])
    group = group_of[muni]
    contact_day = _minus_months(max_end_day, kc)
    contacted = adopted[muni] & (contact_day >= adopt_day[muni]) & (end_day >= contact_day)
    contact_at = _months(contact_day)
    treated_unit = (group > 0) & (period >= group)
    # inflow probabilities (linear probability model)
    age = (start - pop.birth) / 12.0
    f = features(pop, np.arange(n), age)
    mun_eff = np.resize(np.asarray(p.ww_municipality_effects, dtype=float), len(names))
    per_eff = p.ww_period_effect_amplitude * np.sin(2 * np.pi * period / 8.0)
    if p.ww_calendar_effects:  # by the calendar year of the maximum end date
        per_eff = per_eff + CalendarTable.from_dict(p.ww_calendar_effects).at(max_end)
    base = p.ww_base_inflow + mun_eff[muni] + per_eff + linear_index(p.ww_beta, f, n)
    trend_m = names.index(p.ww_trend_municipality) if p.ww_trend_municipality in names else 0
    base = base + p.ww_trend_diff * (period - 1) * (muni == trend_m)
    base = np.where(early, base * p.ww_early_end_factor, base)
    eff = p.ww_effect + p.ww_effect_growth * np.maximum(period - group, 0)
    eff = np.where(early, eff * p.ww_early_end_factor, eff)
    p0 = base
    p1 = base + np.where(contacted, eff, 0.0)
    if np.any((p0 < 0) | (p0 > 1) | (p1 < 0) | (p1 > 1)):
        warnings.warn(
            "WW inflow probabilities left [0, 1] and were clipped; parallel trends then hold "
            "only approximately (check ww_* parameters)",
            UserWarning,
            stacklevel=3,
        )
    v = gen.random(n)
    y0 = v < np.clip(p0, 0, 1)
    y1 = v < np.clip(p1, 0, 1)
    inflow = np.where(contacted, y1, y0)
    w = gen.random(n)
    inflow_time = np.maximum(12.0 * w**2, 1.0 / DAYS_PER_MONTH)
    return WWRecords(
        pop=pop,
        municipality=muni,
        start=start,
        max_end=max_end,
        end=end,
        contact=np.where(contacted, contact_at, np.nan),
        period=period,
        group=group,
        inflow=inflow,
        inflow_time=inflow_time,
        y0=y0,
        y1=y1,
        treated_unit=treated_unit,
    )


def ww_truth(ww: WWRecords) -> dict[str, float]:
    """True ATTs of the WW approach (see docs/simulator.md)."""
    out: dict[str, float] = {}
    tu = ww.treated_unit
    for h in (3, 6, 12):
        within = ww.inflow_time <= h
        d = (ww.y1 & within).astype(float) - (ww.y0 & within).astype(float)
        out[f"ww.att_inflow_{h}m"] = float(d[tu].mean()) if tu.any() else float("nan")
        if h == 6:
            groups = sorted(set(ww.group[ww.group > 0].tolist()))
            periods = sorted(set(ww.period.tolist()))
            for g in groups:
                for t in periods:
                    sel = (ww.group == g) & (ww.period == t)
                    if sel.any():
                        out[f"ww.att_gt.{g}.{t}"] = float(d[sel].mean())
    return out
