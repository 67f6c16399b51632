"""Programme monitor: exits to work per year against the programme's targets, and how many of
them the programme caused.

The counts are what the municipality reports (*prestatie-indicatoren*, seed 004): people on
bijstand who leave for a regular paid job, achieved 861 (2019) and 937 (2020), targets 1,300
(2021) and 1,000 (2022). A count of exits says nothing about the programme's effect: most of
those exits would have happened anyway. The *extra* exits come from an evaluation: the ATT on
exit to work (per participant) times the number of participants who started that year.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import stats

from werkeffect.data.dataset import Dataset
from werkeffect.data.frames import DAYS_PER_MONTH, participation_spells

#: Exits from bijstand to a regular paid job: achieved (2019, 2020) and targets (2021, 2022).
EXITS_TO_WORK_ACHIEVED = {2019: 861, 2020: 937}
EXITS_TO_WORK_TARGET = {2021: 1_300, 2022: 1_000}
EXITS_TO_EDUCATION_TARGET = {2021: 200, 2022: 200}

#: Exits to paid work: a regular job, and part-time work that ends the benefit. The
#: evaluations count both as an exit to work (``werkeffect.data.schema.EXIT_GROUPS``), so the
#: extra exits they estimate are a part of these; the reported 861 and 937 are all exits to
#: work, and the simulator is calibrated to them on the same definition.
WORK_REASONS = ("werk", "deeltijdwerk")


def exits_by_year(
    dataset: Dataset,
    *,
    reasons: tuple[str, ...] = WORK_REASONS,
    municipality: str | None = "Groningen",
    years: tuple[int, int] | None = None,
) -> pd.Series:
    """Number of bijstand spells ending with one of ``reasons``, per calendar year of the end.

    Only spells of persons living in ``municipality`` count (None: all). Years without exits
    are shown as 0 within ``years`` (default: the years the spells cover).
    """
    spells = dataset.spells
    ids = _residents(dataset, municipality)
    if ids is not None:
        spells = spells[spells["person_id"].isin(ids)]
        if spells.empty:
            raise ValueError(f"no bijstand spells of persons in municipality {municipality!r}")
    ended = spells[spells["exit_reason"].isin(reasons) & spells["end_date"].notna()]
    counts = ended["end_date"].dt.year.value_counts().sort_index()
    if years is None:
        lo = int(spells["start_date"].dt.year.min())
        hi = int(pd.Timestamp(dataset.extract_date).year)
        years = (lo, hi)
    index = pd.RangeIndex(years[0], years[1] + 1, name="year")
    return counts.reindex(index, fill_value=0).astype(int).rename("exits")


def _residents(dataset: Dataset, municipality: str | None) -> pd.Series | None:
    if municipality is None:
        return None
    if "municipality" not in dataset.persons.columns:
        raise ValueError("persons table lacks column 'municipality' to select on")
    return dataset.persons.loc[dataset.persons["municipality"] == municipality, "person_id"]


def programme_starts_by_year(
    dataset: Dataset, programme: str = "jobcoaching", *, municipality: str | None = "Groningen"
) -> pd.Series:
    """Number of participations in ``programme`` starting each calendar year, of persons
    living in ``municipality`` (None: all), as the exits are counted."""
    p = dataset.programmes
    p = p[p["programme"] == programme]
    ids = _residents(dataset, municipality)
    if ids is not None:
        p = p[p["person_id"].isin(ids)]
    return p["start_date"].dt.year.value_counts().sort_index().rename("participants")


def participant_exits_to_work(
    dataset: Dataset,
    programme: str = "jobcoaching",
    *,
    within_months: float = 12.0,
    reasons: tuple[str, ...] = WORK_REASONS,
    municipality: str | None = "Groningen",
) -> pd.DataFrame:
    """Per calendar year of the start: participations and how many of them were followed by
    an exit to work within ``within_months`` of the start (the benefit spell the
    participation started in ended with one of ``reasons``).

    This is what a programme counts as its result when it counts every participant who
    finds work; it is not the effect (most would have found work anyway). Columns ``year,
    participants, exits_work_within``; a participation outside any spell counts as a
    participant without an exit.
    """
    link = participation_spells(dataset, programme)
    ids = _residents(dataset, municipality)
    if ids is not None:
        link = link[link["person_id"].isin(ids)]
    found = link["exit_reason"].isin(reasons) & (
        link["days_to_spell_end"] <= within_months * DAYS_PER_MONTH
    )
    out = (
        pd.DataFrame({"year": link["start_date"].dt.year.to_numpy(), "found": found.to_numpy()})
        .groupby("year")
        .agg(participants=("found", "size"), exits_work_within=("found", "sum"))
    )
    return out.reset_index().astype(int)


def monitor_table(
    exits: pd.Series,
    participants: pd.Series,
    att_exit_work: float,
    att_std_error: float,
    *,
    targets: Mapping[int, int] | None = None,
    achieved_reported: Mapping[int, int] | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Exits per year beside the targets, with the extra exits the programme caused.

    ``extra_exits`` = ATT × participants starting that year (attributing a participant's extra
    exit to the year the participation started — a simplification stated in the report), with
    the interval from the ATT's standard error. ``share_extra`` is the part of all exits that
    is extra.
    """
    targets = dict(EXITS_TO_WORK_TARGET if targets is None else targets)
    reported = dict(EXITS_TO_WORK_ACHIEVED if achieved_reported is None else achieved_reported)
    z = stats.norm.ppf(0.5 + level / 2)
    years = exits.index
    n = participants.reindex(years, fill_value=0).to_numpy(dtype=float)
    out = pd.DataFrame(
        {
            "year": years.to_numpy(),
            "exits_work": exits.to_numpy(),
            "reported": [reported.get(int(y), np.nan) for y in years],
            "target": [targets.get(int(y), np.nan) for y in years],
            "participants": n.astype(int),
            "extra_exits": att_exit_work * n,
            "extra_lower": (att_exit_work - z * att_std_error) * n,
            "extra_upper": (att_exit_work + z * att_std_error) * n,
        }
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        out["share_of_target"] = out["exits_work"] / out["target"]
        out["share_extra"] = out["extra_exits"] / out["exits_work"].where(out["exits_work"] > 0)
    return out
