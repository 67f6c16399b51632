"""Inference of the nearest-neighbour matching estimators: the fixed-match bootstrap.

``fit(resampling="fixed")`` (the default for ``weighting="nn"``) resamples persons with the
full-sample matches held fixed and removes the comparison arm's conditional mean
(Otsu & Rai 2017; :mod:`werkeffect.dynamic.fixed_match`). Checked here against the spread
of the estimates over fresh samples of the test DGP, and for determinism.
"""

import warnings

import numpy as np
import pytest
from joblib import parallel_config

from dynamic_dgp import simulate_spells
from werkeffect.dynamic import DynamicIPW, DynamicMatch, SurvivalMatch
from werkeffect.dynamic._engine import Prepared, estimate_once
from werkeffect.dynamic.fixed_match import FixedMatchReplicate

U = (2, 4, 6)


def _fit(cls, df, n_boot=49, seed=0, resampling=None, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = cls(df, covariates=["x1", "x2"], u_values=U, horizons=(6, 12), **kw)
        return model.fit(n_boot=n_boot, seed=seed, progress=False, resampling=resampling)


def test_fixed_match_standard_error_matches_the_spread_over_samples():
    """Mean bootstrap SE / SD of the estimates over R = 100 samples of 3,000 spells.

    The SD of R estimates has a relative standard error of about 1 / sqrt(2 (R - 1)) = 7%;
    the mean over the three u (different starters) about 4–5%, and the mean of the SEs is
    far more precise. The tolerance 0.15 is about 3 of those standard errors. (A run of 200
    samples gave 0.92, 1.01, 0.99 for u = 2, 4, 6; half-sampling is 15–20% too large here.)
    """
    R = 100
    est, se = np.empty((R, len(U))), np.empty((R, len(U)))
    for r in range(R):
        res = _fit(DynamicMatch, simulate_spells(3000, seed=100 + r), seed=r)
        est[r] = [res.params[(u, 12)] for u in U]
        se[r] = [res.std_errors[(u, 12)] for u in U]
        assert res.settings["resampling"] == "fixed"
    ratio = se.mean(axis=0) / est.std(axis=0, ddof=1)
    assert abs(ratio.mean() - 1.0) < 0.15, ratio
    assert np.all(np.abs(ratio - 1.0) < 0.3), ratio


@pytest.mark.parametrize("cls", [DynamicMatch, SurvivalMatch])
def test_fixed_match_replicate_reproduces_the_estimate_at_unit_weights(cls):
    """With every person drawn once the resample is the full sample: the same estimate."""
    df = simulate_spells(2000, seed=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = cls(df, covariates=["x1", "x2"], u_values=U, horizons=(6, 12))
        one = estimate_once(
            model.arrays_, model.spec_, prep=Prepared.build(model.arrays_, model.spec_), full=True
        )
    rep = FixedMatchReplicate.build(one.matched, len(U), (6, 12))
    np.testing.assert_allclose(
        rep(np.ones(model.arrays_.n)), np.r_[one.att.ravel(), one.att_avg], atol=1e-12
    )
    # the conditional-mean correction is centred: it vanishes at unit weights, and the
    # treated's and their controls' components nearly cancel (close matches)
    assert np.abs(rep.m_t).max() > 0
    n1 = np.bincount(rep.treated["group"], weights=rep.treated["weight"], minlength=len(U))
    for k in range(2):
        t = np.bincount(rep.treated["group"], rep.treated["weight"] * rep.m_t[:, k], len(U))
        c = np.bincount(rep.control["group"], rep.control["pair_weight"] * rep.m_c[:, k], len(U))
        assert np.all(np.abs(t - c) / n1 < 0.01)


def test_fixed_match_bootstrap_is_seeded_and_independent_of_workers():
    df = simulate_spells(1500, seed=2)
    a = _fit(SurvivalMatch, df, n_boot=20, seed=42)
    with parallel_config(backend="threading"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = SurvivalMatch(df, covariates=["x1", "x2"], u_values=U, horizons=(6, 12))
            b = model.fit(n_boot=20, seed=42, n_jobs=2, progress=False)
    c = _fit(SurvivalMatch, df, n_boot=20, seed=43)
    np.testing.assert_array_equal(a.std_errors, b.std_errors)
    assert not np.allclose(a.std_errors, c.std_errors)
    assert a.settings["resampling"] == "fixed"
    assert "matches held fixed" in a.summary()
    # the bootstrap estimates scatter around the estimate
    dev = a.bootstrap_estimates.mean() - a.params
    assert np.all(np.abs(dev) < 3 * a.std_errors / np.sqrt(20) + 1e-12)


def test_fixed_resampling_needs_nearest_neighbour_matching():
    df = simulate_spells(1500, seed=3)
    with pytest.raises(ValueError, match="weighting='nn'"):
        _fit(DynamicMatch, df, n_boot=3, weighting="ipw", resampling="fixed")
    with pytest.raises(ValueError, match="weighting='nn'"):
        _fit(DynamicIPW, df, n_boot=3, resampling="fixed")
    # the other schemes stay selectable for matching
    half = _fit(DynamicMatch, df, n_boot=4, resampling="half")
    assert half.settings["resampling"] == "half"
    boot = _fit(DynamicMatch, df, n_boot=4, resampling="bootstrap")
    assert boot.settings["resampling"] == "bootstrap"
