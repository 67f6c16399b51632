"""Timing-of-events with one mass point = piecewise-constant hazard model = Poisson GLM.

Without unobserved heterogeneity the likelihood factorises into one piecewise-exponential
likelihood per process, which equals a Poisson GLM on episodes split at the baseline cuts and
the programme start (log exposure as offset). The episodes are split here by a plain loop,
independently of werkeffect's own exposure code.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from toe_checks import assert_gradient_and_scores
from werkeffect.survival import TimingOfEvents
from werkeffect.survival._toe_data import build_data, build_layout
from werkeffect.survival._toe_lik import Likelihood

CUTS = [0.0, 4.0, 10.0, 20.0]
PCUTS = [0.0, 6.0, 15.0]
ECUTS = [0.0, 6.0]
CALCUTS = [12.0, 24.0]  # calendar periods (months on the calendar scale of column "cal")


def make_data(n=1500, seed=3):
    """Competing exits, programme entry, left truncation, no unobserved heterogeneity."""
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    x2 = rng.binomial(1, 0.4, size=n)
    tp = rng.exponential(1 / (0.05 * np.exp(0.3 * x1)))
    # exits: constant hazards per cause, effect from programme start
    h = np.column_stack([0.03 * np.exp(0.4 * x1 - 0.3 * x2), 0.01 * np.exp(0.2 * x2)])
    eff = np.array([0.4, -0.2])
    htot0 = h.sum(1)
    htot1 = (h * np.exp(eff)).sum(1)
    e = rng.exponential(size=n)
    T = np.where(e < htot0 * tp, e / htot0, tp + (e - htot0 * tp) / htot1)
    treated_at_exit = T > tp
    p_work = np.where(treated_at_exit, h[:, 0] * np.exp(eff[0]) / htot1, h[:, 0] / htot0)
    cause = np.where(rng.random(n) < p_work, 1, 2)
    cens = rng.uniform(12, 40, size=n)
    cause = np.where(T <= cens, cause, 0)
    T = np.minimum(T, cens)
    entry = np.where(rng.random(n) < 0.25, rng.uniform(0, 1, n) * T, 0.0)
    ps = np.where(tp < T, tp, np.nan)
    return pd.DataFrame(
        {
            "person": np.arange(n) // 2,  # two spells per person (no V, so irrelevant)
            "T": T,
            "cause": cause,
            "ps": ps,
            "entry": entry,
            "x1": x1,
            "x2": x2,
            "cal": rng.uniform(0, 30, size=n),  # calendar month at which the spell starts
        }
    )


def split_episodes(df):
    """Split each spell at baseline cuts, programme start and effect cuts (plain loop)."""
    rows = []
    for r in df.itertuples(index=False):
        pts = {r.entry, r.T}
        pts |= {c for c in CUTS if r.entry < c < r.T}
        pts |= {c - r.cal for c in CALCUTS if r.entry < c - r.cal < r.T}
        if not np.isnan(r.ps):
            pts |= {r.ps + c for c in ECUTS if r.entry < r.ps + c < r.T}
            pts |= {c for c in PCUTS if r.entry < c < r.T}
        else:
            pts |= {c for c in PCUTS if r.entry < c < r.T}
        pts = sorted(pts)
        for a, b in zip(pts[:-1], pts[1:], strict=True):
            mid = (a + b) / 2  # classify by the midpoint (robust to rounding at cuts)
            treated = (not np.isnan(r.ps)) and mid > r.ps
            rows.append(
                {
                    "a": a,
                    "b": b,
                    "len": b - a,
                    "j": int(np.searchsorted(CUTS, mid) - 1),
                    "jp": int(np.searchsorted(PCUTS, mid) - 1),
                    "m": int(np.searchsorted(ECUTS, mid - r.ps)) if treated else 0,
                    "period": int(np.searchsorted(CALCUTS, r.cal + mid)),
                    "work": int(b == r.T and r.cause == 1),
                    "edu": int(b == r.T and r.cause == 2),
                    "prog": int((not np.isnan(r.ps)) and b == r.ps),
                    "at_risk_prog": int(np.isnan(r.ps) or b <= r.ps),
                    "x1": r.x1,
                    "x2": r.x2,
                    "person": r.person,
                }
            )
    return pd.DataFrame(rows)


def glm(ep, y, design_cols):
    X = ep[design_cols].astype(float)
    res = sm.GLM(ep[y], X, family=sm.families.Poisson(), offset=np.log(ep["len"])).fit(
        tol=1e-13, maxiter=200
    )
    return res


@pytest.fixture(scope="module")
def fitted():
    df = make_data()
    model = TimingOfEvents(
        df,
        duration="T",
        cause="cause",
        programme_start="ps",
        entry="entry",
        id="person",
        covariates=["x1", "x2"],
        programme_covariates=["x1"],
        baseline_cuts=CUTS,
        programme_cuts=PCUTS,
        effect_cuts=ECUTS,
        calendar="cal",
        calendar_cuts=CALCUTS,
        max_mass_points=1,
    )
    return df, model.fit()


def test_one_mass_point_matches_poisson_glm(fitted):
    df, res = fitted
    ep = split_episodes(df)
    for j in range(len(CUTS)):
        ep[f"b{j}"] = (ep["j"] == j).astype(int)
    for j in range(len(PCUTS)):
        ep[f"p{j}"] = (ep["jp"] == j).astype(int)
    for m in (1, 2):
        ep[f"t{m}"] = (ep["m"] == m).astype(int)
    for c in (1, 2):
        ep[f"c{c}"] = (ep["period"] == c).astype(int)
    bcols = [f"b{j}" for j in range(len(CUTS))]
    for y, lab in (("work", "work"), ("edu", "education")):
        g = glm(ep, y, bcols + ["t1", "t2", "c1", "c2", "x1", "x2"])
        tname = "treatment" if lab == "work" else "treatment:education"
        ours = np.array(
            [res.params[f"exit:{lab}:baseline[{a:g},{b:g})"] for a, b in _ivals(CUTS)]
            + [res.params[tname], res.params[f"{tname}[6,inf)"]]
            + [res.params[f"exit:{lab}:calendar[{c:g}]"] for c in CALCUTS]
            + [res.params[f"exit:{lab}:x1"], res.params[f"exit:{lab}:x2"]]
        )
        np.testing.assert_allclose(ours, g.params.to_numpy(), atol=1e-5, rtol=0)
        # standard errors from the (numerical) Hessian agree with the GLM's
        ours_se = np.array(
            [res.std_errors[f"exit:{lab}:baseline[{a:g},{b:g})"] for a, b in _ivals(CUTS)]
            + [res.std_errors[tname], res.std_errors[f"{tname}[6,inf)"]]
            + [res.std_errors[f"exit:{lab}:calendar[{c:g}]"] for c in CALCUTS]
            + [res.std_errors[f"exit:{lab}:x1"], res.std_errors[f"exit:{lab}:x2"]]
        )
        np.testing.assert_allclose(ours_se, g.bse.to_numpy(), rtol=1e-4)
    pep = ep[ep["at_risk_prog"] == 1]
    g = glm(pep, "prog", [f"p{j}" for j in range(len(PCUTS))] + ["c1", "c2", "x1"])
    ours = np.array(
        [res.params[f"programme:baseline[{a:g},{b:g})"] for a, b in _ivals(PCUTS)]
        + [res.params[f"programme:calendar[{c:g}]"] for c in CALCUTS]
        + [res.params["programme:x1"]]
    )
    np.testing.assert_allclose(ours, g.params.to_numpy(), atol=1e-5, rtol=0)
    assert res.converged
    assert res.n_mass_points == 1


def test_robust_se_matches_glm_cluster(fitted):
    df, res0 = fitted
    model = TimingOfEvents(
        df,
        duration="T",
        cause="cause",
        programme_start="ps",
        entry="entry",
        id="person",
        covariates=["x1", "x2"],
        programme_covariates=["x1"],
        baseline_cuts=CUTS,
        programme_cuts=PCUTS,
        effect_cuts=ECUTS,
        calendar="cal",
        calendar_cuts=CALCUTS,
        max_mass_points=1,
    )
    res = model.fit(cov_type="robust")
    np.testing.assert_allclose(res.params, res0.params, atol=1e-8)
    # statsmodels cluster-robust sandwich on the split episodes, clustered by person
    ep = split_episodes(df)
    for j in range(len(CUTS)):
        ep[f"b{j}"] = (ep["j"] == j).astype(int)
    for m in (1, 2):
        ep[f"t{m}"] = (ep["m"] == m).astype(int)
    for c in (1, 2):
        ep[f"c{c}"] = (ep["period"] == c).astype(int)
    X = ep[[f"b{j}" for j in range(len(CUTS))] + ["t1", "t2", "c1", "c2", "x1", "x2"]]
    X = X.astype(float)
    g = sm.GLM(ep["work"], X, family=sm.families.Poisson(), offset=np.log(ep["len"])).fit(
        tol=1e-13, cov_type="cluster", cov_kwds={"groups": ep["person"], "use_correction": False}
    )
    np.testing.assert_allclose(res.std_errors["treatment"], g.bse["t1"], rtol=1e-4)
    np.testing.assert_allclose(res.std_errors["exit:work:x1"], g.bse["x1"], rtol=1e-4)


def _ivals(cuts):
    hi = list(cuts[1:]) + [np.inf]
    return list(zip(cuts, hi, strict=True))


def test_analytic_gradient_and_scores_with_three_mass_points():
    df = make_data(n=400, seed=5)
    ps = df["ps"].to_numpy()
    data = build_data(
        person=df["person"].to_numpy(),
        T=df["T"].to_numpy(),
        entry=df["entry"].to_numpy(),
        cause=df["cause"].to_numpy(),
        ps=ps,
        X=df[["x1", "x2"]].to_numpy(),
        Xp=df[["x1"]].to_numpy(),
        K=2,
        cuts=np.array(CUTS),
        pcuts=np.array(PCUTS),
        ecuts=np.array(ECUTS),
        calpos=np.array(CALCUTS)[None, :] - df[["cal"]].to_numpy(),
        calendar_labels=[f"{c:g}" for c in CALCUTS],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lay = build_layout(
            data,
            exit_labels=["work", "education"],
            exit_cov_names=["x1", "x2"],
            prog_cov_names=["x1"],
            interest=0,
        ).with_mass_points(3)
    lik = Likelihood(data)
    rng = np.random.default_rng(0)
    theta = rng.normal(scale=0.3, size=lay.n_params) - np.where(
        np.arange(lay.n_params) < lay.n_struct, 2.0, 0.0
    ) * (rng.random(lay.n_params) < 0.3)
    assert_gradient_and_scores(lik, lay, theta)
    assert len(data.trunc) > 50 and data.n_persons < data.n_spells


def test_exit_probabilities_match_numerical_integration(fitted):
    """P(exit to work within h months of programme start), with and without the programme,
    from the fitted hazards by brute-force numerical integration (one mass point)."""
    from werkeffect.survival._toe_fit import exit_probabilities

    df, res = fitted
    st = res._state
    h = np.array([6.0, 12.0])
    p1, p0, rows = exit_probabilities(st.theta, st.lay, st.lik.data, h, st.interest)
    prm = res.params
    spells = df[df["ps"].notna() & (df["ps"] < df["T"])].reset_index(drop=True)
    assert len(spells) == len(rows)

    def hazard(lab, tname, t, s, treated):
        j = np.searchsorted(CUTS, t, side="right") - 1
        base = np.array([prm[f"exit:{lab}:baseline[{a:g},{b:g})"] for a, b in _ivals(CUTS)])
        c = np.searchsorted(CALCUTS, s["cal"] + t, side="right")
        cal = np.array([0.0] + [prm[f"exit:{lab}:calendar[{x:g}]"] for x in CALCUTS])
        eff = np.where(t - s["ps"] < 6, prm[tname], prm[f"{tname}[6,inf)"]) if treated else 0.0
        lp = (
            base[j]
            + cal[c]
            + eff
            + prm[f"exit:{lab}:x1"] * s["x1"]
            + prm[f"exit:{lab}:x2"] * s["x2"]
        )
        return np.exp(lp)

    dt = 0.0005
    for i in np.linspace(0, len(spells) - 1, 7).astype(int):
        s = spells.loc[i]
        t = s["ps"] + np.arange(0, 12, dt) + dt / 2
        for treated, p in ((True, p1), (False, p0)):
            hw = hazard("work", "treatment", t, s, treated)
            he = hazard("education", "treatment:education", t, s, treated)
            surv = np.exp(-np.cumsum((hw + he) * dt) + (hw + he) * dt / 2)
            cif = np.cumsum(hw * surv * dt)
            expected = [cif[int(6 / dt) - 1], cif[-1]]
            np.testing.assert_allclose(p[i], expected, rtol=2e-4)


@pytest.mark.parametrize("stock_group", [False, True])
def test_left_truncation_is_a_ratio_of_integrals(stock_group):
    """A stock person's likelihood is  sum_m p_m L_m(all) / sum_m p_m S_m(entry)  (the stock
    is selected from the distribution at spell start), written out by hand for two persons:
    A enters at month 2 of a spell that ends in an exit at 5 (no programme); B is observed
    from the spell start, starts the programme at 1 and exits at 4."""
    data = build_data(
        person=np.array([0, 1]),
        T=np.array([5.0, 4.0]),
        entry=np.array([2.0, 0.0]),
        cause=np.array([1, 1]),
        ps=np.array([np.nan, 1.0]),
        X=np.zeros((2, 0)),
        Xp=np.zeros((2, 0)),
        K=1,
        cuts=np.array([0.0]),
        pcuts=np.array([0.0]),
        ecuts=np.array([0.0]),
        stock_group=stock_group,
    )
    lay = build_layout(
        data, exit_labels=["exit"], exit_cov_names=[], prog_cov_names=[], interest=0
    ).with_mass_points(2)
    assert lay.names[:3] == ["exit:exit:baseline[0,inf)", "treatment", "programme:baseline[0,inf)"]
    a, delta, b, v1, v2, w = -2.0, 0.4, -1.5, 0.8, -0.6, 0.3
    w_stock = -0.9
    theta = np.array([a, delta, b, v1, v2, w] + ([w_stock] if stock_group else []))
    assert len(theta) == lay.n_params
    h = np.exp(a) * np.exp([0.0, v1])  # exit hazard per mass point
    hp = np.exp(b) * np.exp([0.0, v2])  # programme hazard per mass point
    p = np.exp([0.0, w]) / np.exp([0.0, w]).sum()
    ps_ = np.exp([0.0, w_stock]) / np.exp([0.0, w_stock]).sum() if stock_group else p
    # A: exit at 5, no programme up to 5; conditioned on survival and no programme up to 2
    num_a = ps_ * h * np.exp(-h * 5 - hp * 5)
    den_a = ps_ * np.exp(-h * 2 - hp * 2)
    # B: programme at 1, exit at 4 with the effect
    num_b = (
        p
        * np.exp(-h * 1)
        * hp
        * np.exp(-hp * 1)
        * h
        * np.exp(delta)
        * np.exp(-h * np.exp(delta) * 3)
    )
    expected = np.log(num_a.sum()) - np.log(den_a.sum()) + np.log(num_b.sum())
    lik = Likelihood(data)
    np.testing.assert_allclose(lik.loglik(theta, lay, grad=False), expected, rtol=1e-12)
    # not the integral of the ratios
    wrong = np.log((ps_ * h * np.exp(-h * 3 - hp * 3)).sum()) + np.log(num_b.sum())
    assert abs(wrong - expected) > 1e-3
