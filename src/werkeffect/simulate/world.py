"""Persons: the inflow of first-time entrants into bijstand and their characteristics.

Each person has recorded characteristics (written to ``persons``) and two unrecorded ones:
motivation ``M`` (three support points) and frailty ``V`` (two points). Both are fixed for the
person and so shared by all of the person's spells.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from werkeffect.simulate.params import WIJKEN, SimParams, to_months
from werkeffect.simulate.rng import Streams

SEX_CODES = ("M", "V", "X")
EDUCATION_CODES = ("laag", "middelbaar", "hoog")
HOUSEHOLD_CODES = ("alleenstaand", "alleenstaande_ouder", "paar", "paar_kinderen")


@dataclass
class Population:
    """Struct of arrays, one element per person (position = internal person id)."""

    entry: np.ndarray  # calendar month of the first bijstand spell (nan: never, WW only)
    birth: np.ndarray  # calendar month of birth
    sex: np.ndarray  # index into SEX_CODES
    education: np.ndarray  # index into EDUCATION_CODES
    household: np.ndarray
    municipality: np.ndarray  # 0 = Groningen, k = k-th comparison municipality
    wijk: np.ndarray  # index into WIJKEN (-1 outside Groningen)
    statushouder: np.ndarray
    permit: np.ndarray  # calendar month of the residence permit (nan)
    health: np.ndarray
    language: np.ndarray
    debts: np.ndarray
    motivation: np.ndarray  # value on motivation_support
    frailty: np.ndarray  # 0/1
    extra: dict = field(default_factory=dict)

    @property
    def n(self) -> int:
        return self.entry.shape[0]

    @staticmethod
    def concat(parts: list[Population]) -> Population:
        names = [f for f in Population.__dataclass_fields__ if f != "extra"]
        return Population(**{k: np.concatenate([getattr(p, k) for p in parts]) for k in names})


def draw_persons(
    gen: np.random.Generator,
    entry: np.ndarray,
    p: SimParams,
    *,
    age_probs: tuple[float, float, float] | None = None,
    education_probs: tuple[float, float, float] | None = None,
    statushouder_prob: np.ndarray | float = 0.0,
    p_health: float | None = None,
    municipality: np.ndarray | int = 0,
) -> Population:
    """Draw characteristics for persons entering at calendar months ``entry``."""
    n = entry.shape[0]
    ap = age_probs or (p.p_young, p.p_mid, 1.0 - p.p_young - p.p_mid)
    group = gen.choice(3, size=n, p=np.asarray(ap) / np.sum(ap))
    lo = np.array([18.0, 27.0, 45.0])[group]
    hi = np.array([27.0, 45.0, 62.0])[group]
    age = lo + (hi - lo) * gen.random(n)
    sh = gen.random(n) < statushouder_prob
    age = np.where(sh, 18.0 + 27.0 * gen.random(n), age)
    sex = np.where(gen.random(n) < p.p_female, 1, 0)
    sex = np.where(gen.random(n) < p.p_sex_x, 2, sex).astype(np.int8)
    ep = np.asarray(education_probs or p.p_education)
    edu = gen.choice(3, size=n, p=ep / ep.sum())
    edu = np.where(sh & (gen.random(n) < 0.4), 0, edu).astype(np.int8)
    hh = gen.choice(4, size=n, p=np.asarray(p.p_household) / np.sum(p.p_household)).astype(np.int8)
    ph = p.p_health if p_health is None else p_health
    health = gen.random(n) < np.where(age >= 45, ph + 0.15, ph)
    language = gen.random(n) < np.where(sh, p.p_language_statushouder, p.p_language)
    debts = gen.random(n) < p.p_debts
    permit = np.where(sh, entry - (1.0 + 8.0 * gen.random(n)), np.nan)
    mot = gen.choice(np.asarray(p.motivation_support, dtype=float), size=n,
                     p=np.asarray(p.motivation_probs) / np.sum(p.motivation_probs))  # fmt: skip
    frail = (gen.random(n) < p.frailty_prob).astype(np.int8)
    wp = np.array([w for _, w in WIJKEN])
    wijk = gen.choice(len(WIJKEN), size=n, p=wp / wp.sum()).astype(np.int16)
    muni = np.broadcast_to(np.asarray(municipality, dtype=np.int16), (n,)).copy()
    wijk = np.where(muni == 0, wijk, -1).astype(np.int16)
    # birth at a random moment; age counts from it
    birth = entry - age * 12.0
    return Population(
        entry=entry.astype(float),
        birth=birth,
        sex=sex,
        education=edu,
        household=hh,
        municipality=muni,
        wijk=wijk,
        statushouder=sh,
        permit=permit,
        health=health,
        language=language,
        debts=debts,
        motivation=mot,
        frailty=frail,
    )


def draw_inflow(streams: Streams, p: SimParams) -> Population:
    """First-time entrants into Groningen bijstand from ``burnin_start`` to the extract date.

    Monthly counts are Poisson(``inflow_rate * scale * inflow_calendar[year]``); years before
    2015 use multiplier 1 (steady state), so the stock at 2015 is in steady state.
    """
    gen = streams.generator("inflow")
    m0 = int(np.floor(to_months(p.burnin_start)))
    m1 = int(np.floor(to_months(p.extract_date))) + 1
    months = np.arange(m0, m1)
    years = months // 12 + 2000
    mult = np.array([p.inflow_calendar.get(int(y), 1.0) if y >= 2015 else 1.0 for y in years])
    last = max(p.inflow_calendar) if p.inflow_calendar else 2025
    mult = np.where(years > last, p.inflow_calendar.get(last, 1.0), mult)
    counts = gen.poisson(p.inflow_rate * p.scale * mult)
    entry = np.repeat(months, counts) + gen.random(int(counts.sum()))
    entry_year = np.floor(entry / 12) + 2000
    sh_prob = np.where((entry_year >= 2015) & (entry_year <= 2017), p.p_statushouder_2015_2017,
                       p.p_statushouder)  # fmt: skip
    return draw_persons(streams.generator("world"), entry, p, statushouder_prob=sh_prob)


def features(pop: Population, pos: np.ndarray, age: np.ndarray) -> dict[str, np.ndarray]:
    """Recorded characteristics as 0/1 features (age at spell start in years)."""
    edu = pop.education[pos]
    hh = pop.household[pos]
    return {
        "age_lt27": (age < 27).astype(float),
        "age_45_54": ((age >= 45) & (age < 55)).astype(float),
        "age_55p": (age >= 55).astype(float),
        "startkwalificatie": (edu >= 1).astype(float),
        "laag": (edu == 0).astype(float),
        "hoog": (edu == 2).astype(float),
        "female": (pop.sex[pos] == 1).astype(float),
        "single_parent": (hh == 1).astype(float),
        "couple": (hh >= 2).astype(float),
        "health": pop.health[pos].astype(float),
        "language": pop.language[pos].astype(float),
        "debts": pop.debts[pos].astype(float),
        "statushouder": pop.statushouder[pos].astype(float),
    }


def linear_index(beta: dict[str, float], feats: dict[str, np.ndarray], n: int) -> np.ndarray:
    out = np.zeros(n)
    for k, b in beta.items():
        if k not in feats:
            raise KeyError(f"unknown covariate {k!r} in a beta dictionary; known: {sorted(feats)}")
        if b:
            out += b * feats[k]
    return out
