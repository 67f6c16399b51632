"""Peer checks: statsmodels (start model, IPW by hand), scikit-learn (matching), lifelines (KM)."""

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy.special import expit

from dynamic_dgp import simulate_spells
from werkeffect.dynamic import DynamicIPW, DynamicMatch
from werkeffect.dynamic.hazard import HazardCells, fit_treatment_hazard
from werkeffect.dynamic.matching import nn_match_within
from werkeffect.dynamic.risk_sets import prepare_spells

COLS = dict(id="person_id", duration="duration", cause="cause", treatment_start="programme_start")


@pytest.fixture(scope="module")
def spells():
    return simulate_spells(4000, seed=21)


def _arrays(df):
    return prepare_spells(df, covariates=["x1", "x2"], **COLS)


def _statsmodels_start_model(arr, hz, n_months):
    cells = HazardCells.build(arr, n_months)
    dummies = pd.get_dummies(hz.bins[cells.month]).to_numpy(float)
    Z = np.column_stack([dummies, arr.X[cells.spell]])
    return cells, sm.Logit(cells.y.astype(float), Z).fit(disp=0, tol=1e-12)


def test_start_model_equals_statsmodels_logit(spells):
    arr = _arrays(spells)
    hz = fit_treatment_hazard(arr, 40)
    _, ref = _statsmodels_start_model(arr, hz, 40)
    nb = len(hz.alpha)
    np.testing.assert_allclose(hz.alpha, ref.params[:nb], atol=1e-7)
    np.testing.assert_allclose(hz.beta, ref.params[nb:], atol=1e-7)
    assert hz.loglik == pytest.approx(ref.llf, rel=1e-10)
    # frequency weights = duplicated spells
    w = np.random.default_rng(0).integers(0, 3, arr.n).astype(float)
    hz_w = fit_treatment_hazard(arr, 40, w, bins=hz.bins)
    cells = HazardCells.build(arr, 40)
    dummies = pd.get_dummies(hz.bins[cells.month]).to_numpy(float)
    Z = np.column_stack([dummies, arr.X[cells.spell]])
    ref_w = sm.GLM(
        cells.y.astype(float), Z, family=sm.families.Binomial(), freq_weights=w[cells.spell]
    ).fit(tol=1e-12)
    np.testing.assert_allclose(hz_w.beta, ref_w.params[nb:], atol=1e-6)


def test_within_u_matching_equals_sklearn_nearest_neighbors(spells):
    from sklearn.neighbors import NearestNeighbors

    rng = np.random.default_rng(3)
    t_u = rng.integers(0, 4, 300)
    t_s = rng.normal(size=300)
    c_u = rng.integers(0, 4, 5000)
    c_s = rng.normal(size=5000)
    matches, dist = nn_match_within(t_u, t_s, c_u, c_s, n_neighbors=5)
    for u in range(4):
        tc, cc = np.flatnonzero(t_u == u), np.flatnonzero(c_u == u)
        nn = NearestNeighbors(n_neighbors=5).fit(c_s[cc][:, None])
        d_ref, i_ref = nn.kneighbors(t_s[tc][:, None])
        np.testing.assert_allclose(np.sort(dist[tc], axis=1), d_ref, atol=1e-12)
        assert np.array_equal(np.sort(matches[tc], axis=1), np.sort(cc[i_ref], axis=1))
    # a caliper drops far controls
    m_cal, d_cal = nn_match_within(t_u, t_s, c_u, c_s, n_neighbors=5, caliper=0.001)
    assert (m_cal == -1).any() and np.all(d_cal[m_cal >= 0] <= 0.001)


def _manual_sianesi_att(df, res_hz_beta, arr, u, h, k):
    """ATT(u, h) by scikit-learn matching on x'beta and plain means (no censoring)."""
    from sklearn.neighbors import NearestNeighbors

    index = arr.X @ res_hz_beta
    d, ps = df["duration"].to_numpy(), df["programme_start"].to_numpy()
    y = ((df["cause"] == 1) & (d <= u + h)).to_numpy(float)
    treated = np.floor(ps) == u
    control = (d > u) & ~(ps < u + 1)
    nn = NearestNeighbors(n_neighbors=k).fit(index[control][:, None])
    _, idx = nn.kneighbors(index[treated][:, None])
    return y[treated].mean() - y[control][idx].mean(), index, treated, control, y


def test_sianesi_equals_sklearn_matching_by_hand():
    df = simulate_spells(4000, seed=5, censor=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = DynamicMatch(
            df, covariates=["x1", "x2"], u_values=[2, 5], horizons=(12,), caliper=None
        )
        res = model.fit(n_boot=0)
    arr = model.arrays_
    beta = res.start_model.to_numpy()
    for u in (2, 5):
        att, *_ = _manual_sianesi_att(df, beta, arr, u, 12, 5)
        assert res.params[(u, 12)] == pytest.approx(att, abs=1e-12)


def test_sianesi_step_equals_werkeffect_matching_if_available():
    matching = pytest.importorskip("werkeffect.matching")
    df = simulate_spells(3000, seed=6, censor=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = DynamicMatch(
            df, covariates=["x1", "x2"], u_values=[3], horizons=(12,), caliper=None
        )
        res = model.fit(n_boot=0)
    att, index, treated, control, y = _manual_sianesi_att(
        df, res.start_model.to_numpy(), model.arrays_, 3, 12, 5
    )
    frame = pd.DataFrame({"score": index, "y": y, "treated": treated.astype(int)})[
        treated | control
    ]
    try:
        nnm = matching.NearestNeighborMatch(
            frame,
            treatment="treated",
            covariates=["score"],
            ratio=5,
            replace=True,
            distance="mahalanobis",
        ).fit()
        peer = float(nnm.att("y").params["ATT"])
    except (TypeError, AttributeError) as exc:  # pragma: no cover - contract not landed yet
        pytest.skip(f"werkeffect.matching API differs: {exc}")
    assert res.params[(3, 12)] == pytest.approx(peer, abs=1e-10)
    assert peer == pytest.approx(att, abs=1e-10)


def test_vdb_vikstrom_equals_manual_person_month_ipw(spells):
    """The matrix-product estimator against an explicit person-month computation."""
    df = spells
    u_values, H = [2, 6], 12
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = DynamicIPW(df, covariates=["x1", "x2"], u_values=u_values, horizons=(H,))
        res = model.fit(n_boot=0)
    arr = model.arrays_
    n_months = model.spec_.n_months
    hz = fit_treatment_hazard(arr, n_months)
    _, logit = _statsmodels_start_model(arr, hz, n_months)
    nb = len(hz.alpha)
    alpha, beta = logit.params[:nb], logit.params[nb:]
    d = df["duration"].to_numpy()
    exit_m = np.ceil(d).astype(int) - 1
    cause = df["cause"].to_numpy()
    tm = np.floor(df["programme_start"].fillna(1e6).to_numpy()).astype(int)
    xb = arr.X @ beta
    for u in u_values:
        # treated: plain life table
        t = tm == u
        # controls at u, expanded to person-months m = u .. u+H-1 while untreated on benefit
        c = np.flatnonzero((exit_m >= u) & (tm > u))
        rows = []
        for m in range(u, u + H):  # loop over months; people are vectorised
            at = c[(exit_m[c] >= m) & (tm[c] > m)]
            surv = np.ones(len(at))
            for k in range(u + 1, m + 1):
                surv *= 1 - expit(alpha[hz.bins[k]] + xb[at])
            odds = np.exp(alpha[hz.bins[u]] + xb[at])
            rows.append(
                pd.DataFrame(
                    {
                        "m": m,
                        "w": odds / surv,
                        "work": (exit_m[at] == m) & (cause[at] == 1),
                        "exit": (exit_m[at] == m) & (cause[at] > 0),
                    }
                )
            )
        pm = pd.concat(rows)
        g = pm.assign(ww=pm.w * pm.work, we=pm.w * pm.exit).groupby("m")[["w", "ww", "we"]].sum()
        lam_w, lam = g.ww / g.w, g.we / g.w
        s_prev = np.r_[1.0, np.cumprod(1 - lam.to_numpy())[:-1]]
        cif_c = float(np.sum(s_prev * lam_w.to_numpy()))
        # treated arm: life table by hand
        tt = np.flatnonzero(t)
        at_t = np.array([(exit_m[tt] >= m).sum() for m in range(u, u + H)])
        w_t = np.array([((exit_m[tt] == m) & (cause[tt] == 1)).sum() for m in range(u, u + H)])
        e_t = np.array([((exit_m[tt] == m) & (cause[tt] > 0)).sum() for m in range(u, u + H)])
        s_t = np.r_[1.0, np.cumprod(1 - e_t / at_t)[:-1]]
        cif_t = float(np.sum(s_t * w_t / at_t))
        assert res.params[(u, H)] == pytest.approx(cif_t - cif_c, abs=1e-9)


def test_treated_curve_equals_lifelines_kaplan_meier(spells):
    from lifelines import KaplanMeierFitter

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = DynamicMatch(spells, covariates=["x1", "x2"], u_values=[4], horizons=(12,)).fit(
            n_boot=0
        )
    sub = spells[np.floor(spells["programme_start"]) == 4]
    months_after = np.ceil(sub["duration"]) - 4  # months 1.. after u at exit or censoring
    km = KaplanMeierFitter().fit(months_after, event_observed=sub["cause"] > 0)
    ours = res.curves.query("u == 4 and group == 'treated'").set_index("month")["survival"]
    for h in (1, 3, 6, 12):
        assert ours[h] == pytest.approx(float(km.survival_function_at_times(h).iloc[0]))
