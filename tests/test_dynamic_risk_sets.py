"""Risk sets, validation and the result object of werkeffect.dynamic."""

import warnings

import numpy as np
import pandas as pd
import pytest
from joblib import parallel_config

from dynamic_dgp import simulate_spells
from werkeffect.dynamic import DynamicIPW, DynamicMatch, SurvivalMatch, risk_sets
from werkeffect.dynamic.cif import aalen_johansen, counts_from_rows
from werkeffect.exceptions import DataValidationError, EstimationError
from werkeffect.results import EstimationResult


def brute_force_risk_sets(df, u_values):
    """Loop over spells and months: the definition written out (small data only)."""
    rows = []
    for pos, r in enumerate(df.itertuples()):
        for u in u_values:
            on_benefit = r.duration > u and r.entry <= u
            ps = r.programme_start
            if not on_benefit:
                continue
            if not np.isnan(ps) and np.floor(ps) == u:
                rows.append((u, pos, 1))
            elif np.isnan(ps) or np.floor(ps) > u:
                rows.append((u, pos, 0))
    return pd.DataFrame(rows, columns=["u", "row", "treated"])


def test_risk_sets_match_the_definition():
    df = simulate_spells(400, seed=3)
    rng = np.random.default_rng(0)
    # continuous times and left truncation
    df["duration"] = df["duration"] - rng.random(len(df)) * 0.9
    df["programme_start"] = df["programme_start"] + rng.random(len(df)) * 0.5
    df.loc[df["programme_start"] >= df["duration"], "programme_start"] = np.nan
    df["entry"] = np.where(rng.random(len(df)) < 0.2, np.minimum(3.0, df["duration"] / 2), 0.0)
    df.loc[df["programme_start"] < df["entry"], "programme_start"] = np.nan
    us = [0, 1, 2, 5, 9, 20]
    got = risk_sets(
        df,
        id="person_id",
        duration="duration",
        cause="cause",
        treatment_start="programme_start",
        entry="entry",
        u_values=us,
    )
    want = brute_force_risk_sets(df, us)
    key = ["u", "row", "treated"]
    pd.testing.assert_frame_equal(
        got[key].sort_values(key).reset_index(drop=True),
        want.sort_values(key).reset_index(drop=True),
        check_dtype=False,
    )
    # comparison spells that start later carry their start month
    later = got[(got["treated"] == 0) & got["later_start"].notna()]
    assert (later["later_start"] > later["u"]).all()


def test_validation_names_columns_and_rows():
    df = simulate_spells(200, seed=1)
    with pytest.raises(DataValidationError, match="missing column"):
        DynamicMatch(df, covariates=["x1", "nope"])
    bad = df.copy()
    bad.loc[[3, 7], "programme_start"] = bad.loc[[3, 7], "duration"] + 1
    with pytest.raises(DataValidationError, match=r"programme_start.*e\.g\. rows 3, 7$"):
        DynamicMatch(bad, covariates=["x1"])
    # the rows are named by their labels, as the user's frame has them (a filtered frame's
    # labels are not its positions)
    with pytest.raises(DataValidationError, match=r"programme_start.*e\.g\. rows 103, 107$"):
        DynamicMatch(bad.set_axis(bad.index + 100), covariates=["x1"])
    bad = df.copy()
    bad.loc[5, "x1"] = np.nan
    with pytest.raises(DataValidationError, match="`x1` has missing values"):
        DynamicMatch(bad, covariates=["x1"])
    with pytest.raises(DataValidationError, match="followup"):
        DynamicMatch(df, covariates=["x1"], outcome="durable")
    with pytest.raises(ValueError, match="outcome"):
        DynamicMatch(df, covariates=["x1"], outcome="employment")
    with pytest.raises(EstimationError, match="programme starts"):
        DynamicMatch(df.assign(programme_start=np.nan), covariates=["x1"])


def test_aalen_johansen_without_censoring_is_the_empirical_share():
    rng = np.random.default_rng(1)
    n = 500
    last = rng.integers(0, 30, n)
    cause = rng.integers(1, 3, n)
    at, ev, ex = counts_from_rows(
        np.zeros(n, dtype=np.int64),
        np.zeros(1, dtype=np.int64),
        last,
        cause == 1,
        np.ones(n, bool),
        np.ones(n),
        1,
        24,
    )
    surv, cif = aalen_johansen(at, ev, ex)
    for h in (1, 6, 12, 24):
        assert cif[0, h - 1] == pytest.approx(np.mean((cause == 1) & (last < h)))
        assert surv[0, h - 1] == pytest.approx(np.mean(last >= h))


@pytest.fixture(scope="module")
def small_fit():
    df = simulate_spells(3000, seed=11)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = DynamicMatch(df, covariates=["x1", "x2"], u_values=[2, 4, 8], horizons=(6, 12))
        return df, model.fit(n_boot=30, seed=5, progress=False)


def test_result_api(small_fit):
    _, res = small_fit
    assert isinstance(res, EstimationResult)
    assert list(res.params.index.names) == ["u", "horizon"]
    assert (4, 12) in res.params.index and ("ATT", 12) in res.params.index
    assert res.params["ATT"].index.tolist() == [6, 12]
    assert res.att(4, 12) == res.params[(4, 12)]
    # the average is the starter-weighted mean of ATT(u, h)
    n = res.cohorts.set_index("u")["n_treated_matched"]
    avg = sum(n[u] * res.params[(u, 12)] for u in (2, 4, 8)) / n.sum()
    assert res.params[("ATT", 12)] == pytest.approx(avg)
    ci = res.conf_int()
    assert (ci["lower"] < res.params).all() and (ci["upper"] > res.params).all()
    frame = res.to_frame()
    assert len(frame) == len(res.params)
    assert "Sianesi" in res.summary()
    assert res.estimand_keys()[(4, 12)] == "jobcoaching.att_u12_sianesi.u4"
    cur = res.curves
    assert set(cur["group"]) == {"treated", "control"}
    assert ((cur["survival"] >= 0) & (cur["survival"] <= 1)).all()
    assert res.bootstrap_estimates.shape == (30, len(res.params))


def test_plots(small_fit):
    import matplotlib

    matplotlib.use("Agg")
    _, res = small_fit
    ax = res.plot()
    assert ax.get_xlabel().startswith("elapsed")
    ax = res.plot(lang="nl", horizon=res.horizons[0])
    assert ax.get_xlabel() == "uitkeringsduur bij de start, u (maanden)"
    assert ax.get_legend().get_texts()[0].get_text().startswith(f"h = {res.horizons[0]} maanden")
    ax2 = res.plot_curves(4)
    assert len(ax2.lines) >= 2
    ax3 = res.plot(kind="curves")
    assert ax3 is not None


def test_bootstrap_is_seeded_and_independent_of_workers():
    df = simulate_spells(1500, seed=2)
    model = DynamicIPW(df, covariates=["x1", "x2"], u_values=[2, 5], horizons=(12,))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = model.fit(n_boot=8, seed=42, progress=False)
        # the parallel path (threads here, to keep the test fast; loky processes by default)
        with parallel_config(backend="threading"):
            b = model.fit(n_boot=8, seed=42, n_jobs=2, progress=False)
        c = model.fit(n_boot=8, seed=43, progress=False)
    np.testing.assert_allclose(a.std_errors, b.std_errors, rtol=1e-10)
    assert not np.allclose(a.std_errors, c.std_errors)
    pct = model.fit(n_boot=8, seed=42, ci="percentile", progress=False)
    np.testing.assert_allclose(
        pct.conf_int()["lower"], pct.bootstrap_estimates.quantile(0.025).to_numpy()
    )


def test_cluster_bootstrap_resamples_whole_persons():
    df = simulate_spells(1200, seed=4)
    df["person_id"] = np.arange(len(df)) // 4  # four spells per person
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = SurvivalMatch(df, covariates=["x1", "x2"], u_values=[2, 4], horizons=(12,)).fit(
            n_boot=5, progress=False
        )
    assert "300 clusters" in res.summary()


def test_resampling_defaults_and_half_sampling():
    df = simulate_spells(1500, seed=9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nn = DynamicMatch(df, covariates=["x1", "x2"], u_values=[2, 5], horizons=(12,))
        assert nn.fit(n_boot=6, progress=False).settings["resampling"] == "fixed"
        res = nn.fit(n_boot=6, progress=False, resampling="half")
        assert res.settings["resampling"] == "half"
        assert "Half-sampling" in res.summary()
        # half samples hold half of the persons, without duplicates
        from werkeffect.dynamic.bootstrap import cluster_weights

        w = cluster_weights(np.random.default_rng(0), np.arange(10) // 2, 5, "half")
        assert set(np.unique(w)) <= {0.0, 1.0} and w.sum() == 4
        ipw = DynamicMatch(df, covariates=["x1"], u_values=[2], horizons=(12,), weighting="ipw")
        assert ipw.fit(n_boot=3, progress=False).settings["resampling"] == "bootstrap"
        with pytest.raises(ValueError, match="resampling"):
            ipw.fit(n_boot=3, resampling="jackknife")


def test_history_from_dataset_by_hand():
    """Job in the month before and last ladder step before each elapsed month, by hand."""
    from types import SimpleNamespace

    from werkeffect.dynamic.data import history_from_dataset

    spells = pd.DataFrame(
        {
            "person_id": [1, 2, 3],
            "spell_id": [10, 20, 30],
            "spell_start_date": pd.to_datetime(["2020-01-01", "2020-06-15", "2020-01-01"]),
            "ladder_intake": [2.0, np.nan, 5.0],
        }
    )
    ds = SimpleNamespace(
        extract_date="2021-01-01",
        jobs=pd.DataFrame(
            {
                "person_id": [1, 2],
                # person 1: 2020-03-10 .. 2020-04-05 = elapsed months 2.27 .. 3.15 (end day
                # included), so the month before m overlaps it for m = 3 and 4
                "start_date": pd.to_datetime(["2020-03-10", "2020-01-01"]),
                "end_date": pd.to_datetime(["2020-04-05", None]),  # person 2: still working
            }
        ),
        ladder=pd.DataFrame(
            {
                "person_id": [1, 1, 3],
                "date": pd.to_datetime(["2019-12-15", "2020-02-20", "2020-01-20"]),
                "step": [2, 4, 6],
            }
        ),
    )
    h = history_from_dataset(ds, spells, 6).set_index(["spell_id", "month"])
    emp = h["employed_prev_month"].unstack().to_numpy()
    step = h["ladder_step_before"].unstack().to_numpy()
    np.testing.assert_array_equal(emp[0], [0, 0, 0, 1, 1, 0])
    np.testing.assert_array_equal(emp[1], [1, 1, 1, 1, 1, 1])
    np.testing.assert_array_equal(emp[2], [0, 0, 0, 0, 0, 0])
    # 2019-12-15 (before the spell) holds from m = 0; 2020-02-20 (m 1.64) from m = 2
    np.testing.assert_array_equal(step[0], [2, 2, 4, 4, 4, 4])
    # no assessment and no intake: the median intake of the spells (3.5)
    np.testing.assert_array_equal(step[1], [3.5] * 6)
    # intake 5 until the assessment of 2020-01-20 (m 0.62) holds from m = 1
    np.testing.assert_array_equal(step[2], [5, 6, 6, 6, 6, 6])
