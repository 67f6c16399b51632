"""``simulate()``: synthetic Groningen with known true effects."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from werkeffect.data.dataset import Dataset
from werkeffect.data.flow import DataFlow
from werkeffect.simulate.jobs import jobs_of, ladder_of
from werkeffect.simulate.params import resolve_params
from werkeffect.simulate.pilot import run_pilot
from werkeffect.simulate.rng import Streams
from werkeffect.simulate.spells import Context, select, simulate_chain
from werkeffect.simulate.tables import build_tables
from werkeffect.simulate.truth import Truth, jobcoaching_truth, pilot_truth
from werkeffect.simulate.world import Population, draw_inflow
from werkeffect.simulate.ww import municipality_names, period_label, simulate_ww, ww_truth


def simulate(
    scenario: str = "groningen",
    seed: int = 0,
    scale: str | float = "groningen",
    typed: bool | str = "auto",
    **params: Any,
) -> tuple[Dataset, Truth]:
    """Simulate the Groningen bijstand caseload, WW exhaustees and programmes.

    Parameters
    ----------
    scenario
        ``"groningen"`` (default: caseworkers select jobcoaching participants partly on
        unrecorded motivation) or ``"groningen-observables"`` (motivation and frailty affect no
        hazard, so selection is on recorded characteristics only).
    seed
        Non-negative integer; the same seed gives identical tables.
    scale
        ``"groningen"`` (stock of about 10,000), ``"national"`` (about 400,000) or a positive
        number multiplying every population size (e.g. ``0.25`` for fast Monte Carlo runs).
    typed
        Pass the tables through the data layer's validation
        (``werkeffect.data.validate.validate``), so they have exactly the types ``load`` gives
        for the written files (ids as text, nullable booleans, codes as text). ``"auto"``
        (default): yes up to 5 times the Groningen scale, no at the national scale (where it
        would double the run time); ``False``: the simulator's own types (``int64`` ids,
        categorical codes, numpy booleans), which also follow the schema.
    **params
        Any field of :class:`~werkeffect.simulate.params.SimParams` (effects, selection
        strength, calibration). Unknown names raise ``TypeError``.

    Returns
    -------
    (Dataset, Truth)
        The tables as an extract drawn on ``extract_date`` and the true estimands.
    """
    p = resolve_params(scenario, scale, **params)
    streams = Streams(seed)
    inflow = draw_inflow(streams, p)
    ww = simulate_ww(streams, p)
    pop = Population.concat([inflow, ww.pop])
    base = inflow.n
    flows = np.flatnonzero(ww.inflow)
    pop.entry[base + flows] = ww.end[flows] + ww.inflow_time[flows]
    ctx = Context.build(p, streams, pop)
    first = np.flatnonzero(
        np.isfinite(pop.entry)
        & (pop.entry < ctx.month_horizon)
        & ((pop.entry - pop.birth) / 12.0 < p.aow_age - 1 / 12)
    )
    spells = simulate_chain(ctx, first, pop.entry[first])
    spells, pilot = run_pilot(ctx, spells)
    # only spells the extract can see need jobs and ladder assessments
    job_end = spells["t0"] + spells["T"] + np.where(spells["cause"] == 1, spells["R"], 0.0)
    jobs = jobs_of(ctx, select(spells, job_end >= ctx.month_window))
    ladder = ladder_of(ctx, select(spells, spells["t0"] + spells["T"] >= ctx.month_window))
    names = municipality_names(p)
    tables, _ = build_tables(ctx, spells, ww, pilot, jobs, ladder, names)

    values, counts = jobcoaching_truth(ctx, spells)
    pv, pc = pilot_truth(ctx, pilot)
    values.update(pv)
    values.update(ww_truth(ww))
    values["nazorg.log_hazard_ratio_return"] = float(p.nazorg_effect)
    values["nazorg.hazard_ratio_return"] = float(np.exp(p.nazorg_effect))
    values["pilot.hazard_ratio"] = float(np.exp(p.pilot_effect))
    counts.update(pc)
    groups = sorted({int(g) for g in ww.group[ww.group > 0]})
    tparams = {
        "scenario": scenario,
        "seed": int(seed),
        "scale": p.scale,
        "sim": p.to_dict(),
        "effects": {
            "jobcoaching_effect": [list(x) for x in p.jobcoaching_effect],
            "nazorg_effect": p.nazorg_effect,
            "pilot_effect": p.pilot_effect,
            "ww_effect": p.ww_effect,
            "ww_effect_growth": p.ww_effect_growth,
        },
        "counts": counts,
        "ww_periods": {str(t): period_label(t) for t in range(1, 17)},
        "ww_groups": {names[m]: int(g) for m, g in enumerate(_groups_by_muni(ww, len(names)))},
        "ww_groups_present": groups,
    }
    flow = DataFlow()
    for name, table in tables.items():
        flow.add(
            "simulate",
            name,
            len(table),
            len(table),
            f"simulated ({scenario}, seed {seed})",
            f"gesimuleerd ({scenario}, seed {seed})",
        )
    if typed == "auto":
        typed = p.scale <= 5.0
    if typed:
        tables, flow = _typed(tables, pd.Timestamp(p.extract_date), flow)
    dataset = Dataset(
        persons=tables["persons"],
        spells=tables["spells"],
        programmes=tables["programmes"],
        ww=tables["ww"],
        extract_date=pd.Timestamp(p.extract_date),
        jobs=tables["jobs"],
        ladder=tables["ladder"],
        flow=flow,
        source=f"werkeffect.simulate(scenario={scenario!r}, seed={seed}, scale={scale!r})",
    )
    return dataset, Truth(values=values, params=tparams)


def _groups_by_muni(ww, k: int) -> list[int]:
    out = [0] * k
    for m in range(k):
        sel = ww.municipality == m
        if sel.any():
            out[m] = int(ww.group[sel][0])
    return out


def _typed(tables: dict, extract_date: pd.Timestamp, flow: DataFlow) -> tuple[dict, DataFlow]:
    """The tables as ``load`` would type them (when the data layer's validation exists)."""
    try:
        from werkeffect.data.validate import validate
    except ImportError:  # the data layer's validation is not available: keep our types
        return tables, flow
    return validate(tables, extract_date=extract_date, flow=flow)
