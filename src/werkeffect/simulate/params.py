"""Parameters of the simulator, their defaults, the named scenarios and scales.

Every number the data-generating process uses lives here, so ``docs/simulator.md`` can list
them and ``simulate(**params)`` can change any of them. Time is in months; calendar time is
months since :data:`ORIGIN` (1 January 2000); a month is 365.25/12 days.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

ORIGIN = pd.Timestamp("2000-01-01")
DAYS_PER_MONTH = 365.25 / 12

#: Elapsed-duration breakpoints (months) of the piecewise-constant baseline hazards.
DURATION_BREAKS = (0, 3, 6, 12, 24, 36, 60, 120)

#: Groningen wijken (districts) and their share of the caseload (assumption).
WIJKEN = (
    ("Centrum", 0.07),
    ("Oude Wijken", 0.07),
    ("Oosterparkwijk", 0.09),
    ("De Hoogte", 0.06),
    ("Korrewegwijk", 0.08),
    ("Vinkhuizen", 0.09),
    ("Selwerd", 0.06),
    ("Paddepoel", 0.06),
    ("Beijum", 0.09),
    ("Lewenborg", 0.08),
    ("De Wijert", 0.05),
    ("Corpus den Hoorn", 0.05),
    ("Hoogkerk", 0.04),
    ("Haren", 0.03),
    ("Ten Boer", 0.04),
)

#: Comparison municipalities of the labour-market region Werk in Zicht and their size
#: (WW exhaustees relative to Groningen; assumption from population sizes).
WW_MUNICIPALITIES = (
    ("Westerkwartier", 0.28),
    ("Midden-Groningen", 0.27),
    ("Het Hogeland", 0.21),
    ("Eemsdelta", 0.20),
    ("Oldambt", 0.17),
    ("Veendam", 0.12),
    ("Stadskanaal", 0.14),
    ("Pekela", 0.05),
    ("Westerwolde", 0.11),
)

JOBCOACHING_PROVIDERS = ("Werkpool Groningen", "WerkPlein Groningen", "Jobcoach Noord")


def to_months(date: str | pd.Timestamp) -> float:
    """Calendar time in months since :data:`ORIGIN`."""
    return (pd.Timestamp(date) - ORIGIN).days / DAYS_PER_MONTH


@dataclass
class SimParams:
    """All parameters of the data-generating process (see ``docs/simulator.md``)."""

    # --- calendar ------------------------------------------------------------------------
    extract_date: str = "2025-12-31"
    window_start: str = "2015-01-01"  # the extract holds spells running on or after this day
    burnin_start: str = "1980-01-01"  # inflow starts here so the 2015 stock is in steady state
    horizon_months: float = 36.0  # outcomes are simulated this long after the extract date
    aow_age: float = 67.0  # spells end at the state-pension age (exit reason 'overig')
    scale: float = 1.0  # multiplies every population size (1 = Groningen)

    # --- inflow of first-time entrants (persons per month at scale 1) ---------------------
    inflow_rate: float = 102.0
    inflow_calendar: dict[int, float] = field(
        default_factory=lambda: {
            2015: 1.05, 2016: 1.12, 2017: 1.02, 2018: 0.95, 2019: 0.95, 2020: 1.08,
            2021: 0.92, 2022: 0.88, 2023: 0.92, 2024: 0.95, 2025: 0.95,
        }
    )  # fmt: skip
    # composition of inflow
    p_young: float = 0.47  # entry age 18-26
    p_mid: float = 0.31  # entry age 27-44 (the rest 45-62)
    p_female: float = 0.47
    p_sex_x: float = 0.005
    p_education: tuple[float, float, float] = (0.54, 0.35, 0.11)  # laag, middelbaar, hoog
    p_household: tuple[float, float, float, float] = (0.62, 0.18, 0.07, 0.13)
    p_statushouder: float = 0.05
    p_statushouder_2015_2017: float = 0.14
    p_health: float = 0.30  # +0.15 when entering at 45 or older
    p_language: float = 0.10  # statushouders: p_language_statushouder
    p_language_statushouder: float = 0.75
    p_debts: float = 0.25

    # --- unobserved heterogeneity ---------------------------------------------------------
    motivation_support: tuple[float, float, float] = (-1.0, 0.0, 1.0)  # low, medium, high
    motivation_probs: tuple[float, float, float] = (0.3, 0.4, 0.3)
    frailty_prob: float = 0.45  # share with frailty V = 1 (a 'hard to place' type)
    motivation_on_work: float = 0.5  # log-HR per motivation unit, exit to work
    motivation_on_education: float = 0.3
    motivation_on_return: float = -0.3
    frailty_on_work: float = -1.4  # log-HR of V = 1
    frailty_on_education: float = -0.8
    frailty_on_other: float = -0.3
    frailty_on_return: float = 0.4

    # --- benefit-spell hazards (per month), piecewise constant on DURATION_BREAKS ---------
    #: multipliers of the baseline hazards (work, education, other, return, jobcoaching);
    #: the observables scenario uses them to keep the average hazard level when it switches
    #: motivation and frailty off
    baseline_scale: dict[str, float] = field(
        default_factory=lambda: {"work": 1.0, "education": 1.0, "other": 1.0, "return": 1.0,
                                 "jobcoaching": 1.0}
    )  # fmt: skip
    base_work: tuple[float, ...] = (0.052, 0.056, 0.047, 0.031, 0.018, 0.0099, 0.0052, 0.0036)
    base_education: tuple[float, ...] = (0.005, 0.005, 0.004, 0.003, 0.002, 0.001, 5e-4, 3e-4)
    base_other: tuple[float, ...] = (0.015, 0.014, 0.011, 0.0085, 0.006, 0.0043, 0.003, 0.0026)
    # covariate log hazard ratios: keys are the features of ``world.features``
    beta_work: dict[str, float] = field(
        default_factory=lambda: {
            "age_lt27": 0.35, "age_45_54": -0.45, "age_55p": -1.0, "startkwalificatie": 0.35,
            "hoog": 0.2, "female": -0.1, "single_parent": -0.3, "couple": 0.0,
            "health": -0.8, "language": -0.5, "debts": -0.3, "statushouder": -0.2,
        }
    )  # fmt: skip
    beta_education: dict[str, float] = field(
        default_factory=lambda: {
            "age_lt27": 1.6, "age_45_54": -1.0, "age_55p": -2.0, "startkwalificatie": -0.3,
            "health": -0.4, "language": -0.2, "statushouder": 0.4,
        }
    )  # fmt: skip
    beta_other: dict[str, float] = field(
        default_factory=lambda: {
            "age_lt27": 0.2, "age_55p": 0.3, "couple": 0.4, "female": 0.1, "health": 0.1,
            "statushouder": -0.3,
        }
    )  # fmt: skip
    work_calendar: dict[int, float] = field(
        default_factory=lambda: {
            2015: 0.88,
            2016: 0.92,
            2017: 0.97,
            2018: 1.0,
            2019: 1.03,
            2020: 0.98,
            2021: 1.12,
            2022: 1.18,
            2023: 1.12,
            2024: 1.08,
            2025: 1.05,
        }
    )  # years before 2015 use the 2015 value (steady state)
    p_parttime_exit: float = 0.15  # exits to work coded 'deeltijdwerk'
    other_reasons: dict[str, float] = field(
        default_factory=lambda: {"partner": 0.3, "verhuizing": 0.35, "overlijden": 0.05,
                                 "overig": 0.3}
    )  # fmt: skip

    # --- recurrence: return to bijstand after an exit to work -----------------------------
    return_breaks: tuple[float, ...] = (0, 1, 6, 12, 24)  # months since exit
    base_return: tuple[float, ...] = (0.0, 0.030, 0.020, 0.012, 0.005)
    beta_return: dict[str, float] = field(
        default_factory=lambda: {"age_lt27": 0.2, "startkwalificatie": -0.3, "health": 0.3,
                                 "debts": 0.2}
    )  # fmt: skip
    max_spells: int = 8

    # --- jobcoaching --------------------------------------------------------------------
    jobcoaching_start_year: int = 2015  # no programme starts before 1 January of this year
    base_jobcoaching: tuple[float, ...] = (
        0.0024,
        0.008,
        0.0096,
        0.008,
        0.0056,
        0.0036,
        0.0024,
        0.0016,
    )
    beta_jobcoaching: dict[str, float] = field(
        default_factory=lambda: {"age_lt27": 0.4, "age_55p": -0.6, "startkwalificatie": 0.2,
                                 "health": -0.5, "language": -0.2, "statushouder": 0.2}
    )  # fmt: skip
    jobcoaching_calendar: dict[int, float] = field(
        default_factory=lambda: {2015: 1.0, 2016: 1.0, 2017: 1.0, 2018: 1.0, 2019: 1.0,
                                 2020: 1.5, 2021: 1.6, 2022: 1.6, 2023: 1.7, 2024: 1.7,
                                 2025: 1.7}
    )  # fmt: skip
    motivation_on_jobcoaching: float = 1.3  # selection on motivation ("de mensen die willen")
    frailty_on_jobcoaching: float = 0.0
    #: log hazard ratio of exit to work from programme start, by months since start:
    #: ((from_month, log_hr), ...) — piecewise constant, the last value applies afterwards.
    jobcoaching_effect: tuple[tuple[float, float], ...] = ((0.0, math.log(1.4)),)
    jobcoaching_months: tuple[float, float] = (3.0, 12.0)  # duration uniform on this range

    # --- nazorg -------------------------------------------------------------------------
    p_nazorg_jobcoached: float = 0.6  # exits to work after jobcoaching in the spell
    p_nazorg_other: float = 0.1  # other exits to work (Groningen, from jobcoaching_start_year)
    nazorg_effect: float = math.log(0.6)  # log HR of the return hazard (whole job spell)
    nazorg_months: tuple[float, float] = (6.0, 12.0)

    # --- part-time work while on benefit, job earnings, benefit amounts ------------------
    parttime_rate: float = 0.0033  # per month on benefit
    parttime_mean_months: float = 16.0
    earnings_work: tuple[float, float, float] = (1900.0, 2300.0, 2900.0)  # by education
    earnings_parttime_exit: float = 1350.0
    earnings_parttime: float = 520.0
    benefit_amount: tuple[float, float, float, float] = (1050.0, 1050.0, 1500.0, 1500.0)
    benefit_indexation: float = 0.02  # a year, from 2015

    # --- participation ladder --------------------------------------------------------------
    ladder_up: float = 0.015  # moves up a month while on benefit
    ladder_down: float = 0.008
    ladder_programme_up: float = 2.5  # multiplier of the up-rate after a programme starts
    ladder_max_moves: int = 4

    # --- WW naar bijstand ----------------------------------------------------------------
    ww_municipalities: int = 6  # K comparison municipalities (the first K of WW_MUNICIPALITIES)
    ww_rate_groningen: float = 80.0  # WW exhaustees a month (ww_max_end) at scale 1
    ww_first_end: str = "2017-01-01"
    ww_last_end: str = "2024-12-31"
    ww_p_early_end: float = 0.35  # share whose WW ends before the maximum (found work)
    ww_adoption: dict[str, str] = field(default_factory=lambda: {"Groningen": "2020-01-01"})
    ww_contact_months: float = 6.0
    ww_base_inflow: float = 0.20  # P(inflow within 12 months), Groningen, reference person
    ww_municipality_effects: tuple[float, ...] = (0.0, -0.02, 0.01, -0.01, 0.02, 0.03, -0.03,
                                                  0.015, -0.015, 0.0)  # fmt: skip
    ww_period_effect_amplitude: float = 0.0  # optional cycle λ_t = a·sin(2πt/8) on top
    #: common calendar effects on P(inflow) by year of the WW maximum end date, the same in
    #: every municipality: falling unemployment 2017-2019, the corona shock of 2020, a tight
    #: labour market from 2022 (what a before-after comparison mistakes for an effect)
    ww_calendar_effects: dict[int, float] = field(
        default_factory=lambda: {2017: 0.04, 2018: 0.03, 2019: 0.02, 2020: 0.03, 2021: 0.01,
                                 2022: -0.02, 2023: -0.03, 2024: -0.03}
    )  # fmt: skip
    ww_beta: dict[str, float] = field(
        default_factory=lambda: {"age_55p": 0.04, "age_lt27": -0.03, "laag": 0.05,
                                 "hoog": -0.04, "single_parent": 0.04, "health": 0.05}
    )  # fmt: skip
    ww_early_end_factor: float = 0.4  # inflow probability multiplier for early enders
    ww_effect: float = -0.06  # change in P(inflow within 12 months) when contacted
    ww_effect_growth: float = 0.0  # added per half-year since adoption (dynamic effects)
    ww_trend_diff: float = 0.0  # differential linear trend (prob. points per half-year)
    ww_trend_municipality: str = "Groningen"

    # --- pilot statushouders bij stadsbeheer ---------------------------------------------
    pilot_size: int = 40
    pilot_dates: tuple[str, ...] = ("2021-03-01", "2021-09-01")
    pilot_effect: float = math.log(5.0)  # log HR of exit to work from placement start
    pilot_months: float = 12.0  # placement length (ends earlier at exit)
    pilot_select_on_motivation: bool = False
    #: caseworkers pick recent arrivals: score term per log(1 + months on bijstand)
    pilot_duration_coef: float = -1.5
    pilot_motivation_coef: float = 1.0
    pilot_beta: dict[str, float] = field(
        default_factory=lambda: {"female": -0.8, "age_45_54": -0.5, "age_55p": -1.5,
                                 "health": -1.5, "language": -1.2, "startkwalificatie": 0.3}
    )  # fmt: skip

    # --- truth ---------------------------------------------------------------------------
    truth_u: tuple[int, ...] = (3, 6, 12, 24)

    def replace(self, **kw: Any) -> SimParams:
        names = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(kw) - names)
        if unknown:
            raise TypeError(
                f"simulate() got unknown parameter(s) {unknown}; "
                f"see werkeffect.simulate.SimParams for the list"
            )
        return dataclasses.replace(self, **kw)

    def to_dict(self) -> dict[str, Any]:
        return _jsonable(dataclasses.asdict(self))

    # convenience
    def effect_schedule(self) -> tuple[np.ndarray, np.ndarray]:
        brk = np.array([b for b, _ in self.jobcoaching_effect], dtype=float)
        val = np.array([v for _, v in self.jobcoaching_effect], dtype=float)
        if brk.size == 0 or brk[0] != 0 or np.any(np.diff(brk) <= 0):
            raise ValueError("jobcoaching_effect must start at month 0 with increasing breaks")
        return brk, val


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.generic):
        return x.item()
    return x


#: Named scenarios: parameter overrides over the same world.
SCENARIOS: dict[str, dict[str, Any]] = {
    # caseworkers select jobcoaching participants partly on (unrecorded) motivation
    "groningen": {},
    # selection on recorded characteristics only: motivation and frailty affect no hazard
    "groningen-observables": {
        "motivation_on_work": 0.0,
        "motivation_on_education": 0.0,
        "motivation_on_return": 0.0,
        "motivation_on_jobcoaching": 0.0,
        "frailty_on_work": 0.0,
        "frailty_on_education": 0.0,
        "frailty_on_other": 0.0,
        "frailty_on_return": 0.0,
        "frailty_on_jobcoaching": 0.0,
        # E[exp(motivation and frailty terms)] at the groningen defaults, so the average
        # hazard level at the start of a spell stays the same
        "baseline_scale": {
            "work": 0.712,
            "education": 0.772,
            "other": 0.883,
            "return": 1.254,
            "jobcoaching": 1.583,
        },
        # programme starts independent of calendar time: the calendar year acts on the work
        # hazard, so a calendar-dependent start rate would confound analyses that ignore it
        "jobcoaching_calendar": {2015: 1.35},
    },  # fmt: skip
}

#: Named scales: the multiplier of every population size.
SCALES = {"groningen": 1.0, "national": 38.6}


def resolve_params(scenario: str, scale: str | float, **overrides: Any) -> SimParams:
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; choose one of {sorted(SCENARIOS)}")
    if isinstance(scale, str) and scale not in SCALES:
        try:  # the CLI passes numbers as text
            scale = float(scale)
        except ValueError:
            pass
    if isinstance(scale, str):
        if scale not in SCALES:
            raise ValueError(f"unknown scale {scale!r}; choose one of {sorted(SCALES)} or a number")
        s = SCALES[scale]
    else:
        s = float(scale)
        if not s > 0:
            raise ValueError(f"scale must be positive, got {scale}")
    p = SimParams().replace(scale=s, **SCENARIOS[scenario])
    return p.replace(**overrides)
