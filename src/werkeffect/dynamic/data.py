"""The one-row-per-spell frame the dynamic estimators work on, built from a ``Dataset``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from werkeffect.data.flow import DataFlow
from werkeffect.data.schema import EXIT_GROUPS
from werkeffect.exceptions import DataValidationError

MONTH_DAYS = 365.25 / 12
CAUSE_CODES = {"work": 1, "education": 2, "other": 3}

#: Covariates used by ``from_dataset`` when none are given (those present in the data).
DEFAULT_COVARIATES = (
    "age",
    "age_lt27",
    "age_55p",
    "sex",
    "education",
    "household",
    "statushouder",
    "barrier_health",
    "barrier_language",
    "barrier_debts",
    "ladder_intake",
    "ladder_missing",
    "previous_spells",
    "start_year",
)


def months_between(start: pd.Series, end: pd.Series, clock: str = "days") -> np.ndarray:
    """Elapsed months from ``start`` to ``end``.

    ``clock="days"`` (default, the project's convention): days / (365.25 / 12);
    ``clock="calendar"``: whole calendar months plus the fraction of a month in days (so
    dates on the same day of the month are whole months apart, as in monthly records).
    """
    s = pd.to_datetime(start)
    e = pd.to_datetime(end)
    if clock == "days":
        return ((e - s).dt.days / MONTH_DAYS).to_numpy(float)
    if clock != "calendar":
        raise ValueError("clock must be 'calendar' or 'days'")
    whole = (e.dt.year - s.dt.year) * 12 + (e.dt.month - s.dt.month)
    frac = (e.dt.day - s.dt.day) / MONTH_DAYS
    return (whole + frac).to_numpy(float)


def spells_from_dataset(
    dataset,
    programme: str = "jobcoaching",
    window_start=None,
    available_from="first_start",
    clock: str = "days",
) -> pd.DataFrame:
    """One row per bijstand spell with what dynamic evaluation needs.

    Columns: ``person_id, spell_id, spell_start_date, duration`` (months to exit or to the
    extract date), ``cause`` (0 censored, 1 work, 2 education, 3 other, from
    ``schema.EXIT_GROUPS``), ``programme_start`` (months from spell start to the first start
    of ``programme`` within the spell, NaN if none), ``entry`` (months at which the spell
    enters the risk sets: the later of ``window_start`` and the date the programme became
    available, 0 otherwise), ``followup`` (months to the extract date), ``return_time``
    (months from exit to the person's next spell, NaN if none), and covariates fixed at
    spell start: ``age`` (years), ``sex``, ``education``, ``household``, ``statushouder``,
    barrier flags, ``ladder_intake`` (missing set to the median, with ``ladder_missing``),
    ``previous_spells`` and ``start_year``. Spells of persons in municipalities without any
    participation in ``programme`` are dropped (they cannot start it).

    ``available_from``: a date, ``"first_start"`` (the first start of the programme in the
    data; months before it cannot be treated and are not used as comparison months) or
    None. The rows dropped (spells ended before the window or before availability, spells
    of zero length) are recorded in ``frame.attrs["flow"]``.
    """
    spells = dataset.spells.copy()
    persons = dataset.persons
    progs = dataset.programmes
    extract = pd.Timestamp(dataset.extract_date)
    flow = DataFlow()
    for col in ("spell_id", "person_id", "start_date", "end_date", "exit_reason"):
        if col not in spells.columns:
            raise DataValidationError(f"spells: missing column `{col}`")
    spells["start_date"] = pd.to_datetime(spells["start_date"])
    spells["end_date"] = pd.to_datetime(spells["end_date"])
    spells = spells.sort_values(["person_id", "start_date"], kind="stable").reset_index(drop=True)
    running = spells["end_date"].isna() | (spells["end_date"] > extract)
    stop = spells["end_date"].where(~running, extract)
    out = pd.DataFrame(
        {
            "person_id": spells["person_id"].to_numpy(),
            "spell_id": spells["spell_id"].to_numpy(),
            "spell_start_date": spells["start_date"].to_numpy(),
        }
    )
    out["duration"] = months_between(spells["start_date"], stop, clock)
    groups = spells["exit_reason"].map(EXIT_GROUPS).map(CAUSE_CODES)
    out["cause"] = np.where(running, 0, groups.fillna(CAUSE_CODES["other"])).astype(int)
    out["followup"] = months_between(
        spells["start_date"], pd.Series(extract, index=spells.index), clock
    )
    # next spell of the same person
    nxt = spells.groupby("person_id")["start_date"].shift(-1)
    ret = months_between(spells["end_date"].fillna(extract), nxt.fillna(extract), clock)
    out["return_time"] = np.where(running | nxt.isna(), np.nan, np.maximum(ret, 0.0))
    out["previous_spells"] = spells.groupby("person_id").cumcount().to_numpy()
    out["start_year"] = spells["start_date"].dt.year.to_numpy()

    # first programme start within the spell
    p = progs.loc[progs["programme"] == programme, ["person_id", "start_date"]].copy()
    p["start_date"] = pd.to_datetime(p["start_date"])
    m = (
        spells[["spell_id", "person_id", "start_date"]]
        .assign(stop=stop)
        .merge(p.rename(columns={"start_date": "p_start"}), on="person_id", how="inner")
    )
    m = m[(m["p_start"] >= m["start_date"]) & (m["p_start"] <= m["stop"])]
    first = m.groupby("spell_id")["p_start"].min()
    pstart = out["spell_id"].map(first)
    ps = np.full(len(out), np.nan)
    has = pstart.notna().to_numpy()
    ps[has] = months_between(out.loc[has, "spell_start_date"], pd.to_datetime(pstart[has]), clock)
    # a start on the last day of a spell is not a start while on benefit
    ps[has & (ps >= out["duration"].to_numpy())] = np.nan
    out["programme_start"] = ps

    entry_date = None
    if available_from == "first_start":
        entry_date = p["start_date"].min() if len(p) else None
    elif available_from is not None:
        entry_date = pd.Timestamp(available_from)
    if window_start is not None:
        ws = pd.Timestamp(window_start)
        entry_date = ws if entry_date is None else max(ws, entry_date)
    n0 = len(out)
    keep = out["duration"].to_numpy() > 0
    out = out[keep]
    flow.add("zero-length spells", "spells", n0, len(out), "spell ends on its start day")
    if entry_date is not None:
        e = months_between(out["spell_start_date"], pd.Series(entry_date, index=out.index), clock)
        e = np.maximum(e, 0.0)
        n1 = len(out)
        keep = e < out["duration"].to_numpy()
        out = out[keep].copy()
        out["entry"] = e[keep]
        flow.add(
            "entry window",
            "spells",
            n1,
            len(out),
            f"spell ended before {pd.Timestamp(entry_date).date()} (programme availability / "
            "observation window); later spells enter the risk sets from that date",
        )
    else:
        out["entry"] = 0.0

    # only spells in municipalities where the programme ran at all (others cannot start it)
    if "municipality" in persons.columns and len(p):
        offered = persons.loc[persons["person_id"].isin(p["person_id"]), "municipality"]
        offered = set(offered.dropna().unique())
        muni = out["person_id"].map(persons.set_index("person_id")["municipality"])
        n2 = len(out)
        out = out[muni.isin(offered).to_numpy()].copy()
        flow.add(
            "programme offered",
            "spells",
            n2,
            len(out),
            f"person lives in a municipality without any {programme} participation",
        )
    cols = [
        "person_id",
        "birth_date",
        "sex",
        "education",
        "household",
        "statushouder",
        "barrier_health",
        "barrier_language",
        "barrier_debts",
        "ladder_intake",
    ]
    pers = persons[[c for c in cols if c in persons.columns]]
    out = out.merge(pers, on="person_id", how="left")
    if "birth_date" in out.columns:
        out["age"] = (out["spell_start_date"] - pd.to_datetime(out["birth_date"])).dt.days / 365.25
        out = out.drop(columns="birth_date")
        out["age_lt27"] = (out["age"] < 27).astype(float)
        out["age_55p"] = (out["age"] >= 55).astype(float)
    for b in ("statushouder", "barrier_health", "barrier_language", "barrier_debts"):
        if b in out.columns:
            out[b] = out[b].astype(float)
    if "ladder_intake" in out.columns:
        li = pd.to_numeric(out["ladder_intake"], errors="coerce")
        out["ladder_missing"] = li.isna().astype(float)
        out["ladder_intake"] = li.fillna(li.median() if li.notna().any() else 0.0)
        if out["ladder_missing"].sum() == 0:
            out = out.drop(columns="ladder_missing")
    out.attrs["flow"] = flow
    return out.reset_index(drop=True)
