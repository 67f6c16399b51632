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


COVERAGE_2X2 = 0.9225  # 369 of 400 replications (seeds 3 and 4), see below


@pytest.mark.slow
def test_did_unbiased_under_parallel_trends_and_biased_without():
    """The harness finds the plain 2x2 unbiased under parallel trends and biased without.

    Its interval (normal, from the four cell variances: no allowance for the simulator's
    municipality x half-year shocks) covers somewhat below 95 %: 0.900 at seed=3 and 0.945
    at seed=4 (200 replications each, this call), pooled 0.9225 over 400 = COVERAGE_2X2.
    Two-sided band of 3 Monte Carlo SE of a 200-replication share:
    3 * sqrt(0.9225 * 0.0775 / 200) = 0.057, i.e. [0.866, 0.979]. An infinite interval
    (coverage 1) or a much too narrow one falls outside; the replaced band, 0.85-1.0 over
    40 runs, passed an infinite interval. The test runs seed 5, which was not part of the
    calibration, so the band tests the recorded coverage rather than repeating it."""
    ok = monte_carlo(ww_did, scenario="groningen", reps=200, n_jobs=2, seed=5, scale=0.5)
    row = ok.loc["ww.att_inflow_6m"]
    assert abs(row["bias"]) < 3 * row["mc_se_bias"] + 0.002
    c0 = COVERAGE_2X2
    assert abs(row["coverage"] - c0) <= 3 * np.sqrt(c0 * (1 - c0) / 200), row["coverage"]
    bad = monte_carlo(
        ww_did, scenario="groningen", reps=20, n_jobs=2, seed=3, scale=0.5, ww_trend_diff=0.01
    )
    assert bad.loc["ww.att_inflow_6m", "bias"] > 0.02
