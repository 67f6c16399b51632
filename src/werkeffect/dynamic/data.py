"""The one-row-per-spell frame the dynamic estimators work on, built from a ``Dataset``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from werkeffect.data.flow import DataFlow
from werkeffect.data.frames import COVARIATES
from werkeffect.formatting import nl_date

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
) -> pd.DataFrame:
    """One row per bijstand spell with what dynamic evaluation needs.

    Built from :func:`werkeffect.episodes` (so times follow the project's convention: whole
    days, months of 365.25/12 days, a spell at risk to the end of its last day). Columns:
    ``person_id, spell_id, spell_start_date, duration`` (months to exit or to the extract
    date), ``cause`` (0 censored, 1 work, 2 education, 3 other), ``programme_start`` (months
    from spell start to the first start of ``programme`` within the spell, NaN if none),
    ``entry`` (months at which the spell enters the risk sets: the later of the window
    opening and the date the programme became available), ``followup`` (months to the end of
    the extract date), ``return_time`` (months from exit to the person's next spell, NaN if
    none), and covariates fixed at spell start: ``age`` (years) with ``age_lt27`` and
    ``age_55p``, ``sex``, ``education``, ``startkwalificatie``, ``household``,
    ``statushouder``, the barrier flags, ``ladder_intake`` (missing set to the median, with
    ``ladder_missing``), ``previous_spells`` and ``start_year``.

    ``available_from``: a date, ``"first_start"`` (the first start of the programme in the
    data; months before it cannot be treated and are not used as comparison months) or
    None. Spells of persons in municipalities without any participation in ``programme`` are
    dropped (they cannot start it). Every drop is recorded in ``frame.attrs["flow"]``.
    """
    from werkeffect.data.frames import episodes

    ep = episodes(dataset, programme=programme, window_start=window_start, covariates=True)
    flow = ep.attrs.get("flow", DataFlow()).copy()
    first = ep.drop_duplicates("spell_id", keep="first").set_index("spell_id")
    last = ep.drop_duplicates("spell_id", keep="last").set_index("spell_id")
    out = pd.DataFrame(
        {
            "person_id": last["person_id"],
            "spell_id": last.index,
            "spell_start_date": pd.to_datetime(last["spell_start_date"]),
            "duration": last["stop"].astype(float),
            "cause": np.where(last["event"] == 1, last["cause"], 0).astype(int),
            "programme_start": last["programme_start"].astype(float),
            "entry": first["start"].astype(float),
        }
    ).reset_index(drop=True)
    extract = pd.Timestamp(dataset.extract_date)
    days_fu = (extract - out["spell_start_date"]).dt.days + 1
    out["followup"] = np.maximum(days_fu.to_numpy(float) / MONTH_DAYS, out["duration"])
    # months from the end of a spell to the start of the person's next spell
    sp = dataset.spells[["spell_id", "person_id", "start_date", "end_date"]].copy()
    sp["start_date"] = pd.to_datetime(sp["start_date"])
    sp["end_date"] = pd.to_datetime(sp["end_date"])
    sp = sp.sort_values(["person_id", "start_date"], kind="stable")
    nxt = sp.groupby("person_id")["start_date"].shift(-1)
    gap = (nxt - sp["end_date"]).dt.days - 1
    ret = pd.Series((np.maximum(gap, 0) / MONTH_DAYS).to_numpy(), index=sp["spell_id"])
    out["return_time"] = np.where(
        out["cause"].to_numpy() > 0, out["spell_id"].map(ret).to_numpy(float), np.nan
    )
    out["start_year"] = out["spell_start_date"].dt.year.astype(float)
    for c in ("age", *COVARIATES, "previous_spells"):
        if c in first.columns:
            out[c] = first[c].to_numpy()

    progs = dataset.programmes
    p = progs.loc[progs["programme"] == programme, ["person_id", "start_date"]].copy()
    p["start_date"] = pd.to_datetime(p["start_date"])
    persons = dataset.persons
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
            f"persoon woont in een gemeente zonder enig {programme}-traject",
        )
    entry_date = None
    if available_from == "first_start":
        entry_date = p["start_date"].min() if len(p) else None
    elif available_from is not None:
        entry_date = pd.Timestamp(available_from)
    if entry_date is not None:
        e = (entry_date - out["spell_start_date"]).dt.days.to_numpy(float) / MONTH_DAYS
        e = np.maximum(np.maximum(e, 0.0), out["entry"].to_numpy())
        n1 = len(out)
        keep = e < out["duration"].to_numpy()
        out = out[keep].copy()
        out["entry"] = e[keep]
        flow.add(
            "programme available",
            "spells",
            n1,
            len(out),
            f"spell ended before {pd.Timestamp(entry_date).date()}, when {programme} became "
            "available; later spells enter the risk sets from that date",
            f"uitkeringsperiode eindigde vóór {nl_date(entry_date)}, toen {programme} "
            "beschikbaar kwam; latere uitkeringsperioden tellen vanaf die datum mee in de "
            "risicoverzamelingen",
        )
    # a start before the spell enters the risk sets (left truncation) stays recorded: such a
    # spell is treated before observation and never serves as a comparison spell
    out = out[out["duration"] > 0]
    if "age" in out.columns:
        out["age_lt27"] = (out["age"] < 27).astype(float)
        out["age_55p"] = (out["age"] >= 55).astype(float)
    for b in ("startkwalificatie", "statushouder", "barrier_health", "barrier_language",
              "barrier_debts"):  # fmt: skip
        if b in out.columns:
            out[b] = out[b].astype(float)
    if "ladder_intake" in out.columns:
        li = pd.to_numeric(out["ladder_intake"], errors="coerce")
        out["ladder_missing"] = li.isna().astype(float)
        out["ladder_intake"] = li.fillna(li.median() if li.notna().any() else 0.0)
        if out["ladder_missing"].sum() == 0:
            out = out.drop(columns="ladder_missing")
    out = out.reset_index(drop=True)
    out.attrs["flow"] = flow
    return out


#: Time-varying history columns built by :func:`history_from_dataset`.
HISTORY_COLUMNS = ("employed_prev_month", "ladder_step_before")


def history_from_dataset(dataset, spells: pd.DataFrame, n_months: int) -> pd.DataFrame:
    """History at the start of each elapsed month, for ``time_varying=`` (long frame).

    One row per spell of ``spells`` (from :func:`spells_from_dataset`) and elapsed month
    ``m = 0 .. n_months - 1`` (months of 365.25/12 days from the spell start):
    ``employed_prev_month`` (1 when a job from ``jobs`` covers a day of the month before
    ``m``: part-time work on benefit, or work just before the spell for ``m = 0``) and
    ``ladder_step_before`` (the last participation-ladder step assessed before month ``m``
    starts; the spell's ``ladder_intake`` where there is none). Both are known before a
    programme start in month ``m``: history up to u. Vectorised over (spell, job) and
    (spell, assessment) pairs of the same person.
    """
    n, M = len(spells), int(n_months)
    pos = pd.Series(np.arange(n), index=spells.index)
    s0 = pd.to_datetime(spells["spell_start_date"])
    base = spells[["person_id"]].assign(_pos=pos.to_numpy(), _s0=s0.to_numpy())
    extract = pd.Timestamp(dataset.extract_date)
    emp = np.zeros(n * (M + 1))
    jobs = getattr(dataset, "jobs", None)
    if jobs is not None and len(jobs):
        j = jobs[["person_id", "start_date", "end_date"]].copy()
        j["start_date"] = pd.to_datetime(j["start_date"])
        j["end_date"] = pd.to_datetime(j["end_date"]).fillna(extract)
        pr = base.merge(j, on="person_id", how="inner")
        js = (pr["start_date"] - pr["_s0"]).dt.days.to_numpy(float) / MONTH_DAYS
        je = ((pr["end_date"] - pr["_s0"]).dt.days.to_numpy(float) + 1.0) / MONTH_DAYS
        # month m looks back at [m - 1, m): the job overlaps it when js < m and je > m - 1
        lo = np.maximum(np.floor(js).astype(np.int64) + 1, 0)
        hi = np.minimum(np.ceil(je).astype(np.int64), M - 1)
        ok = lo <= hi
        p = pr["_pos"].to_numpy()[ok]
        np.add.at(emp, p * (M + 1) + lo[ok], 1.0)
        np.add.at(emp, p * (M + 1) + hi[ok] + 1, -1.0)
    employed = (np.cumsum(emp.reshape(n, M + 1), axis=1)[:, :M] > 0.5).astype(float)
    intake = (
        pd.to_numeric(spells["ladder_intake"], errors="coerce").to_numpy(float)
        if "ladder_intake" in spells.columns
        else np.full(n, np.nan)
    )
    step = np.full((n, M), np.nan)
    lad = getattr(dataset, "ladder", None)
    if lad is not None and len(lad):
        a = lad[["person_id", "date", "step"]].copy()
        a["date"] = pd.to_datetime(a["date"])
        pr = base.merge(a, on="person_id", how="inner")
        da = (pr["date"] - pr["_s0"]).dt.days.to_numpy(float) / MONTH_DAYS
        m_from = np.maximum(np.floor(da).astype(np.int64) + 1, 0)
        pr = pr.assign(_m=m_from, _d=pr["date"])[m_from < M]
        pr = pr.sort_values(["_pos", "_m", "_d"], kind="stable")
        pr = pr.drop_duplicates(["_pos", "_m"], keep="last")
        step[pr["_pos"].to_numpy(), pr["_m"].to_numpy()] = pd.to_numeric(pr["step"]).to_numpy()
        has = ~np.isnan(step)
        idx = np.maximum.accumulate(np.where(has, np.arange(M)[None, :], 0), axis=1)
        filled = step[np.arange(n)[:, None], idx]
        step = np.where(has.cumsum(axis=1) > 0, filled, np.nan)
    fallback = np.where(np.isnan(intake), np.nanmedian(intake) if np.isfinite(intake).any()
                        else 0.0, intake)  # fmt: skip
    step = np.where(np.isnan(step), fallback[:, None], step)
    return pd.DataFrame(
        {
            "spell_id": np.repeat(spells["spell_id"].to_numpy(), M),
            "month": np.tile(np.arange(M), n),
            "employed_prev_month": employed.ravel(),
            "ladder_step_before": step.ravel(),
        }
    )
