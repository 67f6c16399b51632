"""Pilot analysis frame on simulated data; plots render."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")

from werkeffect.matching import NearestNeighborMatch, love_plot, overlap_plot

sys.path.insert(0, str(Path(__file__).parent))
from _matching_dgp import confounded


def test_pilot_frame_reproduces_the_simulators_treated_outcome():
    """The frame's participants and their employment 12 and 24 months after the placement
    start agree with the simulator's own record of the same quantities."""
    sim = pytest.importorskip("werkeffect.simulate")
    from werkeffect.matching.pilot import pilot_frame

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds, truth = sim.simulate(scenario="groningen-observables", seed=5, scale=0.4)
    f = pilot_frame(ds)
    t = f[f["treated"] == 1]
    assert len(t) == int(ds.programmes["programme"].eq("stadsbeheer").sum())
    for h in (12, 24):
        assert t[f"employed_{h}m"].mean() == pytest.approx(
            truth.values[f"pilot.employed_{h}m_treated"]
        )
        # off benefit: no bijstand spell runs then (after any exit, not only to work)
        assert t[f"off_benefit_{h}m"].mean() == pytest.approx(
            truth.values[f"pilot.off_benefit_{h}m_treated"]
        )
    # the ladder step of the latest assessment by then (missing when there is none), checked
    # row by row for the participants and some comparison persons
    rows = pd.concat([t, f[f["treated"] == 0].iloc[::50]])
    for _, r in rows.iterrows():
        for h in (0, 12):
            when = pd.Timestamp(r["cohort"]) + pd.Timedelta(days=h * 365.25 / 12)
            seen = ds.ladder[(ds.ladder["person_id"] == r["person_id"])
                             & (ds.ladder["date"] <= when)].sort_values("date")  # fmt: skip
            want = float(seen["step"].iloc[-1]) if len(seen) else np.nan
            assert r[f"ladder_{h}m"] == want or (np.isnan(want) and np.isnan(r[f"ladder_{h}m"]))
    assert (f.groupby("cohort")["treated"].sum() > 0).all()
    assert f.loc[f["treated"] == 0, "person_id"].isin(t["person_id"]).sum() == 0
    # every kept row is counted in the data flow: one step per placement date
    steps = [s for s in f.attrs["flow"] if s.step.startswith("pilot: placement date")]
    assert len(steps) == f["cohort"].nunique()
    assert sum(s.rows_out for s in steps) == len(f)
    assert all(s.rows_in == len(ds.spells) for s in steps)
    # and a closing step says how many rows and persons the dates make together
    (together,) = [s for s in f.attrs["flow"] if s.step == "pilot: all placement dates"]
    assert together.rows_in == together.rows_out == len(f)
    assert f"of {f['person_id'].nunique():,} persons" in together.reason
    # the permit (arrival) cohort is the year of the person's residence permit
    permit = ds.persons.set_index("person_id")["permit_date"].reindex(f["person_id"])
    expected = permit.dt.year.astype("Int64").astype(str).where(permit.notna(), "onbekend")
    assert (f["permit_cohort"].to_numpy() == expected.to_numpy()).all()
    assert f["permit_cohort"].nunique() > 1
    years = (pd.to_datetime(f["cohort"]) - permit.to_numpy()).dt.days / 365.25
    np.testing.assert_allclose(f["years_since_permit"], years)


def test_plots_render():
    df, _ = confounded(500, seed=41)
    res = NearestNeighborMatch(df, "d", ["x1", "x2", "x3"], caliper=0.2).fit()
    ax = res.love_plot()
    assert len(ax.collections) >= 2
    ax = res.overlap_plot()
    assert ax.get_xlabel() == "propensity score"
    ax = overlap_plot(res.ps, res.d, lang="nl")
    assert ax.get_title() == "Overlap van de propensity scores"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "deelnemers",
        "vergelijkingsgroep",
    ]
    ax = love_plot(res.balance(), threshold=0.05, absolute=False)
    assert ax.get_title() == "Covariate balance"
    # covariates in words and the plot's words in Dutch, for a Dutch report
    ax = love_plot(res.balance(), labels={"x1": "leeftijd"}, lang="nl")
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert "leeftijd" in ticks and "x2" in ticks and "x1" not in ticks
    assert ax.get_xlabel() == "absoluut gestandaardiseerd verschil"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["vóór", "na"]
    ax = love_plot(res.balance(), labels=str.upper)
    assert "X1" in [t.get_text() for t in ax.get_yticklabels()]
    r = res.att("y")
    assert r.plot() is not None
    assert "ATT" in r.summary()
    assert np.isfinite(r.to_frame()["p_value"]).all()
