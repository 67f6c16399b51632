"""Clear errors: no events, empty groups, separation, non-convergence, overlapping episodes,
immortal time, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from werkeffect.exceptions import DataValidationError, EstimationError
from werkeffect.survival import (
    AalenJohansen,
    CoxPH,
    DiscreteTimeHazard,
    FineGray,
    ImmortalTimeError,
    KaplanMeier,
    cif_difference,
    rmst_difference,
)


@pytest.fixture
def spells() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 300
    x = rng.normal(size=n)
    g = rng.binomial(1, 0.5, n)
    t = rng.exponential(1 / (0.05 * np.exp(0.3 * x)))
    c = rng.uniform(5, 30, n)
    return pd.DataFrame({"id": np.arange(n), "t": np.minimum(t, c), "e": (t <= c).astype(int),
                         "x": x, "g": g, "cause": np.where(t <= c, 1 + g, 0)})  # fmt: skip


def test_no_events(spells):
    d = spells.assign(e=0, cause=0)
    with pytest.raises(EstimationError, match="no events"):
        CoxPH(d, duration="t", event="e", covariates=["x"]).fit()
    with pytest.raises(EstimationError, match="no events"):
        KaplanMeier(d, duration="t", event="e").fit()
    with pytest.raises(EstimationError, match="no events"):
        AalenJohansen(d, duration="t", cause="cause").fit()
    with pytest.raises(EstimationError, match="no exits of cause 1"):
        FineGray(d, duration="t", cause="cause", cause_of_interest=1, covariates=["x"]).fit()


def test_group_with_no_one_at_risk(spells):
    d = spells.assign(grp=pd.Categorical(spells["g"].map({0: "a", 1: "b"}),
                                         categories=["a", "b", "c"]))  # fmt: skip
    with pytest.raises(EstimationError, match=r"\['c'\].*no one at risk"):
        KaplanMeier(d, duration="t", event="e", group="grp")
    # beyond the follow-up of a group the curve is not identified
    short = spells.copy()
    short.loc[short["g"] == 1, "t"] = np.minimum(short.loc[short["g"] == 1, "t"], 4.0)
    short.loc[(short["g"] == 1) & (short["t"] == 4.0), "e"] = 0
    with pytest.raises(EstimationError, match="no one in group 1 is at risk at 12 months"):
        rmst_difference(short, "t", "e", "g", horizon=12)
    with pytest.raises(EstimationError, match="no one in group 1 is at risk"):
        cif_difference(short.assign(cause=short["e"]), "t", "cause", "g", times=[12])


def test_logrank_stratum_without_one_group_warns_in_both_languages(spells):
    """A stratum where a group has no one at risk adds nothing; the warning says so, also in
    Dutch for the reports."""
    from werkeffect.exceptions import EstimationWarning
    from werkeffect.survival import logrank_test

    d = spells.assign(s="gemengd")
    d.loc[d[d["g"] == 0].index[:50], "s"] = "alleen_a"  # group 1 has no one there
    with pytest.warns(
        EstimationWarning, match=r"\[1\] have no one at risk in stratum 'alleen_a'"
    ) as rec:
        logrank_test(d, duration="t", event="e", group="g", strata="s")
    assert "[1] hebben niemand in de risicoset in stratum 'alleen_a'" in rec[0].message.nl


def test_perfect_separation(spells):
    d = spells.copy()
    d.loc[d["g"] == 1, "e"] = 0  # nobody in group 1 ever exits: hazard ratio 0
    with pytest.raises(EstimationError, match="monotone likelihood.*g"):
        CoxPH(d, duration="t", event="e", covariates=["x", "g"]).fit()


def test_non_convergence_says_what_to_try(spells):
    with pytest.raises(EstimationError, match="did not converge.*max_iter.*rescale"):
        CoxPH(spells, duration="t", event="e", covariates=["x", "g"]).fit(max_iter=1)


def test_overlapping_episodes_are_refused():
    ep = pd.DataFrame({"pid": [1, 1, 2, 2], "start": [0.0, 5.0, 0.0, 3.0],
                       "stop": [6.0, 9.0, 3.0, 8.0], "event": [0, 1, 0, 1],
                       "treated": [0, 1, 0, 1]})  # fmt: skip
    with pytest.raises(DataValidationError, match=r"overlap.*ids 1\b"):
        CoxPH(ep, duration="stop", event="event", entry="start", covariates=["treated"], id="pid")
    ok = ep.assign(start=[0.0, 6.0, 0.0, 3.0])
    CoxPH(ok, duration="stop", event="event", entry="start", covariates=["treated"], id="pid")
    with pytest.raises(DataValidationError, match="repeated ids but no entry"):
        CoxPH(ep, duration="stop", event="event", covariates=["treated"], id="pid")


def test_immortal_time_guard():
    # per-spell rows with an 'ever treated' flag and the programme start after spell start
    d = pd.DataFrame({"t": [10.0, 20.0, 5.0, 30.0, 12.0, 8.0], "e": [1, 1, 1, 0, 1, 1],
                      "ever": [1, 1, 0, 0, 1, 0],
                      "programme_start": [3.0, 6.0, np.nan, np.nan, 2.0, np.nan]})  # fmt: skip
    with pytest.raises(ImmortalTimeError, match="immortal-time bias.*episode"):
        KaplanMeier(d, duration="t", event="e", group="ever")
    with pytest.raises(ImmortalTimeError, match="start–stop"):
        CoxPH(d, duration="t", event="e", covariates=["ever"])
    with pytest.raises(ImmortalTimeError):
        rmst_difference(d, "t", "e", "ever", horizon=5)
    # explicit column name works the same way
    d2 = d.rename(columns={"programme_start": "jc_start"})
    with pytest.raises(ImmortalTimeError):
        AalenJohansen(d2.assign(c=d2["e"]), duration="t", cause="c", group="ever",
                      treatment_start="jc_start")  # fmt: skip
    # the episode form (treatment switching on at its start) passes
    ep = pd.DataFrame({"start": [0.0, 3.0, 0.0, 0.0, 0.0, 2.0, 0.0],
                       "stop": [3.0, 10.0, 5.0, 30.0, 2.0, 12.0, 8.0],
                       "e": [0, 1, 1, 0, 0, 1, 1], "treated": [0, 1, 0, 0, 0, 1, 0],
                       "programme_start": [3, 3, np.nan, np.nan, 2, 2, np.nan]})  # fmt: skip
    CoxPH(ep, duration="stop", event="e", entry="start", covariates=["treated"])
    # a genuinely baseline characteristic is not a treatment: no refusal
    CoxPH(d.assign(female=[1, 0, 1, 0, 0, 1]), duration="t", event="e", covariates=["female"])


def test_bad_input_names_column_and_rows(spells):
    with pytest.raises(DataValidationError, match=r"\['nope'\] not found"):
        CoxPH(spells, duration="t", event="e", covariates=["nope"])
    d = spells.copy()
    d.loc[[3, 7], "x"] = np.nan
    with pytest.raises(DataValidationError, match="'x' has 2 missing.*rows 3, 7"):
        CoxPH(d, duration="t", event="e", covariates=["x"])
    with pytest.raises(DataValidationError, match="entry/start column 'x' must be smaller"):
        CoxPH(spells.assign(x=100.0), duration="t", event="e", entry="x", covariates=["g"])
    with pytest.raises(DataValidationError, match="0 .censored. or 1"):
        KaplanMeier(spells.assign(e=2), duration="t", event="e")
    with pytest.raises(EstimationError, match="single value"):
        CoxPH(spells.assign(k=1.0), duration="t", event="e", covariates=["k"]).fit()


def test_discrete_time_month_without_exits():
    pm = pd.DataFrame(
        {"d": [0, 1, 2, 0, 1, 2, 3], "y": [0, 1, 0, 0, 0, 0, 1], "z": [0, 0, 0, 1, 1, 1, 1]}
    )
    with pytest.raises(EstimationError, match=r"no exits at elapsed month\(s\) \[0, 2\]"):
        DiscreteTimeHazard(pm, duration="d", event="y", covariates=["z"]).fit()


def test_kaplan_meier_error_is_undefined_not_a_warning_once_everyone_has_left():
    """All at risk leave at the last time: S = 0 there, Greenwood's variance is infinite and
    the standard error NaN (as R's survfit), without a numpy warning."""
    import warnings as _w

    from werkeffect.survival import KaplanMeier

    df = pd.DataFrame({"t": [1.0, 2.0, 3.0, 3.0], "e": [1, 0, 1, 1]})
    with _w.catch_warnings():
        _w.simplefilter("error")
        curve = KaplanMeier(df, duration="t", event="e").fit(times=[3.0]).curves
    last = curve.iloc[-1]
    assert last["estimate"] == 0.0 and np.isnan(last["std_error"])
    assert np.isfinite(curve.iloc[0]["std_error"])


def test_risk_table_beyond_the_shown_axis_does_not_shrink_the_figure():
    """The jobcoaching figures once showed as thumbnails: the risk table's counts at times
    past a later ``set_xlim`` stretched the saved figure's tight bounding box."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from werkeffect.survival import KaplanMeier

    rng = np.random.default_rng(3)
    d = pd.DataFrame({"t": rng.exponential(40, 2000), "e": 1})
    km = KaplanMeier(d, duration="t", event="e").fit()
    widths = []
    for times in ((0, 20, 40), (0, 20, 40, 200, 400)):
        fig, ax = plt.subplots(figsize=(6, 3.5))
        km.plot(ax=ax, risk_times=times, xlim=(0, 40), title="", risk_title="nog in bijstand",
                lang="nl")  # fmt: skip
        fig.canvas.draw()
        widths.append(fig.get_tightbbox(fig.canvas.get_renderer()).width)
        counts = [t.get_text() for t in ax.risk_table_ax.texts if t.get_text()[:1].isdigit()]
        assert len(counts) == 3  # the times on the axis only
        assert counts[0] == "2.000"  # Dutch thousands (lang="nl")
        assert ax.get_title() == "" and ax.risk_table_ax.get_title(loc="left") == "nog in bijstand"
        plt.close(fig)
    assert widths[1] == pytest.approx(widths[0], rel=0.02)


def test_curves_are_named_in_the_legend():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from werkeffect.survival import AalenJohansen

    rng = np.random.default_rng(4)
    d = pd.DataFrame({"t": rng.exponential(30, 400), "c": rng.integers(1, 3, 400)})
    aj = AalenJohansen(d, duration="t", cause="c").fit()
    fig, ax = plt.subplots()
    aj.plot(ax=ax, labels={1: "werk", 2: "scholing"})
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["werk", "scholing"]
    assert ax.get_title().startswith("Aalen")  # the method's name unless told otherwise
    plt.close(fig)
