"""Recovery of the programme effect under selection on unobservables.

Data-generating process written here: two unobserved types ("motivated" people exit faster
AND enter the programme faster), a covariate, a constant programme effect delta on the exit
hazard from programme start, censoring. The naive model without heterogeneity attributes
the motivated's fast exits to the programme and is biased upward; the timing-of-events model
recovers delta and the ATT on exit within 12 months.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from werkeffect.survival import TimingOfEvents

DELTA = 0.3
H_EXIT = 0.03
H_PROG = 0.02
V_EXIT = np.log(3.0)
V_PROG = np.log(4.0)
P_MOTIVATED = 0.4


def simulate(n_persons, seed, spells_per_person=1, truncate_share=0.0, programme_from_entry=False):
    rng = np.random.default_rng(seed)
    motivated = rng.random(n_persons) < P_MOTIVATED
    pid = np.repeat(np.arange(n_persons), spells_per_person)
    n = len(pid)
    typ = motivated[pid]
    x = rng.normal(size=n)
    he = H_EXIT * np.exp(0.3 * x + np.where(typ, V_EXIT, 0.0))
    hp = H_PROG * np.exp(-0.2 * x + np.where(typ, V_PROG, 0.0))
    tp = rng.exponential(1 / hp)
    entry = np.where(rng.random(n) < truncate_share, rng.uniform(0, 12, n), 0.0)
    if programme_from_entry:  # the programme exists only from the observation window on
        tp = tp + entry
    e = rng.exponential(size=n)
    T = np.where(e < he * tp, e / he, tp + (e - he * tp) / (he * np.exp(DELTA)))
    cens = 36.0
    event = (T <= cens).astype(int)
    T = np.minimum(T, cens)
    keep = T > entry  # left truncation: spells that ended before entry are never seen
    df = pd.DataFrame(
        {
            "pid": pid,
            "T": T,
            "event": event,
            "ps": np.where(tp < T, tp, np.nan),
            "x": x,
            "entry": entry,
            "he": he,
        }
    )[keep]
    return df.reset_index(drop=True)


def true_att(df, horizon=12.0):
    """ATT on exit within `horizon` months after programme start, from the true hazards."""
    tr = df[df["ps"].notna()]
    p1 = 1 - np.exp(-tr["he"] * np.exp(DELTA) * horizon)
    p0 = 1 - np.exp(-tr["he"] * horizon)
    return float((p1 - p0).mean())


def fit(df, **kw):
    model = TimingOfEvents(
        df,
        duration="T",
        event="event",
        programme_start="ps",
        covariates=["x"],
        baseline_cuts=[0, 6, 12, 24],
        **kw,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warnings expected on this clean design
        return model.fit()


@pytest.fixture(scope="module")
def single_spells():
    df = simulate(3000, seed=11)
    return df, fit(df)


def test_delta_recovered_and_naive_biased_upward(single_spells):
    df, res = single_spells
    d, se = res.params["treatment"], res.std_errors["treatment"]
    assert res.converged
    assert res.n_mass_points >= 2
    assert abs(d - DELTA) < 2.5 * se, (d, se)
    naive = res.no_heterogeneity
    # the model without heterogeneity over-states the effect, clearly
    assert naive.conf_int().loc["treatment", "lower"] > DELTA
    assert naive.params["treatment"] > d + 0.15
    # the naive Cox-type (Poisson) estimate is what the path's first row shows
    assert res.path.loc[0, "treatment"] == pytest.approx(naive.params["treatment"], abs=1e-4)


def test_att_exit_within_12_months_covers_truth(single_spells):
    df, res = single_spells
    ep = res.exit_probabilities
    att = ep.params["att_exit_exit_12m"]
    se = ep.std_errors["att_exit_exit_12m"]
    truth = true_att(df)
    assert abs(att - truth) < 2.5 * se, (att, se, truth)
    # probabilities are probabilities, and the programme raises them
    assert 0 < ep.params["p_no_programme_12m"] < ep.params["p_programme_12m"] < 1
    assert ep.params["att_exit_exit_6m"] < ep.params["att_exit_exit_12m"]


def test_mass_points_reflect_the_selection(single_spells):
    _, res = single_spells
    mp = res.mass_points
    # the point with the higher exit propensity also has the higher programme propensity
    hi = mp["v:exit"].idxmax()
    assert mp.loc[hi, "v:programme"] == mp["v:programme"].max()
    assert mp["probability"].sum() == pytest.approx(1.0)
    path = res.path
    assert path["chosen"].sum() == 1
    assert (path["mass_points"].diff().dropna() == 1).all()
    text = res.summary()
    assert "Mass points" in text and "no V" in text and "att_exit_exit_12m" in text


def test_repeated_and_left_truncated_spells():
    """Two spells per person share V; 30% of spells enter late (stock sample)."""
    df = simulate(1500, seed=5, spells_per_person=2, truncate_share=0.3)
    res = TimingOfEvents(
        df,
        duration="T",
        event="event",
        programme_start="ps",
        entry="entry",
        id="pid",
        covariates=["x"],
        baseline_cuts=[0, 6, 12, 24],
    ).fit(cov_type="robust")
    d, se = res.params["treatment"], res.std_errors["treatment"]
    assert res.n["n_left_truncated"] > 500
    assert res.converged
    assert abs(d - DELTA) < 2.5 * se, (d, se)
    assert res.no_heterogeneity.params["treatment"] > DELTA + 0.15


def test_programme_only_from_the_observation_window():
    """Stock spells could not enter the programme before the window opened."""
    df = simulate(3000, seed=8, truncate_share=0.5, programme_from_entry=True)
    res = TimingOfEvents(
        df,
        duration="T",
        event="event",
        programme_start="ps",
        entry="entry",
        covariates=["x"],
        baseline_cuts=[0, 6, 12, 24],
        programme_from_entry=True,
    ).fit()
    d, se = res.params["treatment"], res.std_errors["treatment"]
    assert res.converged
    assert abs(d - DELTA) < 2.5 * se, (d, se)
    assert res.no_heterogeneity.params["treatment"] > DELTA + 0.15
    # the programme hazard is measured from the entry time: no programme exposure before it
    assert res.extra["specification"]["programme_from_entry"] is True


def test_stock_heterogeneity_options():
    """The stock's own mass-point probabilities (default) or the inflow's (``"inflow"``)."""
    df = simulate(1000, seed=11, spells_per_person=2, truncate_share=0.3)
    kw = dict(
        duration="T",
        event="event",
        programme_start="ps",
        entry="entry",
        id="pid",
        covariates=["x"],
        baseline_cuts=[0, 6, 12, 24],
        max_mass_points=3,
    )
    sep = TimingOfEvents(df, **kw).fit()
    one = TimingOfEvents(df, stock_heterogeneity="inflow", **kw).fit()
    assert sep.n_mass_points > 1 and one.n_mass_points > 1
    assert any(n.startswith("het:stock:logit_p") for n in sep.params.index)
    assert not any(n.startswith("het:stock") for n in one.params.index)
    assert "probability:stock" in sep.mass_points.columns
    np.testing.assert_allclose(sep.mass_points["probability:stock"].sum(), 1.0)
    assert "probability:stock" in sep.summary()
    assert sep.mass_points["prob_std_error:stock"].notna().all()
    for res in (sep, one):
        d, se = res.params["treatment"], res.std_errors["treatment"]
        assert abs(d - DELTA) < 2.5 * se, (d, se)
    # the separate distribution nests the common one: its likelihood is at least as high
    # when both have the same number of points
    if sep.n_mass_points == one.n_mass_points:
        assert sep.loglik >= one.loglik - 1e-6
    # without left-truncated spells the two are the same model
    df0 = df.assign(entry=0.0)
    a = TimingOfEvents(df0, **kw).fit()
    b = TimingOfEvents(df0, stock_heterogeneity="inflow", **kw).fit()
    np.testing.assert_allclose(a.params.to_numpy(), b.params.to_numpy(), rtol=1e-10)
    with pytest.raises(ValueError, match="stock_heterogeneity"):
        TimingOfEvents(df, stock_heterogeneity="stock", **kw)


def test_loglik_criterion_keeps_adding_points_until_the_likelihood_stops_improving():
    """criterion="loglik" (Gaure, Roed & Zhang's NPMLE): the chosen fit is the accepted one
    with the highest log-likelihood, i.e. the last point that raised it by more than tol."""
    df = simulate(3000, seed=11)
    model = TimingOfEvents(
        df, duration="T", event="event", programme_start="ps", covariates=["x"],
        baseline_cuts=[0, 6, 12, 24], criterion="loglik", max_mass_points=5,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = model.fit(patience=None)
    path = res.path
    accepted = path[path["accepted"]]
    chosen = path[path["chosen"]].iloc[0]
    assert chosen["loglik"] == accepted["loglik"].max()
    assert chosen["mass_points"] == accepted["mass_points"].max()
    assert res.n_mass_points == chosen["mass_points"]
    # the AIC never chooses more points than that
    aic = fit(df, max_mass_points=5)
    assert aic.n_mass_points <= res.n_mass_points
    assert abs(res.params["treatment"] - DELTA) < 2.5 * res.std_errors["treatment"]
    with pytest.raises(ValueError, match="criterion"):
        TimingOfEvents(df, duration="T", event="event", programme_start="ps", criterion="max")
