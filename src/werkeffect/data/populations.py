"""The populations the evaluations study, each restriction a counted step of the data flow.

One definition serves the evaluation script and the Monte Carlo that validates its
estimator, so the two cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from werkeffect.data.dataset import Dataset
from werkeffect.data.frames import episodes
from werkeffect.exceptions import EstimationError
from werkeffect.formatting import nl_int

#: bijstand ends at the state-pension (AOW) age
AOW_AGE = 67.0
#: an exit within this many years of the AOW age is the administrative end at that age
AOW_MARGIN_YEARS = 0.05
#: how the flow record names the programmes whose participants are left out
PROGRAMME_NAMES = {"stadsbeheer": ("the stadsbeheer pilot", "de pilot stadsbeheer")}


def jobcoaching_spells(
    dataset: Dataset,
    *,
    window_start: str = "2015-01-01",
    municipality: str = "Groningen",
    other_programmes: Sequence[str] = ("stadsbeheer",),
    aow_age: float = AOW_AGE,
    aow_margin_years: float = AOW_MARGIN_YEARS,
) -> pd.DataFrame:
    """Bijstand spells at risk of jobcoaching, as start–stop rows (:func:`episodes`).

    - Jobcoaching is offered in ``municipality`` only: the extract also holds the bijstand
      spells of WW exhaustees in the comparison municipalities.
    - Participants of ``other_programmes`` (the stadsbeheer pilot) get another programme and
      are evaluated on their own.
    - Bijstand ends at the AOW age: a spell that starts at that age is outside the target
      group, and an exit at it (within ``aow_margin_years``) is censoring, not a behavioural
      exit (``cause`` and ``event`` set to 0).

    Each restriction is a step of ``dataset.flow`` (English and Dutch reasons), after the
    steps of :func:`episodes` itself.
    """
    flow = dataset.flow
    _require_participations(dataset, "jobcoaching")
    ep = episodes(dataset, programme="jobcoaching", window_start=window_start)
    if "flow" in ep.attrs:
        flow.add_new_steps(ep.attrs["flow"])

    def keep(mask: np.ndarray, reason: str, reason_nl: str) -> pd.DataFrame:
        n_in = ep["spell_id"].nunique()
        out = ep.loc[mask].reset_index(drop=True)
        flow.add("population", "spells", n_in, out["spell_id"].nunique(), reason, reason_nl)
        return out

    living_in = dataset.persons.set_index("person_id")["municipality"]
    ep = keep(
        ep["person_id"].map(living_in).eq(municipality).to_numpy(),
        f"bijstand spells of persons living in {municipality} (comparison municipalities "
        "belong to the WW evaluation)",
        f"bijstandsuitkeringen van inwoners van {municipality} (de vergelijkingsgemeenten "
        "horen bij de evaluatie van WW naar bijstand)",
    )
    codes = dataset.programmes["programme"].astype(str)
    others = set(dataset.programmes.loc[codes.isin(list(other_programmes)), "person_id"])
    names = [PROGRAMME_NAMES.get(p, (p, p)) for p in other_programmes]
    ep = keep(
        ~ep["person_id"].isin(others).to_numpy(),
        f"spells of participants of {' and '.join(n[0] for n in names)} left out (another "
        "programme, evaluated on its own)",
        f"uitkeringen van deelnemers aan {' en '.join(n[1] for n in names)} weggelaten (een "
        "ander traject, apart geëvalueerd)",
    )
    aow_nl = f"{aow_age:g}".replace(".", ",")
    ep = keep(
        (ep["age"] < aow_age).to_numpy(),
        f"spells starting at or after the state-pension age ({aow_age:g}) left out",
        f"uitkeringen die beginnen op of na de AOW-leeftijd ({aow_nl} jaar) weggelaten",
    )
    exit_age = ep["age"] + ep.groupby("spell_id")["stop"].transform("max") / 12
    at_aow = ((exit_age >= aow_age - aow_margin_years) & (ep["cause"] > 0)).to_numpy()
    n_spells = ep["spell_id"].nunique()
    n_at_aow = ep.loc[at_aow, "spell_id"].nunique()
    flow.add(
        "censoring",
        "spells",
        n_spells,
        n_spells,
        f"{n_at_aow:,} exits at the state-pension age counted as censored",
        f"{nl_int(n_at_aow)} keer uitstroom bij het bereiken van de AOW-leeftijd geteld als "
        "gecensureerd",
    )
    ep.loc[at_aow, ["cause", "event"]] = 0
    if not ep["treated"].any():
        n = int(dataset.programmes["programme"].astype(str).eq("jobcoaching").sum())
        raise EstimationError(
            f"none of the {n:,} jobcoaching participations in table programmes starts in a "
            f"bijstand spell of the population ({municipality} residents of bijstand age, "
            f"spells running on or after {window_start}; see the data flow): the effect of "
            "jobcoaching cannot be estimated without participants"
        )
    return ep


def _require_participations(dataset: Dataset, programme: str) -> None:
    """Refuse an evaluation of ``programme`` when table programmes holds none of its
    participations (an empty table, or only other programmes)."""
    pr = dataset.programmes
    codes = pr["programme"].astype(str) if pr is not None else pd.Series(dtype=str)
    if codes.eq(programme).any():
        return
    held = ", ".join(sorted(codes.unique())) or "none: the table is empty"
    raise EstimationError(
        f"no {programme} participations in table programmes ({len(codes):,} rows; programmes "
        f"present: {held}): the effect of {programme} cannot be estimated without "
        f"participants; check that the extract's programmes file holds the {programme} "
        f"participations (programme = '{programme}')"
    )
