"""Callaway & Sant'Anna: identical to csdid and differences, R did's analytic errors, truth."""

from __future__ import annotations

import contextlib
import io
import warnings

import numpy as np
import pandas as pd
import pytest

from werkeffect.did import CallawaySantAnna
from werkeffect.did._dgp import staggered_panel
from werkeffect.exceptions import EstimationError, EstimationWarning

METHODS = ["dr", "ipw", "reg"]
CONTROLS = ["never", "notyet"]


@pytest.fixture(scope="module")
def sim_panel():
    df, truth = staggered_panel(250, 5, seed=11, covariate_trend=0.3)
    return df, truth


def _csdid(df, method, control, covariates, panel=True, idname="unit", **kw):
    from csdid.att_gt import ATTgt

    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = ATTgt(
            yname="y",
            tname="time",
            idname=idname,
            gname="group",
            data=df,
            panel=panel,
            control_group="nevertreated" if control == "never" else "notyettreated",
            xformla="y ~ x" if covariates else None,
            **kw,
        ).fit(est_method=method, bstrap=False)
        out = {"att": np.asarray(m.results["att"], float), "se": np.asarray(m.results["se"])}
        out["W"], out["Wpval"] = m.MP["W"], m.MP["Wpval"]
        for kind in ("simple", "dynamic", "group", "calendar"):
            m.aggte(kind, bstrap=False)
            out[kind] = m.atte
    return out


def _differences(df, method, control, covariates):
    from differences import ATTgt

    d = df.copy()
    d["cohort"] = d["group"].replace(0, np.nan).astype(float)
    d = d.set_index(["unit", "time"])
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = ATTgt(data=d, cohort_column="cohort")
        a.fit(
            formula="y ~ x" if covariates else "y",
            est_method={"ipw": "std_ipw"}.get(method, method),
            control_group="never_treated" if control == "never" else "not_yet_treated",
            progress_bar=False,
        )
        res = a.results()
    att = res.iloc[:, 0].to_numpy()
    se = res.iloc[:, 1].to_numpy()
    return att, se


@pytest.mark.parametrize("control", CONTROLS)
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("covariates", [None, ["x"]], ids=["nocov", "cov"])
def test_identical_to_csdid(sim_panel, method, control, covariates):
    df, _ = sim_panel
    res = CallawaySantAnna(
        df,
        outcome="y",
        unit="unit",
        time="time",
        group="group",
        covariates=covariates,
        control=control,
        method=method,
    ).fit()
    peer = _csdid(df, method, control, covariates)
    np.testing.assert_allclose(res.att_gt["att"], peer["att"], rtol=0, atol=1e-8)
    np.testing.assert_allclose(res.att_gt["std_error"], peer["se"], rtol=1e-7, atol=1e-10)
    for kind in ("simple", "dynamic", "group", "calendar"):
        agg = res.aggregate(kind)
        ref = peer[kind]
        if kind == "simple":
            assert agg.params["ATT"] == pytest.approx(ref["overall_att"], abs=1e-8)
            assert agg.std_errors["ATT"] == pytest.approx(ref["overall_se"], rel=1e-7)
        else:
            np.testing.assert_allclose(agg.params.to_numpy(), ref["att_egt"], atol=1e-8)
            np.testing.assert_allclose(agg.std_errors.to_numpy(), ref["se_egt"], rtol=1e-7)
            assert agg.overall_att == pytest.approx(ref["overall_att"], abs=1e-8)
            assert agg.overall_se == pytest.approx(ref["overall_se"], rel=1e-7)


@pytest.mark.parametrize("control", CONTROLS)
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("covariates", [None, ["x"]], ids=["nocov", "cov"])
def test_identical_to_differences(sim_panel, method, control, covariates):
    df, _ = sim_panel
    res = CallawaySantAnna(
        df,
        outcome="y",
        unit="unit",
        time="time",
        group="group",
        covariates=covariates,
        control=control,
        method=method,
    ).fit()
    att, se = _differences(df, method, control, covariates)
    np.testing.assert_allclose(res.att_gt["att"], att, rtol=0, atol=1e-8)
    np.testing.assert_allclose(res.att_gt["std_error"], se, rtol=1e-6)


@pytest.mark.parametrize("control", CONTROLS)
@pytest.mark.parametrize("method", METHODS)
def test_repeated_cross_sections_identical_to_csdid(method, control):
    df, _ = staggered_panel(150, 4, seed=5, covariate_trend=0.3)
    df = df.sample(frac=0.7, random_state=2).reset_index(drop=True)
    df["obs"] = np.arange(len(df))
    res = CallawaySantAnna(
        df,
        outcome="y",
        unit="obs",
        time="time",
        group="group",
        covariates=["x"],
        control=control,
        method=method,
        panel=False,
    ).fit()
    peer = _csdid(df, method, control, ["x"], panel=False, idname="obs")
    np.testing.assert_allclose(res.att_gt["att"], peer["att"], atol=1e-8)
    np.testing.assert_allclose(res.att_gt["std_error"], peer["se"], rtol=1e-6)
    _assert_aggregates_equal(res, peer, rtol=1e-6)


def _assert_aggregates_equal(res, peer, rtol):
    """Our four aggregations against csdid's aggte(kind, bstrap=False)."""
    for kind in ("simple", "dynamic", "group", "calendar"):
        agg = res.aggregate(kind)
        ref = peer[kind]
        if kind == "simple":
            assert agg.params["ATT"] == pytest.approx(ref["overall_att"], abs=1e-8), kind
            assert agg.std_errors["ATT"] == pytest.approx(ref["overall_se"], rel=rtol), kind
        else:
            np.testing.assert_allclose(agg.params.to_numpy(), ref["att_egt"], atol=1e-8)
            np.testing.assert_allclose(agg.std_errors.to_numpy(), ref["se_egt"], rtol=rtol)
            assert agg.overall_att == pytest.approx(ref["overall_att"], abs=1e-8), kind
            assert agg.overall_se == pytest.approx(ref["overall_se"], rel=rtol), kind


@pytest.mark.parametrize(
    ("method", "control"), [("dr", "never"), ("reg", "notyet"), ("ipw", "notyet")]
)
def test_unbalanced_panel_identical_to_csdid(method, control):
    """Unbalanced panel: ATT(g,t), their errors and the aggregations equal csdid's
    ``ATTgt(..., allow_unbalanced_panel=True).fit(est_method=method, bstrap=False)`` (R
    did's allow_unbalanced_panel=TRUE), which uses the repeated-cross-section estimators
    with unit-level influence functions."""
    df, _ = staggered_panel(400, 5, seed=21, covariate_trend=0.3, noise=0.5)
    df = df.sample(frac=0.8, random_state=3).sort_values(["unit", "time"])
    df = df.reset_index(drop=True)
    with pytest.warns(EstimationWarning, match="unbalanced"):
        res = CallawaySantAnna(
            df,
            outcome="y",
            unit="unit",
            time="time",
            group="group",
            covariates=["x"],
            control=control,
            method=method,
        ).fit()
    peer = _csdid(df, method, control, ["x"], allow_unbalanced_panel=True)
    np.testing.assert_allclose(res.att_gt["att"], peer["att"], rtol=0, atol=1e-8)
    np.testing.assert_allclose(res.att_gt["std_error"], peer["se"], rtol=1e-7)
    _assert_aggregates_equal(res, peer, rtol=1e-7)


# --- published mpdta example (Callaway & Sant'Anna 2021; R package did) -----------------


@pytest.fixture(scope="module")
def mpdta():
    from moderndid import load_mpdta  # ships did::mpdta (R package data) offline

    return (
        load_mpdta()
        .to_pandas()
        .astype(
            {
                "year": "int64",
                "countyreal": "int64",
                "lemp": "float64",
                "lpop": "float64",
                "first.treat": "int64",
            }
        )
    )


# R did (2.x):  out <- att_gt(yname="lemp", gname="first.treat", idname="countyreal",
#   tname="year", xformla=~1, data=mpdta, est_method="reg"); summary(out)
# printed ATT(g,t) (4 decimals; the did "Getting started" vignette / README, also shown at
# https://rstudio-pubs-static.s3.amazonaws.com/736765_c47909c746704c79922fdc03ab352edf.html)
R_MPDTA_ATT_GT = [
    -0.0105,
    -0.0704,
    -0.1373,
    -0.1008,
    0.0065,
    -0.0028,
    -0.0046,
    -0.0412,
    0.0305,
    -0.0027,
    -0.0311,
    -0.0261,
]
# aggte(out, type="simple"): overall ATT -0.0400 (vignette); type="dynamic": -0.0772 (README).
R_MPDTA_SIMPLE = -0.0400
R_MPDTA_DYNAMIC = -0.0772


def test_mpdta_matches_published_r_output(mpdta):
    res = CallawaySantAnna(
        mpdta,
        outcome="lemp",
        unit="countyreal",
        time="year",
        group="first.treat",
        method="reg",
    ).fit()
    np.testing.assert_allclose(res.att_gt["att"].round(4), R_MPDTA_ATT_GT, atol=1e-12)
    assert round(res.aggregate("simple").params["ATT"], 4) == R_MPDTA_SIMPLE
    assert round(res.aggregate("dynamic").overall_att, 4) == R_MPDTA_DYNAMIC


def test_mpdta_analytic_errors_equal_r_did_port(mpdta):
    """Analytic influence-function errors equal R did's (bstrap=FALSE) as ported by moderndid.

    R's printed SEs in the vignette come from the multiplier bootstrap (default
    bstrap=TRUE), so the analytic errors are compared with moderndid's port of R's
    analytic formulas (``boot=False``), which is itself checked against R by its authors.
    """
    import moderndid as md

    res = CallawaySantAnna(
        mpdta,
        outcome="lemp",
        unit="countyreal",
        time="year",
        group="first.treat",
        method="reg",
    ).fit()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = md.att_gt(
            data=md.load_mpdta(),
            yname="lemp",
            tname="year",
            gname="first.treat",
            idname="countyreal",
            est_method="reg",
            boot=False,
        )
        simple = md.aggte(ref, type="simple", boot=False)
        dyn = md.aggte(ref, type="dynamic", boot=False)
    np.testing.assert_allclose(res.att_gt["std_error"], np.asarray(ref.se_gt), rtol=1e-8)
    agg = res.aggregate("simple")
    assert agg.std_errors["ATT"] == pytest.approx(simple.overall_se, rel=1e-8)
    d = res.aggregate("dynamic")
    np.testing.assert_allclose(d.std_errors.to_numpy(), dyn.se_by_event, rtol=1e-8)
    assert d.overall_se == pytest.approx(dyn.overall_se, rel=1e-8)
    # and the analytic errors are close to R's published bootstrap SE for the simple ATT
    # (0.0115 in the vignette; bootstrap noise of a few per cent is expected)
    assert agg.std_errors["ATT"] == pytest.approx(0.0115, rel=0.1)


# --- truth: unbalanced panels and repeated cross sections --------------------------------


@pytest.mark.parametrize("method", ["reg", "ipw", "dr"])
@pytest.mark.parametrize("control", ["never", "notyet"])
def test_universal_base_period_equals_r_did_port(mpdta, method, control):
    """base_period="universal" (every cell against g - 1): estimates and analytic errors equal
    R did's (moderndid's port, ``base_period="universal"``); R reports the reference cell as
    ATT 0 with no error, which we leave out."""
    import moderndid as md

    res = CallawaySantAnna(
        mpdta, "lemp", "countyreal", "year", "first.treat", method=method, control=control,
        base_period="universal",
    ).fit()  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = md.att_gt(
            data=md.load_mpdta(), yname="lemp", tname="year", gname="first.treat",
            idname="countyreal", est_method=method, boot=False, base_period="universal",
            control_group={"never": "nevertreated", "notyet": "notyettreated"}[control],
        )  # fmt: skip
    se = np.asarray(ref.se_gt, dtype=float)
    reference = ~np.isfinite(se)
    assert reference.sum() == 3  # one reference cell per cohort
    np.testing.assert_allclose(res.att_gt["att"], np.asarray(ref.att_gt)[~reference], atol=1e-10)
    np.testing.assert_allclose(res.att_gt["std_error"], se[~reference], rtol=1e-8)
    assert (res.att_gt["base_period"] == res.att_gt["group"] - 1).all()


def test_base_period_must_be_known(sim_panel):
    with pytest.raises(ValueError, match="base_period"):
        CallawaySantAnna(sim_panel[0], "y", "unit", "time", "group", base_period="fixed")


def test_unbalanced_panel_recovers_known_att():
    df, truth = staggered_panel(6000, 5, seed=21, noise=0.5)
    df = df.sample(frac=0.8, random_state=3)
    with pytest.warns(EstimationWarning, match="unbalanced"):
        res = CallawaySantAnna(
            df, outcome="y", unit="unit", time="time", group="group", method="reg"
        ).fit()
    tab = res.att_gt
    true = np.array([truth[(g, t)] for g, t in zip(tab["group"], tab["time"], strict=True)])
    z = (tab["att"] - true) / tab["std_error"]
    assert np.all(np.abs(z) < 4.5)
    assert np.mean(np.abs(z) < 1.96) > 0.75


def test_repeated_cross_sections_recover_known_att():
    df, truth = staggered_panel(12000, 5, seed=22, covariate_trend=0.4, noise=0.5)
    # every person observed once: a repeated cross section
    pick = np.random.default_rng(0).integers(0, 5, size=12000)
    rcs = df[df["time"].to_numpy() == np.repeat(pick + 1, 5)].copy()
    for method in ("dr", "reg", "ipw"):
        res = CallawaySantAnna(
            rcs,
            outcome="y",
            unit="unit",
            time="time",
            group="group",
            covariates=["x"],
            method=method,
            panel=False,
        ).fit()
        tab = res.att_gt
        true = np.array([truth[(g, t)] for g, t in zip(tab["group"], tab["time"], strict=True)])
        z = (tab["att"] - true) / tab["std_error"]
        assert np.all(np.abs(z) < 4.5), method
        # the simple aggregate against its truth: the post cells' true ATT(g,t) weighted by
        # the cohort sizes (R did's pg), computed here from the data
        simple = res.aggregate("simple")
        post = tab["time"] >= tab["group"]
        size = rcs["group"].value_counts()
        pg = size.reindex(tab.loc[post, "group"]).to_numpy(float)
        simple_truth = np.sum(pg * true[post]) / pg.sum()
        assert abs(simple.params["ATT"] - simple_truth) < 3.5 * simple.std_errors["ATT"], method
    # the errors of the cells and the aggregations are checked against csdid in
    # test_repeated_cross_sections_identical_to_csdid (same estimator, smaller data)


def test_simple_aggregate_covers_truth_with_bootstrap_band():
    df, truth = staggered_panel(3000, 6, seed=4)
    res = CallawaySantAnna(df, outcome="y", unit="unit", time="time", group="group").fit(
        bootstrap=True, n_boot=499, seed=1
    )
    tab = res.att_gt
    true = np.array([truth[(g, t)] for g, t in zip(tab["group"], tab["time"], strict=True)])
    assert np.all((tab["lower"] <= true) & (true <= tab["upper"]))
    # uniform band wider than pointwise
    assert np.all(tab["upper"] - tab["att"] > 1.96 * tab["std_error"] * 0.999)
    dyn = res.aggregate("dynamic")
    assert dyn.critical_value > 1.96
    assert set(dyn.params.index) == set(range(-4, 4))


@pytest.mark.parametrize("trend", [0.0, 0.4], ids=["parallel", "pretrend"])
def test_pretest_equals_csdid_wald_and_rejects_pretrends(sim_panel, trend):
    """The pre-trend Wald test W = a' V^-1 a over the pre-treatment ATT(g,t) (R did's W,
    chi-square with one df per pre cell) equals csdid's ``MP["W"]`` / ``MP["Wpval"]`` from
    ``ATTgt(..., xformla="y ~ x").fit(est_method="dr", bstrap=False)``; recomputed here from
    the pre cells and their covariance. It does not reject when parallel trends hold
    (conditional on x; p = 0.14) and rejects a cohort-specific pre-trend of 0.4 per period
    at the conventional 5 % (p = 2e-6 on these data). The level is the one an evaluator
    uses, not one read off the result; the test's power against this trend (noncentral
    chi-square with the pre cells' true values 0.4 for cohort 5 and their covariance) is
    checked first: 0.984, so a miss at 5 % would point at the implementation, not at chance
    (which would explain it 1.6 % of the time)."""
    from scipy import stats

    df, _ = sim_panel
    df = df.assign(y=df["y"] + trend * (df["group"] == 5) * df["time"])
    res = CallawaySantAnna(
        df, outcome="y", unit="unit", time="time", group="group", covariates=["x"]
    ).fit()
    tab = res.att_gt
    pre = (tab["time"] < tab["group"]).to_numpy()
    assert pre.sum() == 6  # cohorts 3, 4, 5 with 1, 2, 3 pre periods after the first
    a = tab["att"].to_numpy()[pre]
    v = res.extra["vcov"][np.ix_(pre, pre)]
    np.testing.assert_allclose(np.sqrt(np.diag(v)), tab["std_error"].to_numpy()[pre], rtol=1e-10)
    w = float(a @ np.linalg.solve(v, a))
    assert res.pretest["statistic"] == pytest.approx(w, rel=1e-8)
    assert res.pretest["df"] == 6
    assert res.pretest["p_value"] == pytest.approx(stats.chi2.sf(w, 6), rel=1e-10)
    peer = _csdid(df, "dr", "never", ["x"])
    assert res.pretest["statistic"] == pytest.approx(peer["W"], rel=1e-7)
    assert res.pretest["p_value"] == pytest.approx(peer["Wpval"], abs=1e-5)  # R rounds to 5
    if trend == 0:
        assert res.pretest["p_value"] > 0.05
    else:
        # the pre cells' true values: cohort 5's trend, seen period on period (varying base)
        a_true = np.where(tab["group"].to_numpy()[pre] == 5, trend, 0.0)
        nc = float(a_true @ np.linalg.solve(v, a_true))
        power = stats.ncx2.sf(stats.chi2.isf(0.05, 6), 6, nc)
        assert power > 0.95, power  # 0.984 on these data
        assert res.pretest["p_value"] < 0.05


def test_pretest_and_plot(sim_panel):
    df, _ = sim_panel
    res = CallawaySantAnna(
        df, outcome="y", unit="unit", time="time", group="group", covariates=["x"]
    ).fit()
    assert res.pretest["p_value"] > 0.05  # values checked in the test above
    import matplotlib

    matplotlib.use("Agg")
    ax = res.aggregate("dynamic").plot()
    assert ax is not None
    assert "ATT" in res.aggregate("simple").summary()


# --- clear errors ------------------------------------------------------------------------


def test_error_no_never_treated():
    df, _ = staggered_panel(200, 5, seed=1, never_share=0.0)
    with pytest.raises(EstimationError, match="no never-treated"):
        CallawaySantAnna(
            df, outcome="y", unit="unit", time="time", group="group", control="never"
        ).fit()


def test_error_no_not_yet_treated_in_cell():
    df, _ = staggered_panel(200, 5, seed=1, never_share=0.0, first_cohort=5)
    # a single cohort and no never-treated units: nobody to compare with
    with pytest.raises(EstimationError, match="comparison"):
        CallawaySantAnna(
            df, outcome="y", unit="unit", time="time", group="group", control="notyet"
        ).fit()


def test_error_group_treated_in_first_period():
    df, _ = staggered_panel(200, 5, seed=1)
    df.loc[df["unit"] < 10, "group"] = 1
    with pytest.raises(EstimationError, match=r"group\(s\) \[1\].*first period"):
        CallawaySantAnna(df, outcome="y", unit="unit", time="time", group="group").fit()
    res = CallawaySantAnna(
        df, outcome="y", unit="unit", time="time", group="group", drop_always_treated=True
    ).fit()
    assert 1 not in set(res.att_gt["group"])


def test_error_singular_covariates_names_cell():
    df, _ = staggered_panel(300, 5, seed=1)
    df["x2"] = 2 * df["x"]
    with pytest.raises(EstimationError, match=r"cell ATT\(g=3, t=2\).*singular"):
        CallawaySantAnna(
            df,
            outcome="y",
            unit="unit",
            time="time",
            group="group",
            covariates=["x", "x2"],
            method="reg",
        ).fit()


def test_error_unit_switching_out_of_treatment():
    df, _ = staggered_panel(200, 5, seed=1)
    df["d"] = ((df["group"] > 0) & (df["time"] >= df["group"])).astype(int)
    res = CallawaySantAnna(df, outcome="y", unit="unit", time="time", treatment="d").fit()
    ref = CallawaySantAnna(df, outcome="y", unit="unit", time="time", group="group").fit()
    np.testing.assert_allclose(res.att_gt["att"], ref.att_gt["att"])
    df.loc[(df["unit"] == df.loc[df["group"] == 3, "unit"].iloc[0]) & (df["time"] == 5), "d"] = 0
    with pytest.raises(EstimationError, match="switches from 1 back to 0"):
        CallawaySantAnna(df, outcome="y", unit="unit", time="time", treatment="d").fit()


def test_error_group_varies_within_unit():
    df, _ = staggered_panel(100, 4, seed=1)
    df.loc[df.index[1], "group"] = 99
    from werkeffect.exceptions import DataValidationError

    with pytest.raises((DataValidationError, EstimationError)):
        CallawaySantAnna(df, outcome="y", unit="unit", time="time", group="group").fit()


def test_missing_column_named():
    df = pd.DataFrame({"y": [1.0], "unit": [1], "time": [1]})
    from werkeffect.exceptions import DataValidationError

    with pytest.raises(DataValidationError, match="group_col"):
        CallawaySantAnna(df, outcome="y", unit="unit", time="time", group="group_col")


@pytest.mark.parametrize("control", CONTROLS)
def test_anticipation_identical_to_csdid(control):
    from csdid.att_gt import ATTgt

    df, _ = staggered_panel(200, 6, seed=2)
    res = CallawaySantAnna(
        df,
        outcome="y",
        unit="unit",
        time="time",
        group="group",
        anticipation=1,
        control=control,
        method="reg",
    ).fit()
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = ATTgt(
            yname="y",
            tname="time",
            idname="unit",
            gname="group",
            data=df,
            anticipation=1,
            control_group="nevertreated" if control == "never" else "notyettreated",
        ).fit(est_method="reg", bstrap=False)
    np.testing.assert_allclose(res.att_gt["att"], np.asarray(m.results["att"]), atol=1e-8)
    np.testing.assert_allclose(res.att_gt["std_error"], np.asarray(m.results["se"]), rtol=1e-7)


def test_cluster_by_unit_equals_unclustered(sim_panel):
    df, _ = sim_panel
    a = CallawaySantAnna(df, outcome="y", unit="unit", time="time", group="group").fit()
    b = CallawaySantAnna(
        df, outcome="y", unit="unit", time="time", group="group", cluster="unit"
    ).fit()
    np.testing.assert_allclose(a.att_gt["att"], b.att_gt["att"], atol=1e-12)
    np.testing.assert_allclose(a.att_gt["std_error"], b.att_gt["std_error"], rtol=1e-10)
    sa, sb = a.aggregate("group"), b.aggregate("group")
    np.testing.assert_allclose(sa.std_errors, sb.std_errors, rtol=1e-10)
