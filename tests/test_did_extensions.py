"""Sun & Abraham, Rambachan & Roth bounds, WW frame."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from werkeffect.did import CallawaySantAnna, EventStudy, SunAbraham, honest_bounds
from werkeffect.did._dgp import staggered_panel


def test_sun_abraham_equals_cs_post_periods():
    """Never-treated controls, balanced, no covariates: IW(l>=0) = CS dynamic (e>=0)."""
    df, _ = staggered_panel(1200, 6, seed=3)
    sa = SunAbraham(df, "y", "unit", "time", "group").fit()
    cs = (
        CallawaySantAnna(df, outcome="y", unit="unit", time="time", group="group", method="reg")
        .fit()
        .aggregate("dynamic")
    )
    post = [e for e in sa.params.index if e >= 0]
    np.testing.assert_allclose(sa.params[post].to_numpy(), cs.params[post].to_numpy(), atol=1e-10)


def test_sun_abraham_matches_saturated_panelols():
    """Cohort x relative-period coefficients equal a saturated TWFE fitted by linearmodels."""
    from linearmodels import PanelOLS

    df, _ = staggered_panel(500, 5, seed=9)
    sa = SunAbraham(df, "y", "unit", "time", "group").fit()
    catt = sa.extra["catt"]
    d = df.copy()
    names = []
    for e, l_ in catt.index:
        nm = f"c{int(e)}_{'m' if l_ < 0 else 'p'}{abs(int(l_))}"
        d[nm] = ((d["group"] == e) & (d["time"] - d["group"] == l_)).astype(float)
        names.append(nm)
    d = d.set_index(["unit", "time"])
    m = PanelOLS(d["y"], d[names], entity_effects=True, time_effects=True).fit()
    np.testing.assert_allclose(m.params[names].to_numpy(), catt.to_numpy(), atol=1e-8)


def test_sun_abraham_standard_errors_match_pyfixest_and_panelols():
    """IW standard errors equal w' V w with V the unit-clustered covariance of the saturated
    cohort x relative-period TWFE regression, from two peers (unbalanced panel):

    * pyfixest ``feols("y ~ c3_m1 + ... | unit + time", vcov={"CRV1": "unit"},
      ssc=pf.ssc(k_adj=True, k_fixef="none", G_adj=True),
      demeaner=pf.MapDemeaner(fixef_tol=1e-12))``: exactly our CR1,
      G/(G-1) * (N-1)/(N-K) with K the interaction coefficients only. (pyfixest's and R
      fixest's default ``k_fixef="nonnested"`` also counts the 5 time effects in K: SEs
      0.11 % larger on these data.)
    * linearmodels ``PanelOLS(..., entity_effects=True, time_effects=True).fit(
      cov_type="clustered", cluster_entity=True, count_effects=False, auto_df=False)``:
      the sandwich times N/(N-K), so ours = lm * (N-1)/N * G/(G-1).

    The weights (each cohort's share of the observations at relative period l) are
    recomputed here from the data."""
    import pyfixest as pf
    from linearmodels import PanelOLS

    df, _ = staggered_panel(500, 5, seed=9)
    df = df.sample(frac=0.9, random_state=4).sort_values(["unit", "time"])
    df = df.reset_index(drop=True)
    sa = SunAbraham(df, "y", "unit", "time", "group").fit()
    catt = sa.extra["catt"]
    d = df.copy()
    rel = d["time"] - d["group"]
    names = []
    for e, l_ in catt.index:
        nm = f"c{int(e)}_{'m' if l_ < 0 else 'p'}{abs(int(l_))}"
        d[nm] = ((d["group"] == e) & (rel == l_)).astype(float)
        names.append(nm)
    ls = list(sa.params.index)
    w = np.zeros((len(names), len(ls)))
    for j, l_ in enumerate(ls):
        cells = [(i, e) for i, (e, ll) in enumerate(catt.index) if ll == l_]
        counts = np.array([((d["group"] == e) & (rel == l_)).sum() for _, e in cells])
        w[[i for i, _ in cells], j] = counts / counts.sum()
    fit = pf.feols(
        "y ~ " + " + ".join(names) + " | unit + time",
        data=d,
        vcov={"CRV1": "unit"},
        ssc=pf.ssc(k_adj=True, k_fixef="none", G_adj=True),
        demeaner=pf.MapDemeaner(fixef_tol=1e-12),
    )
    b = fit.coef()[names].to_numpy()
    np.testing.assert_allclose(catt.to_numpy(), b, atol=1e-9)
    np.testing.assert_allclose(sa.params.to_numpy(), w.T @ b, atol=1e-9)
    v_pf = fit._vcov  # in the order of ``names``
    np.testing.assert_allclose(
        sa.std_errors.to_numpy(), np.sqrt(np.diag(w.T @ v_pf @ w)), rtol=1e-7
    )
    np.testing.assert_allclose(sa.vcov.to_numpy(), w.T @ v_pf @ w, rtol=1e-6, atol=1e-12)
    p = d.set_index(["unit", "time"])
    m = PanelOLS(p["y"], p[names], entity_effects=True, time_effects=True).fit(
        cov_type="clustered", cluster_entity=True, count_effects=False, auto_df=False
    )
    n, g = len(d), d["unit"].nunique()
    v_lm = m.cov.loc[names, names].to_numpy() * (n - 1) / n * g / (g - 1)
    np.testing.assert_allclose(
        sa.std_errors.to_numpy(), np.sqrt(np.diag(w.T @ v_lm @ w)), rtol=1e-10
    )


@pytest.fixture(scope="module")
def event_studies():
    df, _ = staggered_panel(1500, 8, seed=8, dynamic=0.0, first_cohort=5)
    es = EventStudy(df, outcome="y", unit="unit", time="time", group="group", leads=3, lags=2).fit()
    df2 = df.copy()
    df2["y"] += 0.15 * (df2["group"] > 0) * df2["time"]
    es2 = EventStudy(
        df2, outcome="y", unit="unit", time="time", group="group", leads=3, lags=2
    ).fit()
    return es, es2


def test_honest_smoothness_zero_is_linear_extrapolation(event_studies):
    es, _ = event_studies
    b = es.params
    slope = 0.0 - b[-2]  # from delta_-2 to delta_-1 = 0
    post = [0, 1, 2]
    expected = np.mean([b[e] - (e + 1) * slope for e in post])
    h = honest_bounds(es, "smoothness", M=[0.0], n_draws=10)
    assert h.table.loc[0, "lower_set"] == pytest.approx(expected, abs=1e-7)
    assert h.table.loc[0, "upper_set"] == pytest.approx(expected, abs=1e-7)


def test_honest_relative_magnitude_against_lp(event_studies):
    from scipy import optimize

    es, _ = event_studies
    b = es.params
    c = max(abs(b[-2] - b[-3]), abs(0 - b[-2]))
    mbar = 1.3
    # LP: max mean(delta_post) s.t. |delta_{t+1}-delta_t| <= mbar*c, delta_-1 = 0
    n = 3
    a_ub, b_ub = [], []
    for t in range(n):
        row = np.zeros(n)
        row[t] = 1
        if t > 0:
            row[t - 1] = -1
        a_ub += [row, -row]
        b_ub += [mbar * c, mbar * c]
    lv = np.full(n, 1 / 3)
    hi = optimize.linprog(-lv, A_ub=np.array(a_ub), b_ub=b_ub, bounds=[(None, None)] * n)
    centre = np.mean([b[0], b[1], b[2]])
    h = honest_bounds(es, "relative_magnitude", M=[mbar], n_draws=200)
    assert h.table.loc[0, "lower_set"] == pytest.approx(centre + hi.fun, abs=1e-9)


def test_honest_bounds_widen_when_trends_break(event_studies):
    es, es2 = event_studies
    h1 = honest_bounds(es, M=[1.0], n_draws=300)
    h2 = honest_bounds(es2, M=[1.0], n_draws=300)
    w1 = h1.table.loc[0, "upper"] - h1.table.loc[0, "lower"]
    w2 = h2.table.loc[0, "upper"] - h2.table.loc[0, "lower"]
    assert w2 > 2 * w1
    assert es2.pretrend["p_value"] < 0.01
    assert h1.table["upper"].is_monotonic_increasing
    assert "sensitivity" in h1.summary()


def test_ww_inflow_frame_on_small_dataset():
    from werkeffect.data.dataset import Dataset
    from werkeffect.did import ww_inflow_frame

    ts = pd.Timestamp
    ww = pd.DataFrame(
        {
            "ww_id": [1, 2, 3, 4],
            "person_id": [10, 11, 12, 13],
            "municipality": ["Groningen", "Groningen", "Veendam", "Veendam"],
            "ww_start": [ts("2019-01-01")] * 4,
            "ww_max_end": [ts("2019-03-10"), ts("2020-08-01"), ts("2019-03-01"), ts("2020-09-01")],
            "ww_end": [ts("2019-03-10"), ts("2020-08-01"), ts("2019-03-01"), pd.NaT],
            "contact_date": [pd.NaT, ts("2020-02-01"), pd.NaT, pd.NaT],
        }
    )
    spells = pd.DataFrame(
        {
            "spell_id": [1, 2],
            "person_id": [10, 11],
            "start_date": [ts("2019-05-01"), ts("2021-06-01")],
            "end_date": [pd.NaT, pd.NaT],
            "exit_reason": [None, None],
        }
    )
    ds = Dataset(
        persons=pd.DataFrame(),
        spells=spells,
        programmes=pd.DataFrame(),
        ww=ww,
        extract_date=ts("2024-12-31"),
    )
    f = ww_inflow_frame(ds, 6)
    assert list(f["ww_id"]) == [1, 2, 3]  # record 4 still running
    assert list(f["inflow"]) == [1, 0, 0]  # person 11 enters after 10 months
    assert list(f["period"]) == [5, 8, 5]  # 2019H1 = 5, 2020H2 = 8
    assert list(f["group"]) == [8, 8, 0]
    assert list(f["treated"]) == [0, 1, 0]
    steps = f.attrs["flow"].steps
    assert steps[0].rows_in == 4 and steps[0].rows_out == 3
    m = ww_inflow_frame(ds, 12, level="municipality")
    assert set(m.columns) >= {"municipality", "period", "group", "treated", "inflow", "n"}


def test_plots_smoke(event_studies):
    import matplotlib

    matplotlib.use("Agg")
    from werkeffect.did import bacon_decomposition

    es, _ = event_studies
    assert es.plot() is not None
    assert honest_bounds(es, M=[0.5, 1.0], n_draws=50).plot() is not None
    df, _ = staggered_panel(200, 5, seed=1)
    assert bacon_decomposition(df, "y", "unit", "time", "group").plot() is not None


def test_period_labels_name_the_calendar_half_years():
    from werkeffect.did.ww_frame import calendar_period, period_label

    dates = pd.Series(pd.to_datetime(["2017-01-15", "2017-07-01", "2020-12-31", "2021-03-01"]))
    k = calendar_period(dates)
    assert list(k) == [1, 2, 8, 9]
    assert period_label(k) == ["2017-1", "2017-2", "2020-2", "2021-1"]
    assert period_label([0]) == ["–"]  # never treated
    assert period_label(calendar_period(dates, "quarter"), "quarter") == [
        "2017-Q1", "2017-Q3", "2020-Q4", "2021-Q1",
    ]  # fmt: skip
    assert period_label(calendar_period(dates, "year"), "year") == ["2017", "2017", "2020", "2021"]
