"""Nearest-neighbour matching: agreement with brute-force implementations, weights, errors."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import cdist

from werkeffect.exceptions import EstimationError, EstimationWarning
from werkeffect.matching import NearestNeighborMatch, PropensityScore, common_support

sys.path.insert(0, str(Path(__file__).parent))
from _matching_dgp import confounded

COV = ["x1", "x2", "x3"]


def _brute_greedy(dt, dc, order, ratio, caliper):
    """Textbook greedy matching without replacement: full distance scan per treated unit."""
    avail = np.ones(len(dc), dtype=bool)
    out = np.full((len(dt), ratio), -1)
    active = np.ones(len(dt), dtype=bool)
    for r in range(ratio):
        for t in order:
            if not active[t] or not avail.any():
                active[t] = False
                continue
            dist = np.where(avail, np.abs(dc - dt[t]), np.inf)
            j = int(np.argmin(dist))  # first minimum = earliest in the data
            if caliper is not None and dist[j] > caliper:
                active[t] = False
                continue
            out[t, r] = j
            avail[j] = False
    return out


@pytest.mark.parametrize("ratio,caliper", [(1, None), (1, 0.1), (2, None), (3, 0.25)])
def test_greedy_without_replacement_equals_brute_force(ratio, caliper):
    df, _ = confounded(600, seed=3, intercept=-1.8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EstimationWarning)
        res = NearestNeighborMatch(df, "d", COV, ratio=ratio, caliper=caliper).fit()
    lps = res.distance.to_numpy()
    d = df["d"].to_numpy()
    ti, ci = np.flatnonzero(d == 1), np.flatnonzero(d == 0)
    cal = None if caliper is None else caliper * np.std(lps, ddof=1)
    order = np.argsort(-lps[ti], kind="stable")
    ref = _brute_greedy(lps[ti], lps[ci], order, ratio, cal)
    ref_rows = np.where(ref >= 0, ci[np.maximum(ref, 0)], -1)
    np.testing.assert_array_equal(res.match_rows, ref_rows)


@pytest.mark.parametrize("ratio,caliper", [(1, None), (3, None), (2, 0.05)])
def test_with_replacement_equals_brute_force(ratio, caliper):
    df, _ = confounded(800, seed=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EstimationWarning)
        res = NearestNeighborMatch(df, "d", COV, ratio=ratio, replace=True, caliper=caliper).fit()
    lps = res.distance.to_numpy()
    d = df["d"].to_numpy()
    ti, ci = np.flatnonzero(d == 1), np.flatnonzero(d == 0)
    dist = np.abs(lps[ti][:, None] - lps[ci][None, :])
    nearest = np.argsort(dist, axis=1, kind="stable")[:, :ratio]
    ref = ci[nearest]
    if caliper is not None:
        cal = caliper * np.std(lps, ddof=1)
        ref = np.where(np.take_along_axis(dist, nearest, axis=1) <= cal, ref, -1)
    np.testing.assert_array_equal(res.match_rows, ref)


def test_mahalanobis_with_replacement_equals_brute_force():
    df, _ = confounded(500, seed=5)
    res = NearestNeighborMatch(
        df, "d", ["x1", "x3"], distance="mahalanobis", replace=True, ratio=2
    ).fit()
    X = df[["x1", "x3"]].to_numpy()
    d = df["d"].to_numpy()
    Xc = X.copy()
    for g in (0, 1):
        Xc[d == g] -= X[d == g].mean(axis=0)
    S = Xc.T @ Xc / (len(X) - 2)  # pooled within-group covariance
    ti, ci = np.flatnonzero(d == 1), np.flatnonzero(d == 0)
    D = cdist(X[ti], X[ci], metric="mahalanobis", VI=np.linalg.inv(S))
    ref = ci[np.argsort(D, axis=1, kind="stable")[:, :2]]
    np.testing.assert_array_equal(res.match_rows, ref)


def test_exact_matching_keeps_strata():
    df, _ = confounded(800, seed=6)
    df["region"] = np.where(df["x3"] > 0, "noord", "zuid")
    res = NearestNeighborMatch(df, "d", COV, exact="region", ratio=2).fit()
    m = res.matched
    per_set = m.groupby("set_id")["row"].apply(lambda r: df["region"].iloc[r].nunique())
    assert (per_set == 1).all()


def test_matchit_weights_with_replacement():
    """Treated weight 1; control weight = sum of 1/k over the treated it serves, scaled so
    control weights sum to the number of distinct matched controls (MatchIt)."""
    df = pd.DataFrame({"d": [1, 1, 1, 0, 0, 0, 0], "x": [0.0, 0.1, 5.0, 0.05, 4.9, 9.0, 10.0]})
    ps = np.array([0.2, 0.21, 0.6, 0.205, 0.59, 0.8, 0.85])
    res = NearestNeighborMatch(df, "d", ["x"], replace=True, ps=ps).fit()
    # treated 0 and 1 both match control 3, treated 2 matches control 4
    np.testing.assert_array_equal(res.match_rows[:, 0], [3, 3, 4])
    raw = np.array([2.0, 1.0])  # control 3 used twice, control 4 once
    scaled = raw * 2 / raw.sum()
    np.testing.assert_allclose(res.weights.to_numpy(), [1, 1, 1, scaled[0], scaled[1], 0, 0])


def test_matched_sets_table():
    df, _ = confounded(300, seed=7)
    res = NearestNeighborMatch(df, "d", COV, ratio=2).fit()
    m = res.matched
    assert set(m.columns) >= {"set_id", "row", "unit", "treated", "distance"}
    sizes = m.groupby("set_id")["treated"].agg(["sum", "count"])
    assert (sizes["sum"] == 1).all() and (sizes["count"] == 3).all()


# -- clear errors and warnings ------------------------------------------------------------
def test_unmatched_by_caliper_are_counted():
    df, _ = confounded(400, seed=8, intercept=0.5)
    with pytest.warns(EstimationWarning, match=r"(\d+) of (\d+) treated unit\(s\) left unmatched"):
        res = NearestNeighborMatch(df, "d", COV, caliper=0.01).fit()
    assert res.n_unmatched_treated == int((res.match_rows[:, 0] < 0).sum()) > 0
    assert f"{res.n_unmatched_treated} unmatched" in res.summary()


def test_too_few_controls_for_k_to_1():
    df, _ = confounded(200, seed=9, intercept=-0.2)
    n1 = int(df["d"].sum())
    n0 = len(df) - n1
    assert n0 < 3 * n1
    with pytest.warns(EstimationWarning, match="too few controls for 3:1 matching"):
        NearestNeighborMatch(df, "d", COV, ratio=3).fit()


def test_perfect_separation_is_an_error():
    df, _ = confounded(200, seed=10)
    df["x1"] = np.where(df["d"] == 1, df["x1"].abs() + 5, -df["x1"].abs())
    with pytest.raises(EstimationError, match="perfect separation.*x1"):
        PropensityScore(df, "d", COV).fit()


def test_perfect_separation_by_combination_is_an_error():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal(300), rng.standard_normal(300)
    df = pd.DataFrame({"a": a, "b": b, "d": (a + b > 0).astype(int)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(EstimationError, match="separation"):
            PropensityScore(df, "d", ["a", "b"]).fit()


def test_constant_covariate_is_an_error():
    df, _ = confounded(200, seed=11)
    df["const"] = 3.0
    with pytest.raises(EstimationError, match="covariate 'const' is constant"):
        NearestNeighborMatch(df, "d", [*COV, "const"]).fit()


def test_no_overlap_is_an_error():
    ps = np.r_[np.linspace(0.6, 0.9, 20), np.linspace(0.1, 0.4, 30)]
    d = np.r_[np.ones(20), np.zeros(30)]
    with pytest.raises(EstimationError, match="no overlap"):
        common_support(ps, d)


def test_treated_outside_control_range_warned_and_discarded():
    df, _ = confounded(600, seed=15)
    df.loc[df.index[:5], "d"] = 1
    df.loc[df.index[:5], "x1"] = 6.0  # far beyond every control
    with pytest.warns(
        EstimationWarning, match=r"treated unit\(s\) have a propensity score outside"
    ):
        NearestNeighborMatch(df, "d", COV).fit()
    res = NearestNeighborMatch(df, "d", COV, discard="treated").fit()
    assert res.support.n_treated_dropped >= 5
    assert res.n_matched["n_treated"] == int(df["d"].sum()) - res.support.n_treated_dropped


def test_common_support_report_counts_treated_dropped():
    ps = np.r_[np.linspace(0.3, 0.95, 20), np.linspace(0.05, 0.8, 30)]
    d = np.r_[np.ones(20), np.zeros(30)]
    cs = common_support(ps, d, method="treated")
    assert cs.n_treated_dropped == int(np.sum(ps[:20] > 0.8))
    assert "Treated dropped" in cs.report()


def test_naive_bootstrap_is_refused():
    df, _ = confounded(200, seed=12)
    res = NearestNeighborMatch(df, "d", COV, replace=True).fit()
    with pytest.raises(EstimationError, match="bootstrap is invalid"):
        res.att("y", bootstrap=True)


def test_missing_column_named():
    df, _ = confounded(50, seed=13)
    with pytest.raises(Exception, match="x9"):
        NearestNeighborMatch(df, "d", ["x1", "x9"])


def test_splines_and_interactions_in_propensity():
    df, _ = confounded(1000, seed=14)
    res = PropensityScore(df, "d", ["x2"], terms=["bs(x1, df=4)", "x1:x3"]).fit()
    assert any(name.startswith("bs(x1") for name in res.params.index)
    assert "x1:x3" in res.params.index
    assert res.ps.between(0, 1).all()


def test_result_counts_the_treated_outside_the_controls_range():
    """The treated without overlap are counted on the result (the pilot report says how
    many), as the warning says; a caliper or discard removes them, and the count is 0."""
    df, _ = confounded(400, seed=3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = NearestNeighborMatch(df, "d", ["x1", "x2", "x3"], replace=True).fit()
    p, d = res.ps.to_numpy(), df["d"].to_numpy()
    p0 = p[d == 0]
    expected = int(np.sum((d == 1) & ((p < p0.min()) | (p > p0.max()))))
    assert expected > 0 and res.n_treated_outside_range == expected
    assert any(str(w.message).startswith(f"{expected} treated unit(s)") for w in caught)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cal = NearestNeighborMatch(df, "d", ["x1", "x2", "x3"], caliper=0.2).fit()
    assert cal.n_treated_outside_range == 0
