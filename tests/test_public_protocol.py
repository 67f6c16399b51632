"""Every public estimator of ../shared/API.md follows the one results pattern.

``model = Estimator(data, ...)``, ``res = model.fit(...)``, then ``params``, ``std_errors``,
``conf_int(level=)``, ``summary()``, ``to_frame()``, ``plot()`` and an HTML view, with an
immutable result. Outside checks call these on any estimator, so each one is exercised here
with the argument names the contract gives.
"""

from __future__ import annotations

import warnings

import matplotlib.axes
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from _matching_dgp import confounded
from dynamic_dgp import simulate_spells
from test_toe_errors import homogeneous
from test_toe_errors import spec as toe_spec
from werkeffect import did, dynamic, matching, survival
from werkeffect.did._dgp import staggered_panel
from werkeffect.exceptions import EstimationWarning

FRAME_COLUMNS = ["term", "estimate", "std_error", "lower", "upper", "p_value", "n"]


def _survival_frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 600
    x = rng.normal(size=n)
    t = rng.exponential(10 / np.exp(0.5 * x))
    c = rng.uniform(5, 30, n)
    df = pd.DataFrame(
        {
            "T": np.minimum(t, c).round(1) + 0.1,
            "E": (t <= c).astype(int),
            "cause": np.where(t <= c, rng.integers(1, 3, n), 0),
            "x": x,
            "g": rng.integers(0, 2, n),
        }
    )
    df["T_month"] = np.ceil(df["T"]).astype(int)
    return df


def _did_2x2(panel: pd.DataFrame) -> pd.DataFrame:
    return panel.assign(
        treated=(panel["group"] > 0).astype(int), post=(panel["time"] >= 3).astype(int)
    )


def _cases():
    surv = _survival_frame()
    m, _ = confounded(800, 1)
    m["stratum"] = (m["x1"] > 0).astype(int)
    covs = ["x1", "x2", "x3"]
    panel, _ = staggered_panel(200, 5, seed=1)
    panel8, _ = staggered_panel(300, 8, seed=2)
    spells = simulate_spells(4000, seed=1)
    dyn = dict(spell="spell_id", covariates=["x1", "x2"], u_values=[3, 6], horizons=(12,))
    cs = dict(outcome="y", unit="unit", time="time", group="group")
    return {
        "KaplanMeier": lambda: survival.KaplanMeier(surv, duration="T", event="E").fit(),
        "KaplanMeier by group": lambda: survival.KaplanMeier(
            surv, duration="T", event="E", group="g"
        ).fit(),
        "AalenJohansen": lambda: survival.AalenJohansen(surv, duration="T", cause="cause").fit(),
        "CoxPH": lambda: survival.CoxPH(surv, duration="T", event="E", covariates=["x"]).fit(),
        "FineGray": lambda: survival.FineGray(
            surv, duration="T", cause="cause", cause_of_interest=1, covariates=["x"]
        ).fit(),
        "DiscreteTimeHazard": lambda: survival.DiscreteTimeHazard(
            surv, duration="T_month", event="E", covariates=["x"], max_duration=20
        ).fit(),
        "TimingOfEvents": lambda: survival.TimingOfEvents(homogeneous(), **toe_spec()).fit(),
        "DynamicMatch": lambda: dynamic.DynamicMatch(spells, **dyn).fit(n_boot=19),
        "DynamicIPW": lambda: dynamic.DynamicIPW(spells, **dyn).fit(n_boot=19),
        "CallawaySantAnna": lambda: did.CallawaySantAnna(panel, **cs).fit(),
        "CallawaySantAnna.aggregate": lambda: (
            did.CallawaySantAnna(panel, **cs).fit().aggregate("dynamic")
        ),
        "DiD": lambda: did.DiD(
            _did_2x2(panel), outcome="y", treated="treated", post="post", unit="unit"
        ).fit(),
        "EventStudy": lambda: did.EventStudy(panel8, **cs, leads=2, lags=2, cluster="unit").fit(),
        "PropensityScore": lambda: matching.PropensityScore(
            m, treatment="d", covariates=covs
        ).fit(),
        "NearestNeighborMatch.att": lambda: (
            matching.NearestNeighborMatch(m, treatment="d", covariates=covs).fit().att("y")
        ),
        "IPW": lambda: matching.IPW(m, treatment="d", covariates=covs).fit(outcome="y"),
        "AIPW": lambda: matching.AIPW(m, treatment="d", covariates=covs).fit(outcome="y"),
        "EntropyBalance": lambda: matching.EntropyBalance(m, treatment="d", covariates=covs).fit(
            outcome="y"
        ),
        "CEM": lambda: matching.CEM(m, treatment="d", covariates=covs).fit(outcome="y"),
        "randomization_test": lambda: matching.randomization_test(
            m, "y", "d", strata="stratum", n_permutations=999
        ),
    }


CASES = _cases()


@pytest.fixture(scope="module")
def results():
    out = {}
    for name, fit in CASES.items():
        with warnings.catch_warnings():
            # the small designs here may warn (one mass point, CEM drops); not under test
            warnings.simplefilter("ignore", EstimationWarning)
            out[name] = fit()
    return out


@pytest.mark.parametrize("name", list(CASES))
def test_params_and_standard_errors_are_aligned_series(results, name):
    res = results[name]
    assert isinstance(res.params, pd.Series) and len(res.params) > 0
    assert isinstance(res.std_errors, pd.Series)
    assert res.std_errors.index.equals(res.params.index)


@pytest.mark.parametrize("name", list(CASES))
def test_conf_int_has_lower_upper_and_uses_the_level(results, name):
    res = results[name]
    ci95, ci90 = res.conf_int(), res.conf_int(level=0.9)
    assert list(ci95.columns[:2]) == ["lower", "upper"]
    assert ci95.index.equals(res.params.index)
    w95 = (ci95["upper"] - ci95["lower"]).to_numpy(float)
    w90 = (ci90["upper"] - ci90["lower"]).to_numpy(float)
    ok = np.isfinite(w95) & np.isfinite(w90) & (w95 > 0)
    assert ok.any()
    assert np.all(w90[ok] < w95[ok])


@pytest.mark.parametrize("name", list(CASES))
def test_to_frame_is_tidy(results, name):
    frame = results[name].to_frame()
    assert [c for c in FRAME_COLUMNS if c not in frame.columns] == []
    assert len(frame) >= len(results[name].params)


@pytest.mark.parametrize("name", list(CASES))
def test_summary_html_and_plot(results, name):
    res = results[name]
    text = res.summary()
    assert isinstance(text, str) and len(text) > 0
    assert isinstance(res._repr_html_(), str)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ax = res.plot()
    assert isinstance(ax, matplotlib.axes.Axes)
    plt.close("all")


@pytest.mark.parametrize("name", list(CASES))
def test_result_is_immutable(results, name):
    with pytest.raises((AttributeError, TypeError)):
        results[name].params = None
