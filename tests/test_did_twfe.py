"""TWFE event study against linearmodels PanelOLS; pre-trend test; Bacon; wild bootstrap."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from werkeffect.did import EventStudy, bacon_decomposition
from werkeffect.did._dgp import staggered_panel
from werkeffect.did.twfe import TWFE, within_ols
from werkeffect.did.wild_bootstrap import wild_cluster_bootstrap
from werkeffect.exceptions import EstimationWarning


@pytest.mark.parametrize("balanced", [True, False])
def test_event_study_matches_panelols(balanced):
    from linearmodels import PanelOLS

    df, _ = staggered_panel(800, 7, seed=3)
    if not balanced:
        df = df.sample(frac=0.85, random_state=1)
    es = EventStudy(df, outcome="y", unit="unit", time="time", group="group", leads=3, lags=3)
    y, x, uid, tid, cl, ev = es._design()
    names = [f"e{i}" for i in range(len(ev))]
    d = pd.DataFrame(x, columns=names).assign(y=y, u=uid, t=tid).set_index(["u", "t"])
    m = PanelOLS(d["y"], d[names], entity_effects=True, time_effects=True).fit(
        cov_type="clustered", cluster_entity=True, count_effects=False, auto_df=False
    )
    res = es.fit(inference="analytic")
    np.testing.assert_allclose(res.params.to_numpy(), m.params.to_numpy(), atol=1e-8)
    # linearmodels: plain sandwich * N/(N-K) here; ours: CR1 = G/(G-1) * (N-1)/(N-K)
    n, g = len(y), len(np.unique(uid))
    lm_var = m.std_errors.to_numpy() ** 2
    ours = res.std_errors.to_numpy() ** 2
    np.testing.assert_allclose(ours, lm_var * (n - 1) / n * g / (g - 1), rtol=1e-8)


def test_event_study_truth_and_pretrend():
    df, truth = staggered_panel(4000, 6, seed=8, dynamic=0.0, first_cohort=4)
    res = EventStudy(
        df, outcome="y", unit="unit", time="time", group="group", leads=2, lags=2
    ).fit()
    # homogeneous, static effect of 1: TWFE is unbiased; leads are 0
    assert abs(res.params[0] - 1) < 4 * res.std_errors[0]
    assert abs(res.params[-2]) < 4 * res.std_errors[-2]
    assert res.pretrend["p_value"] > 0.001
    # with many clusters the plot has its simultaneous band, wider than each interval
    import matplotlib

    matplotlib.use("Agg")
    ax = res.plot()
    (band,) = [c for c in ax.collections if "band" in (c.get_label() or "")]
    xy = band.get_paths()[0].vertices
    ci = res.conf_int().loc[[i for i in res.params.index if isinstance(i, int | np.integer)]]
    for t, row in ci.iterrows():
        at = xy[np.isclose(xy[:, 0], float(t)), 1]
        assert at.max() - at.min() >= row["upper"] - row["lower"] - 1e-12, t
    # broken parallel trends: a cohort-specific pre-trend is detected
    df2 = df.copy()
    df2["y"] += 0.3 * (df2["group"] == 4) * df2["time"]
    res2 = EventStudy(
        df2, outcome="y", unit="unit", time="time", group="group", leads=2, lags=2
    ).fit()
    assert res2.pretrend["p_value"] < 0.01


def test_bacon_reproduces_twfe_and_diff_diff():
    df, _ = staggered_panel(1500, 8, seed=2)
    df["d"] = ((df.group > 0) & (df.time >= df.group)).astype(float)
    b = bacon_decomposition(df, "y", "unit", "time", "group")
    t = TWFE(df, "y", "unit", "time", "d").fit(inference="analytic")
    assert b.twfe == pytest.approx(t.params["ATT"], abs=1e-10)
    assert b.table["weight"].sum() == pytest.approx(1.0)
    from diff_diff.bacon import BaconDecomposition

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = BaconDecomposition().fit(
            df, outcome="y", unit="unit", time="time", first_treat="group"
        )
    bt = b.by_type()
    assert bt.loc["treated vs never treated", "weight"] == pytest.approx(
        ref.total_weight_treated_vs_never, abs=1e-6
    )
    assert bt.loc["later vs earlier treated", "weight"] == pytest.approx(
        ref.total_weight_later_vs_earlier, abs=1e-6
    )
    assert bt.loc["later vs earlier treated", "estimate"] == pytest.approx(
        ref.weighted_avg_later_vs_earlier, abs=1e-6
    )


def test_wild_bootstrap_matches_enumeration_logic():
    """All 2**8 sign patterns are enumerated; p-value and interval equal an independent
    brute-force WCR (tests/_wild_reference.py), with a covariate partialled out under the
    null; the CR1 standard error equals statsmodels'."""
    import statsmodels.api as sm

    from _wild_reference import all_sign_patterns, wcr_pvalue

    rng = np.random.default_rng(0)
    g = np.repeat(np.arange(8), [30, 22, 41, 30, 18, 35, 30, 26])
    z = rng.normal(size=len(g))
    x = np.column_stack([np.ones(len(g)), (g < 4).astype(float), z])
    y = 0.4 * x[:, 1] + 0.5 * z + rng.normal(size=len(g)) + 0.3 * rng.normal(size=8)[g]
    r = wild_cluster_bootstrap(x, y, g, 1, weights="rademacher", n_boot=999)
    assert r.enumerated and r.n_boot == 256
    pats = all_sign_patterns(8)
    ols = sm.OLS(y, x).fit(cov_type="cluster", cov_kwds={"groups": g})
    assert r.estimate == pytest.approx(ols.params[1], abs=1e-12)
    assert r.std_error == pytest.approx(ols.bse[1], rel=1e-10)
    p_ref = wcr_pvalue(x, y, g, 1, 0.0, pats)
    assert r.p_value == pytest.approx(p_ref, abs=1e-12)
    assert 0.01 < p_ref < 0.5
    # test inversion: the reference p-value crosses 5 % at each bound
    delta = 1e-3 * r.std_error
    for bound, out in ((r.lower, -1), (r.upper, 1)):
        assert wcr_pvalue(x, y, g, 1, bound + out * delta, pats) < 0.05
        assert wcr_pvalue(x, y, g, 1, bound - out * delta, pats) >= 0.05
    # a null other than 0 is imposed too: at r = estimate every |t*| >= |t| = 0
    r2 = wild_cluster_bootstrap(x, y, g, 1, null=r.estimate, weights="rademacher", ci=False)
    assert r2.p_value == pytest.approx(1.0)
    r3 = wild_cluster_bootstrap(x, y, g, 1, null=0.25, weights="rademacher", ci=False)
    assert r3.p_value == pytest.approx(wcr_pvalue(x, y, g, 1, 0.25, pats), abs=1e-12)


def test_event_study_few_clusters_uses_wild():
    df, _ = staggered_panel(70, 6, seed=1, first_cohort=4, never_share=0.5)
    df["mun"] = df["unit"] % 7
    with pytest.warns(EstimationWarning, match="7 clusters"):
        res = EventStudy(
            df, outcome="y", unit="unit", time="time", group="group", leads=2, lags=1, cluster="mun"
        ).fit(n_boot=499)
    assert res.wild is not None
    assert res.dist == "t" and res.df_resid == 6
    ci = res.conf_int()
    assert (ci["lower"] < res.params).all() and (res.params < ci["upper"]).all()
    # the p-values are the bootstrap's, so they agree with its intervals about significance
    # (the CR1 Wald p-values with 7 clusters did not: p = 0.013 beside an interval of -0.23
    # to 0.13 in the WW report)
    frame = res.to_frame()
    for term, r in res.wild.items():
        row = frame.loc[frame["term"].astype(str) == str(term)].iloc[0]
        assert row["p_value"] == pytest.approx(r.p_value)
        if abs(r.p_value - 0.05) > 0.02:
            assert (r.p_value < 0.05) == (not row["lower"] <= 0 <= row["upper"]), term
    # the method says where its intervals come from, and the plot draws no simultaneous band
    # from the CR1 covariance it does not trust (the WW report once showed such a band
    # narrower than the bootstrap intervals it should contain)
    assert "wild cluster bootstrap" in res.method
    import matplotlib

    matplotlib.use("Agg")
    ax = res.plot(lang="nl")
    assert not ax.collections or all("band" not in (c.get_label() or "") for c in ax.collections)
    assert "simultane" not in " ".join(t.get_text() for t in ax.get_legend().get_texts())
    assert ax.get_xlabel() == "perioden ten opzichte van de start"


def test_within_ols_memory_path_balanced_equals_unbalanced_algorithm():
    df, _ = staggered_panel(300, 5, seed=4)
    es = EventStudy(df, outcome="y", unit="unit", time="time", group="group", leads=2, lags=2)
    y, x, uid, tid, cl, _ = es._design()
    a = within_ols(y, x, uid, tid, cl)
    # drop nothing, but force the iterative path by appending a duplicate-free extra unit
    from werkeffect.did.twfe import demean_two_way

    xt = demean_two_way(np.array(x, order="F"), uid, tid, balanced=False)
    np.testing.assert_allclose(xt, a.xt, atol=1e-9)


def test_wild_wald_with_one_restriction_equals_wild_t_test():
    from werkeffect.did.wild_bootstrap import wild_wald_test

    rng = np.random.default_rng(0)
    g = np.repeat(np.arange(8), 30)
    x = np.column_stack([np.ones(len(g)), (g < 4).astype(float), rng.normal(size=len(g))])
    y = rng.normal(size=len(g)) + rng.normal(size=8)[g]
    a = wild_wald_test(x, y, g, [1], weights="rademacher", n_boot=999)
    b = wild_cluster_bootstrap(x, y, g, 1, weights="rademacher", n_boot=999, ci=False)
    assert a["statistic"] == pytest.approx(b.statistic**2, rel=1e-10)
    assert a["p_value"] == pytest.approx(b.p_value)


def test_fe_leverage_is_hat_diagonal():
    from werkeffect.did.wild_bootstrap import fe_leverage

    rng = np.random.default_rng(1)
    uid = np.repeat(np.arange(5), 4)
    tid = np.tile(np.arange(4), 5)
    keep = rng.random(20) > 0.2
    uid, tid = uid[keep], tid[keep]
    x = rng.normal(size=(len(uid), 1))
    h = fe_leverage(x, uid, tid)
    z = np.column_stack([np.eye(5)[uid], np.eye(4)[tid][:, 1:], x])
    hat = z @ np.linalg.pinv(z.T @ z) @ z.T
    np.testing.assert_allclose(h, np.diag(hat), atol=1e-10)
