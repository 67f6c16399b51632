"""Time-varying history at u (``time_varying=``): part-time work before u drives both the
programme start and the exit to work (``tests/dynamic_dgp.py``, ``simulate_history_spells``).

Matching or weighting on the characteristics at spell start only leaves the starters with
more part-time work than their comparison group (bias upward); adding the history at u as a
time-varying covariate of the start model removes it. The truth is simulated from potential
outcomes with common random numbers (starters at u re-run with the start at u switched off).
"""

import warnings

import numpy as np
import pandas as pd
import pytest

from dynamic_dgp import history_true_att, simulate_history_spells
from werkeffect.dynamic import DynamicIPW, DynamicMatch, SurvivalMatch
from werkeffect.exceptions import DataValidationError

U = (3, 6, 12)


@pytest.fixture(scope="module")
def data():
    return simulate_history_spells(12000, seed=5)


def _fit(cls, spells, history, n_boot=40, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = cls(
            spells,
            spell="spell_id",
            covariates=["x1"],
            u_values=U,
            horizons=(12,),
            time_varying=history,
            **kw,
        )
        return model.fit(n_boot=n_boot, seed=2, progress=False)


@pytest.mark.parametrize("weighting", ["nn", "ipw"])
def test_history_at_u_removes_the_bias(data, weighting):
    spells, history = data
    truth = history_true_att(U)
    n_t = spells["programme_start"].value_counts()
    true_avg = sum(n_t[u] * truth[u] for u in U) / sum(n_t[u] for u in U)
    with_h = _fit(DynamicMatch, spells, history, weighting=weighting)
    for u in U:
        est, se = with_h.params[(u, 12)], with_h.std_errors[(u, 12)]
        assert abs(est - truth[u]) < 3.5 * se, (u, est, truth[u], se)
    est, se = with_h.params[("ATT", 12)], with_h.std_errors[("ATT", 12)]
    assert abs(est - true_avg) < 3 * se, (est, true_avg, se)
    assert "parttime (at u)" in with_h.start_model.index
    assert with_h.start_model["parttime (at u)"] > 0


def test_without_history_the_estimate_is_biased(data):
    # odds weighting (the more precise variant) has the power to show the bias in one sample
    spells, history = data
    truth = history_true_att(U)
    n_t = spells["programme_start"].value_counts()
    true_avg = sum(n_t[u] * truth[u] for u in U) / sum(n_t[u] for u in U)
    without = _fit(DynamicMatch, spells, None, weighting="ipw")
    est0, se0 = without.params[("ATT", 12)], without.std_errors[("ATT", 12)]
    assert est0 - true_avg > 3 * se0, (est0, true_avg, se0)


@pytest.mark.parametrize("cls", [DynamicIPW, SurvivalMatch])
def test_history_in_the_censoring_weights(data, cls):
    """Against never starting (Van den Berg & Vikström; survival matching with IPC weights):
    the start hazard of the censoring weights uses the history of every later month; with it
    the estimate moves down towards the never-treated truth (it must lie below the estimate
    without history)."""
    spells, history = data
    a = _fit(cls, spells, history, n_boot=0)
    b = _fit(cls, spells, None, n_boot=0)
    assert a.params[("ATT", 12)] < b.params[("ATT", 12)]


def test_time_varying_frame_is_checked(data):
    spells, history = data
    with pytest.raises(ValueError, match="spell"):
        DynamicMatch(spells, covariates=["x1"], u_values=U, time_varying=history)
    bad = history.copy()
    bad.loc[bad.index[:3], "parttime"] = np.nan
    with pytest.raises(DataValidationError, match="missing"):
        DynamicMatch(spells, spell="spell_id", covariates=["x1"], u_values=U, time_varying=bad)
    dup = pd.concat([history, history.iloc[:2]])
    with pytest.raises(DataValidationError, match="more than one row"):
        DynamicMatch(spells, spell="spell_id", covariates=["x1"], u_values=U, time_varying=dup)
    with pytest.raises(DataValidationError, match="not found"):
        DynamicMatch(
            spells,
            spell="spell_id",
            covariates=["x1"],
            u_values=U,
            time_varying=history,
            time_varying_covariates=["ladder"],
        )


def test_from_dataset_history_at_u():
    """On the simulator the history at u enters the start model next to the fixed
    covariates (the simulated start hazard does not depend on it: coefficients near 0)."""
    pytest.importorskip("werkeffect.simulate")
    from werkeffect.simulate import simulate

    ds, _ = simulate("groningen-observables", seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = DynamicMatch.from_dataset(ds, u_values=[3, 6], horizons=(12,), history_at_u=True)
        res = model.fit(n_boot=0)
    assert model.time_varying_covariates == ("employed_prev_month", "ladder_step_before")
    sm = res.start_model
    for name in ("employed_prev_month (at u)", "ladder_step_before (at u)"):
        assert abs(sm[name]) < 0.15, sm
    assert np.isfinite(res.params[(3, 12)])
