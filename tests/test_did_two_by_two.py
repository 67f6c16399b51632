"""2x2 DiD: hand-computed case, DRDID kernels (drdid), errors, wild bootstrap."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from werkeffect.did import DiD
from werkeffect.exceptions import EstimationError, EstimationWarning


def _hand_frame():
    # treated: pre 1,3 post 6,8 ; control: pre 2,4 post 3,5  -> ATT = (7-2) - (4-3) = 4
    return pd.DataFrame(
        {
            "id": [1, 2, 3, 4, 1, 2, 3, 4],
            "d": [1, 1, 0, 0, 1, 1, 0, 0],
            "post": [0, 0, 0, 0, 1, 1, 1, 1],
            "y": [1.0, 3.0, 2.0, 4.0, 6.0, 8.0, 3.0, 5.0],
        }
    )


@pytest.mark.parametrize("method", ["dr", "reg", "ipw"])
@pytest.mark.parametrize("unit", ["id", None])
def test_hand_computed(method, unit):
    r = DiD(_hand_frame(), outcome="y", treated="d", post="post", method=method, unit=unit).fit()
    assert r.params["ATT"] == pytest.approx(4.0, abs=1e-12)
    # panel: IF = n*(dY - mean)/n_group; dY treated 5,5 control 1,1 -> all zero variance
    if unit == "id":
        assert r.std_errors["ATT"] == pytest.approx(0.0, abs=1e-12)
    else:
        # RC IF from the four cell means: Var = sum over cells of s2_cell / n_cell (ddof 0)
        # each cell has values differing by 2 -> var 1 per cell, n=2 -> se = sqrt(4 * 1/2)
        assert r.std_errors["ATT"] == pytest.approx(np.sqrt(4 * 1.0 / 2), rel=1e-12)


@pytest.fixture(scope="module")
def covariate_data():
    rng = np.random.default_rng(0)
    n = 1500
    x = rng.normal(size=n)
    d = (rng.random(n) < 1 / (1 + np.exp(-x))).astype(float)
    y0 = x + rng.normal(size=n)
    y1 = y0 + 0.5 + 0.5 * x + 2 * d + rng.normal(size=n)
    df = pd.DataFrame(
        {
            "id": np.r_[np.arange(n), np.arange(n)],
            "post": np.r_[np.zeros(n), np.ones(n)],
            "d": np.r_[d, d],
            "x": np.r_[x, x],
            "y": np.r_[y0, y1],
        }
    )
    return df, (y0, y1, d, x)


@pytest.mark.parametrize("method", ["dr", "reg", "ipw"])
def test_panel_matches_drdid(covariate_data, method):
    from drdid.drdid import drdid_panel
    from drdid.ipwd_did import std_ipw_did_panel
    from drdid.reg_did import reg_did_panel

    df, (y0, y1, d, x) = covariate_data
    f = {"dr": drdid_panel, "reg": reg_did_panel, "ipw": std_ipw_did_panel}[method]
    att, inf = f(y1, y0, d, covariates=x)
    r = DiD(
        df, outcome="y", treated="d", post="post", covariates=["x"], method=method, unit="id"
    ).fit()
    assert r.params["ATT"] == pytest.approx(att, abs=1e-8)
    assert r.std_errors["ATT"] == pytest.approx(np.sqrt(np.mean(inf**2) / len(d)), rel=1e-8)
    assert abs(r.params["ATT"] - 2.0) < 4 * r.std_errors["ATT"]


@pytest.mark.parametrize("method", ["dr", "reg", "ipw"])
def test_repeated_cross_sections_match_drdid(covariate_data, method):
    from drdid.drdid import drdid_rc
    from drdid.ipwd_did import std_ipw_did_rc
    from drdid.reg_did import reg_did_rc

    df, _ = covariate_data
    f = {"dr": drdid_rc, "reg": reg_did_rc, "ipw": std_ipw_did_rc}[method]
    att, inf = f(df.y.to_numpy(), df.post.to_numpy(), df.d.to_numpy(), covariates=df.x.to_numpy())
    r = DiD(df, outcome="y", treated="d", post="post", covariates=["x"], method=method).fit()
    assert r.params["ATT"] == pytest.approx(att, abs=1e-8)
    assert r.std_errors["ATT"] == pytest.approx(np.sqrt(np.mean(inf**2) / len(df)), rel=1e-8)


def test_2x2_equals_csdid_two_period_cell(covariate_data):
    """A 2x2 is one ATT(g,t) cell: csdid with two periods gives the same DR estimate."""
    import contextlib
    import io

    from csdid.att_gt import ATTgt

    df, _ = covariate_data
    d2 = df.assign(time=df["post"].astype(int) + 1, g=np.where(df["d"] == 1, 2, 0))
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = ATTgt(yname="y", tname="time", idname="id", gname="g", data=d2, xformla="y~x").fit(
            est_method="dr", bstrap=False
        )
    r = DiD(df, outcome="y", treated="d", post="post", covariates=["x"], unit="id").fit()
    assert r.params["ATT"] == pytest.approx(m.results["att"][0], abs=1e-8)
    assert r.std_errors["ATT"] == pytest.approx(m.results["se"][0], rel=1e-7)


def test_singular_covariates_error(covariate_data):
    df, _ = covariate_data
    df = df.assign(x2=3 * df["x"])
    with pytest.raises(EstimationError, match="singular"):
        DiD(
            df,
            outcome="y",
            treated="d",
            post="post",
            covariates=["x", "x2"],
            unit="id",
            method="reg",
        ).fit()


def test_switching_out_of_treatment_error(covariate_data):
    df, _ = covariate_data
    df = df.copy()
    df.loc[df.index[-1], "d"] = 1 - df.loc[df.index[-1], "d"]
    with pytest.raises(EstimationError, match="changes within unit"):
        DiD(df, outcome="y", treated="d", post="post", unit="id").fit()


def _clustered(seed, n_cl=7, per=40, effect=0.0):
    rng = np.random.default_rng(seed)
    cl = np.repeat(np.arange(n_cl), per)
    treated_cl = np.arange(n_cl) < 3
    d = treated_cl[cl].astype(float)
    shock = rng.normal(scale=0.5, size=(n_cl, 2))
    rows = []
    for post in (0, 1):
        y = shock[cl, post] + rng.normal(size=len(cl)) + effect * d * post
        rows.append(
            pd.DataFrame({"id": np.arange(len(cl)), "cl": cl, "d": d, "post": post, "y": y})
        )
    return pd.concat(rows, ignore_index=True)


def test_few_clusters_uses_wild_bootstrap_and_warns():
    df = _clustered(1)
    with pytest.warns(EstimationWarning, match="clusters"):
        r = DiD(
            df, outcome="y", treated="d", post="post", unit="id", cluster="cl", method="reg"
        ).fit(n_boot=999)
    assert r.wild is not None and r.wild.weights == "webb"
    ci = r.conf_int()
    assert ci.loc["ATT", "lower"] < r.params["ATT"] < ci.loc["ATT", "upper"]
    # the bootstrap interval is wider than the naive normal one with 7 clusters
    assert ci.loc["ATT", "upper"] - ci.loc["ATT", "lower"] > 2 * 1.96 * r.std_errors["ATT"] * 0.9
    # the reported p-value is the bootstrap's, which goes with that interval
    assert r.pvalues["ATT"] == pytest.approx(r.wild.p_value)
    assert r.to_frame()["p_value"].iloc[0] == pytest.approx(r.wild.p_value)


def test_wild_bootstrap_size_under_null_small_mc():
    """Rejection rate at 5% under the null with 7 clusters (cheap MC, 60 replications)."""
    rej = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for s in range(60):
            df = _clustered(100 + s)
            r = DiD(
                df, outcome="y", treated="d", post="post", unit="id", cluster="cl", method="reg"
            ).fit(n_boot=399)
            rej.append(r.wild.p_value < 0.05)
    # binomial(60, .05): P(X > 9) < 0.2%; the WCR is known to be (slightly) conservative
    assert np.mean(rej) <= 0.15
