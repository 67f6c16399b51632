"""One Monte Carlo replication of the jobcoaching hazard ratio (shared by the slow test).

Specification: Cox model for exit to work (cause 1) on the start–stop episodes of
``werkeffect.episodes`` with left truncation at the window start, the time-varying treatment
``treated``, the recorded characteristics the simulator's hazards use, calendar-year dummies
(the work hazard and programme intensity both vary by calendar year, so calendar time is a
confounder; rows are split at 1 January of each year), and standard errors clustered on the
person.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MONTH_DAYS = 365.25 / 12
COVARIATES = [
    "age_lt27", "age_45_54", "age_55p", "laag", "hoog", "female", "single_parent", "couple",
    "statushouder", "barrier_health", "barrier_language", "barrier_debts",
]  # fmt: skip


def design(ep: pd.DataFrame, first_year: int, last_year: int) -> tuple[pd.DataFrame, list[str]]:
    from werkeffect.survival import split_episodes

    years = np.arange(first_year + 1, last_year + 1)
    starts = pd.to_datetime([f"{y}-01-01" for y in years]).to_numpy()
    ss = ep["spell_start_date"].to_numpy()
    split = (starts[None, :] - ss[:, None]) / np.timedelta64(1, "D") / MONTH_DAYS
    out = split_episodes(ep, split, start="start", stop="stop", event="event", cause="cause")
    mid = out["spell_start_date"] + pd.to_timedelta(out["start"] * MONTH_DAYS + 1e-6, unit="D")
    year = np.clip(mid.dt.year.to_numpy(), first_year, last_year)
    out["age_lt27"] = (out["age"] < 27).astype(float)
    out["age_45_54"] = ((out["age"] >= 45) & (out["age"] < 55)).astype(float)
    out["age_55p"] = (out["age"] >= 55).astype(float)
    out["laag"] = (out["education"] == "laag").astype(float)
    out["hoog"] = (out["education"] == "hoog").astype(float)
    out["female"] = (out["sex"] == "V").astype(float)
    out["single_parent"] = (out["household"] == "alleenstaande_ouder").astype(float)
    out["couple"] = out["household"].isin(["paar", "paar_kinderen"]).astype(float)
    ycols = []
    for y in range(first_year + 1, last_year + 1):
        out[f"year_{y}"] = (year == y).astype(float)
        ycols.append(f"year_{y}")
    out["work"] = (out["cause"] == 1).astype(int)
    return out, ["treated", *COVARIATES, *ycols]


def fit_jobcoaching(dataset, window: str = "2015-01-01", last_year: int = 2025):
    """Cox fit of exit to work on the episodes of a simulated (or real) dataset."""
    from werkeffect.data.frames import episodes
    from werkeffect.survival import CoxPH

    ep = episodes(dataset, programme="jobcoaching", window_start=window)
    # jobcoaching exists only in Groningen: spells elsewhere (WW inflow in the region) can
    # never be treated, so they are not a comparison group for it
    persons = dataset.persons
    if "municipality" in persons.columns:
        gron = persons.loc[persons["municipality"] == "Groningen", "person_id"]
        ep = ep[ep["person_id"].isin(gron)]
    df, cov = design(ep, int(window[:4]), last_year)
    cov = [c for c in cov if df[c].std() > 0]
    return CoxPH(df, duration="stop", event="work", entry="start", covariates=cov,
                 cluster="person_id").fit()  # fmt: skip


def hazard_ratio_estimator(dataset, seed: int = 0) -> tuple[float, float, float]:
    """``(HR, lower, upper)`` for ``jobcoaching.hazard_ratio`` (validation.monte_carlo API)."""
    from werkeffect.simulate.params import SimParams

    p = SimParams()
    res = fit_jobcoaching(dataset, str(p.window_start), int(str(p.extract_date)[:4]))
    ci = res.conf_int().loc["treated"]
    return (float(np.exp(res.params["treated"])), float(np.exp(ci["lower"])),
            float(np.exp(ci["upper"])))  # fmt: skip


def one_replication(seed: int, scenario: str = "groningen-observables", scale=1.0) -> dict:
    from werkeffect.simulate import simulate

    ds, truth = simulate(scenario=scenario, seed=seed, scale=scale)
    hr, lo, hi = hazard_ratio_estimator(ds)
    t = float(truth["jobcoaching.hazard_ratio"])
    return {"seed": seed, "truth": t, "estimate": hr, "lower": lo, "upper": hi,
            "covered": lo <= t <= hi}  # fmt: skip
