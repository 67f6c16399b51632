"""The Monte Carlo harness (a smoke test by default, a real check when slow tests run)."""

import numpy as np
import pytest

from _simhelpers import did_2x2
from werkeffect.validation import monte_carlo


def ww_did(dataset, seed):
    return {"ww.att_inflow_6m": did_2x2(dataset)}


def ww_did_tuple(dataset, seed):
    return did_2x2(dataset)


def test_monte_carlo_smoke():
    res = monte_carlo(ww_did, scenario="groningen", reps=2, n_jobs=1, seed=1, scale=0.1)
    row = res.loc["ww.att_inflow_6m"]
    assert row["reps"] == 2 and row["failures"] == 0
    for col in ("bias", "relative_bias", "rmse", "coverage", "truth", "mean_estimate"):
        assert np.isfinite(row[col]), col
    reps = res.attrs["replications"]
    assert len(reps) == 2 and reps.sim_seed.nunique() == 2
    again = monte_carlo(ww_did, scenario="groningen", reps=2, n_jobs=1, seed=1, scale=0.1)
    assert again.equals(res)


def test_monte_carlo_tuple_needs_an_estimand():
    with pytest.raises(ValueError, match="estimand"):
        monte_carlo(ww_did_tuple, reps=1, n_jobs=1, scale=0.1)
    res = monte_carlo(ww_did_tuple, reps=1, n_jobs=1, scale=0.1, estimand="ww.att_inflow_6m")
    assert res.index.tolist() == ["ww.att_inflow_6m"]


def test_monte_carlo_records_failures():
    def broken(dataset, seed):
        raise RuntimeError("boom")

    with pytest.warns(RuntimeWarning, match="failed"):
        res = monte_carlo(broken, reps=1, n_jobs=1, scale=0.1, estimand="ww.att_inflow_6m")
    assert res.loc["ww.att_inflow_6m", "failures"] == 1


@pytest.mark.slow
def test_did_unbiased_under_parallel_trends_and_biased_without():
    ok = monte_carlo(ww_did, scenario="groningen", reps=40, n_jobs=2, seed=3, scale=0.5)
    row = ok.loc["ww.att_inflow_6m"]
    assert abs(row["bias"]) < 3 * row["mc_se_bias"] + 0.002
    assert 0.85 <= row["coverage"] <= 1.0
    bad = monte_carlo(
        ww_did, scenario="groningen", reps=20, n_jobs=2, seed=3, scale=0.5, ww_trend_diff=0.01
    )
    assert bad.loc["ww.att_inflow_6m", "bias"] > 0.02
