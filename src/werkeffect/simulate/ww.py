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

from werkeffect.simulate.params import WW_MUNICIPALITIES, SimParams, to_months
from werkeffect.simulate.rng import Streams
from werkeffect.simulate.world import Population, draw_persons, features, linear_index


def ww_period(calendar_month: np.ndarray) -> np.ndarray:
    """Half-year index of a calendar month (months since 2000-01): 2017H1 = 1."""
    m = np.floor(np.asarray(calendar_month) + 1e-9).astype(np.int64)
    year = m // 12 + 2000
    half = (m % 12) // 6
    return (year - 2017) * 2 + half + 1


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
    m0 = int(np.floor(to_months(p.ww_first_end)))
    m1 = int(np.floor(to_months(p.ww_last_end))) + 1
    months = np.arange(m0, m1)
    lam = p.ww_rate_groningen * p.scale * sizes[:, None] * np.ones(months.size)[None, :]
    counts = gen.poisson(lam)
    muni = np.repeat(np.repeat(np.arange(len(names)), months.size), counts.ravel())
    max_end = np.repeat(np.tile(months, len(names)), counts.ravel()) + gen.random(muni.size)
    n = muni.size
    dur = gen.integers(3, 25, size=n).astype(float)  # entitlement in months
    start = max_end - dur
    early = gen.random(n) < p.ww_p_early_end
    end = np.where(early, start + dur * gen.random(n), max_end)
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
    period = ww_period(max_end)
    # adoption
    adopt = np.full(len(names), np.nan)
    for name, date in p.ww_adoption.items():
        if name not in names:
            raise ValueError(f"ww_adoption names {name!r}, not one of the municipalities {names}")
        adopt[names.index(name)] = to_months(date)
    group_of = np.where(np.isnan(adopt), 0,
                        ww_period(np.nan_to_num(adopt) + p.ww_contact_months))  # fmt: skip
    group = group_of[muni]
    contact_at = max_end - p.ww_contact_months
    contacted = (~np.isnan(adopt[muni])) & (contact_at >= np.nan_to_num(adopt[muni], nan=1e9))
    contacted &= end >= contact_at
    treated_unit = (group > 0) & (period >= group)
    # inflow probabilities (linear probability model)
    age = (start - pop.birth) / 12.0
    f = features(pop, np.arange(n), age)
    mun_eff = np.resize(np.asarray(p.ww_municipality_effects, dtype=float), len(names))
    per_eff = p.ww_period_effect_amplitude * np.sin(2 * np.pi * period / 8.0)
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
    inflow_time = np.maximum(12.0 * w**2, 1.5 / 30.4375)
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
