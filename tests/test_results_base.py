import numpy as np
import pandas as pd
import pytest
from scipy import stats

from werkeffect.results import EstimationResult


def make_result(**kw):
    return EstimationResult(
        params=pd.Series({"a": 1.0, "b": -0.5}),
        std_errors=pd.Series({"a": 0.5, "b": 0.25}),
        method="test",
        n={"n_treated": 10, "n_control": 20},
        **kw,
    )


def test_wald_interval_and_pvalue():
    res = make_result()
    ci = res.conf_int(0.95)
    z = stats.norm.ppf(0.975)
    assert ci.loc["a", "lower"] == pytest.approx(1.0 - z * 0.5)
    assert ci.loc["b", "upper"] == pytest.approx(-0.5 + z * 0.25)
    assert res.pvalues["a"] == pytest.approx(2 * stats.norm.sf(2.0))


def test_t_distribution_widens_interval():
    res_t = make_result(dist="t", df_resid=5)
    res_z = make_result()
    width_t = np.diff(res_t.conf_int().loc["a"].to_numpy())[0]
    width_z = np.diff(res_z.conf_int().loc["a"].to_numpy())[0]
    assert width_t > width_z


def test_precomputed_intervals_used_at_their_level_only():
    iv = pd.DataFrame({"lower": [0.1, -1.0], "upper": [2.0, 0.0]}, index=["a", "b"])
    res = make_result(intervals=iv, interval_level=0.95)
    assert res.conf_int(0.95).loc["a", "lower"] == 0.1
    assert res.conf_int(0.90).loc["a", "lower"] != 0.1


def test_to_frame_columns_and_summary_text():
    res = make_result()
    frame = res.to_frame()
    assert list(frame.columns) == [
        "term",
        "estimate",
        "std_error",
        "lower",
        "upper",
        "p_value",
        "n",
    ]
    assert frame["n"].iloc[0] == 30
    text = res.summary()
    assert "test" in text and "n_treated=10" in text
    assert "<table" in res._repr_html_()


def test_bad_level_raises():
    with pytest.raises(ValueError, match="level"):
        make_result().conf_int(1.5)
