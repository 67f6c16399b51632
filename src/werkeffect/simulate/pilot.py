"""Pilot statushouders bij stadsbeheer.

On each pilot date, Groningen statushouders on bijstand that day (aged 18-59) are selected
into a stadsbeheer placement with probability proportional to ``exp(score)``, where the score
is linear in recorded characteristics (``pilot_beta``), falls with the months on bijstand
(``pilot_duration_coef`` per log(1 + months): caseworkers pick recent arrivals) and — only when
``pilot_select_on_motivation`` — in motivation. Sampling without replacement uses the
Gumbel-top-k trick. From the placement start the exit-to-work hazard is multiplied by
``exp(pilot_effect)``. The participants' spells are then re-simulated from the placement on
with the same random numbers, which gives both potential outcomes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from werkeffect.simulate.params import to_months
from werkeffect.simulate.spells import Context, concat, select, simulate_chain
from werkeffect.simulate.world import features, linear_index


@dataclass
class PilotResult:
    pos: np.ndarray  # person positions of the participants
    date: np.ndarray  # calendar month of the placement start
    end: np.ndarray  # calendar month the placement ends
    untreated_spells: dict  # the participants' spells without the pilot (from the placement on)
    treated_spells: dict


def run_pilot(ctx: Context, spells: dict) -> tuple[dict, PilotResult | None]:
    p = ctx.p
    if p.pilot_size <= 0 or not p.pilot_dates:
        return spells, None
    gen = ctx.streams.generator("pilot")
    pop = ctx.pop
    k_per = np.diff(np.round(np.linspace(0, p.pilot_size, len(p.pilot_dates) + 1))).astype(int)
    chosen_rows: list[np.ndarray] = []
    dates: list[np.ndarray] = []
    taken = np.zeros(pop.n, dtype=bool)
    t0, T, pos = spells["t0"], spells["T"], spells["pos"]
    for date, k in zip(p.pilot_dates, k_per, strict=True):
        d = to_months(date)
        age = (d - pop.birth[pos]) / 12.0
        on = (t0 <= d) & (t0 + T > d) & (pop.municipality[pos] == 0) & pop.statushouder[pos]
        on &= (age >= 18) & (age < 60) & ~taken[pos]
        rows = np.flatnonzero(on)
        if rows.size < k:
            raise ValueError(
                f"pilot on {date}: only {rows.size} eligible statushouders on benefit, "
                f"need {k}; lower pilot_size or change pilot_dates"
            )
        f = features(pop, pos[rows], age[rows])
        score = linear_index(p.pilot_beta, f, rows.size)
        score = score + p.pilot_duration_coef * np.log1p(d - t0[rows])
        if p.pilot_select_on_motivation:
            score = score + p.pilot_motivation_coef * pop.motivation[pos[rows]]
        key = score + gen.gumbel(size=rows.size)
        pick = rows[np.argsort(-key, kind="stable")[:k]]
        taken[pos[pick]] = True
        chosen_rows.append(pick)
        dates.append(np.full(k, d))
    rows = np.concatenate(chosen_rows)
    date = np.concatenate(dates)
    ppos = pos[rows]
    prnd = spells["rnd"][rows]
    pt0 = t0[rows]
    # spells of participants from the pilot spell on are replaced
    later = np.isin(pos, ppos)
    first_rnd = np.zeros(pop.n, dtype=np.int64)
    first_rnd[ppos] = prnd
    replace = later & (spells["rnd"] >= first_rnd[pos])
    untreated = select(spells, replace)
    treated = simulate_chain(ctx, ppos, pt0, rnd=prnd, P=date - pt0)
    new = concat([select(spells, ~replace), treated])
    # placement end: pilot_months after the start or the exit, whichever first
    tr_first = _first_spell(treated, ppos, prnd)
    end = np.minimum(date + p.pilot_months, tr_first["t0"] + tr_first["T"])
    return new, PilotResult(ppos, date, end, untreated, treated)


def _first_spell(sp: dict, ppos: np.ndarray, prnd: np.ndarray) -> dict:
    """The spell (pos, rnd) of each participant, in participant order."""
    key = sp["pos"].astype(np.int64) * 64 + sp["rnd"]
    want = ppos.astype(np.int64) * 64 + prnd
    order = np.argsort(key)
    i = order[np.searchsorted(key[order], want)]
    return {k: v[i] for k, v in sp.items()}
