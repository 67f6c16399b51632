"""Analysis frame for a placement pilot (the statushouder pilot at stadsbeheer).

One row per participant at the placement start and, for every placement start date (cohort),
one row per eligible non-participant on that date: statushouders on bijstand in the
municipality, aged ``min_age`` to ``max_age``. Outcomes: employed (a job running) ``h``
months after the cohort date. Match with ``exact=["cohort"]``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from werkeffect.data.flow import DataFlow
from werkeffect.exceptions import DataValidationError
from werkeffect.formatting import nl_date, nl_int

__all__ = ["pilot_frame"]

DAYS_PER_MONTH = 365.25 / 12


def _running_at(periods: pd.DataFrame | None, person: np.ndarray, when: np.ndarray) -> np.ndarray:
    """1 if the person has a period (a job, a benefit spell) with start <= when < end (open
    end = still running), else 0."""
    out = np.zeros(len(person), dtype=int)
    if periods is None or periods.empty:
        return out
    frame = pd.DataFrame({"row": np.arange(len(person)), "person_id": person, "when": when})
    m = frame.merge(periods[["person_id", "start_date", "end_date"]], on="person_id")
    end = m["end_date"].fillna(pd.Timestamp.max)
    hit = (m["start_date"] <= m["when"]) & (m["when"] < end)
    out[m.loc[hit, "row"].unique()] = 1
    return out


def _ladder_at(ladder: pd.DataFrame, person: np.ndarray, when: np.ndarray) -> np.ndarray:
    """The participation-ladder step of the latest assessment on or before ``when`` (NaN
    when the extract holds none for the person by then)."""
    q = pd.DataFrame(
        {"person_id": person, "when": pd.to_datetime(when), "row": np.arange(len(person))}
    )
    lad = ladder[["person_id", "date", "step"]].dropna().sort_values("date")
    m = pd.merge_asof(q.sort_values("when"), lad, left_on="when", right_on="date",
                      by="person_id", direction="backward")  # fmt: skip
    out = np.full(len(person), np.nan)
    out[m["row"].to_numpy()] = m["step"].to_numpy(dtype=float)
    return out


def pilot_frame(
    dataset,
    programme: str = "stadsbeheer",
    horizons: Sequence[int] = (12, 24),
    min_age: float = 18,
    max_age: float = 60,
    municipality: str | None = "Groningen",
    statushouders_only: bool = True,
) -> pd.DataFrame:
    """Participants and eligible non-participants per placement start date.

    Columns: ``person_id, cohort, treated, age, age_45_54, age_55p, female, sex, education,
    startkwalificatie, household, barrier_health, barrier_language, barrier_debts,
    ladder_intake, months_on_benefit, log_months_on_benefit, employed_0m`` and, per horizon,
    ``employed_{h}m`` (1 when a job runs h months after the cohort date), ``off_benefit_{h}m``
    (1 when no benefit spell runs then) and, when the extract has a ``ladder`` table,
    ``ladder_0m`` and ``ladder_{h}m`` (the step of the latest assessment by then; missing when
    there is none). Jobs and spells after the extract date are unknown, so horizons past it
    raise an error. Participants never
    serve as controls. ``attrs["flow"]`` holds the dataset's data flow plus one step per
    placement date: from all benefit spells to the participants and eligible persons.
    """
    prog = dataset.programmes
    pil = prog[prog["programme"] == programme]
    if pil.empty:
        raise DataValidationError(f"no '{programme}' rows in table programmes")
    persons = dataset.persons.set_index("person_id")
    spells = dataset.spells
    extract = pd.Timestamp(dataset.extract_date)
    participants = set(pil["person_id"])
    flow = dataset.flow.copy() if getattr(dataset, "flow", None) is not None else DataFlow()
    who = " ".join(
        part
        for part in (
            "statushouders" if statushouders_only else "persons",
            f"aged {min_age:g} to under {max_age:g}",
            f"living in {municipality}" if municipality is not None else "",
        )
        if part
    )
    who_nl = " ".join(
        part
        for part in (
            "statushouders" if statushouders_only else "personen",
            f"van {min_age:g} tot {max_age:g} jaar".replace(".", ","),
            f"in {municipality}" if municipality is not None else "",
        )
        if part
    )
    rows = []
    for date in sorted(pil["start_date"].unique()):
        date = pd.Timestamp(date)
        end = spells["end_date"].fillna(pd.Timestamp.max)
        # one day of slack: dates in the extract are rounded from continuous time
        slack = pd.Timedelta(days=1)
        on = spells[(spells["start_date"] <= date + slack) & (end >= date - slack)]
        on = on.sort_values("start_date").drop_duplicates("person_id", keep="last")
        treated_ids = set(pil.loc[pil["start_date"] == date, "person_id"])
        on = on[on["person_id"].isin(treated_ids) | ~on["person_id"].isin(participants)]
        p = persons.loc[on["person_id"]]
        age = (date - p["birth_date"]).dt.days.to_numpy() / 365.25
        keep = (age >= min_age) & (age < max_age)
        keep |= on["person_id"].isin(treated_ids).to_numpy()
        if statushouders_only:
            keep &= p["statushouder"].astype(bool).to_numpy()
        if municipality is not None:
            keep &= (p["municipality"] == municipality).to_numpy()
        sel = on[keep]
        flow.add(
            f"pilot: placement date {date.date()}",
            "spells",
            len(spells),
            len(sel),
            # no number of participants: a date's few would follow from the pilot's total
            f"kept: the participants placed that day and {who} on bijstand that day who were "
            "never placed (one spell per person)",
            f"behouden: de deelnemers die op {nl_date(date)} zijn geplaatst, en de {who_nl} met "
            "een bijstandsuitkering op die dag die nooit zijn geplaatst (één uitkeringsperiode "
            "per persoon)",
        )
        ps = persons.loc[sel["person_id"]]
        frame = pd.DataFrame(
            {
                "person_id": sel["person_id"].to_numpy(),
                "cohort": date,
                "treated": sel["person_id"].isin(treated_ids).astype(int).to_numpy(),
                "age": age[keep],
                "female": (ps["sex"] == "V").astype(int).to_numpy(),
                "age_45_54": ((age[keep] >= 45) & (age[keep] < 55)).astype(int),
                "age_55p": (age[keep] >= 55).astype(int),
                "months_on_benefit": (date - sel["start_date"]).dt.days.to_numpy() / DAYS_PER_MONTH,
            }
        )
        if "permit_date" in ps.columns:  # arrival (permit) cohort: the stage of integration
            permit = pd.to_datetime(ps["permit_date"])
            frame["permit_cohort"] = permit.dt.year.astype("Int64").astype(str).to_numpy()
            frame.loc[permit.isna().to_numpy(), "permit_cohort"] = "onbekend"
            frame["years_since_permit"] = ((date - permit).dt.days / 365.25).to_numpy()
        # benefit duration acts on exit chances roughly in logs (steep early, flat later)
        frame["log_months_on_benefit"] = np.log1p(frame["months_on_benefit"].clip(lower=0))
        for c in (
            "sex", "education", "startkwalificatie", "household", "barrier_health",
            "barrier_language", "barrier_debts", "ladder_intake",
        ):  # fmt: skip
            if c in ps.columns:
                frame[c] = ps[c].to_numpy()
        rows.append(frame)
    out = pd.concat(rows, ignore_index=True)
    n_persons = int(out["person_id"].nunique())
    if len(rows) > 1:
        flow.add(
            "pilot: all placement dates",
            "spells",
            len(out),
            len(out),
            f"one row per person and placement date: {len(out):,} rows of {n_persons:,} "
            "persons (someone on bijstand on several placement dates is a possible comparison "
            "on each)",
            f"één rij per persoon en plaatsingsdatum: {nl_int(len(out))} rijen van "
            f"{nl_int(n_persons)} personen (wie op meer plaatsingsdata in de bijstand zat, kan "
            "op elk daarvan vergelijkingspersoon zijn)",
        )
    missing = set(pil["person_id"]) - set(out.loc[out["treated"] == 1, "person_id"])
    if missing:
        raise DataValidationError(
            f"{len(missing)} '{programme}' participant(s) are not on benefit at their "
            f"placement start, e.g. person_id {sorted(missing)[:5]}"
        )
    for h in (0, *horizons):
        when = out["cohort"] + pd.to_timedelta(h * DAYS_PER_MONTH, unit="D")
        if (when > extract).any():
            raise DataValidationError(
                f"employment {h} months after the placement start lies after the extract "
                f"date {extract.date()} for some cohorts; choose shorter horizons"
            )
        person = out["person_id"].to_numpy()
        out[f"employed_{h}m"] = _running_at(dataset.jobs, person, when.to_numpy())
        if h > 0:
            out[f"off_benefit_{h}m"] = 1 - _running_at(spells, person, when.to_numpy())
        if getattr(dataset, "ladder", None) is not None and not dataset.ladder.empty:
            out[f"ladder_{h}m"] = _ladder_at(dataset.ladder, person, when.to_numpy())
    for c in ("startkwalificatie", "barrier_health", "barrier_language", "barrier_debts"):
        if c in out.columns:
            out[c] = out[c].astype(int)
    out["cohort"] = out["cohort"].dt.strftime("%Y-%m-%d")
    out.attrs["flow"] = flow
    return out
