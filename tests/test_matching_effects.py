"""Effects after matching and weighting: hand computations, peers, known truths."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from werkeffect.exceptions import EstimationError, EstimationWarning
from werkeffect.matching import (
    AIPW,
    CEM,
    IPW,
    EntropyBalance,
    NearestNeighborMatch,
    balance,
    crump_alpha,
)

sys.path.insert(0, str(Path(__file__).parent))
from _matching_dgp import confounded

COV = ["x1", "x2", "x3"]


# -- Abadie-Imbens variance by hand ------------------------------------------------------
def test_ai_variance_by_hand():
    """Tiny data, known score, 1:1 with replacement: the AI (2006) variance computed with
    explicit loops (independently of the vectorised implementation)."""
    ps = np.array([0.30, 0.50, 0.52, 0.70, 0.29, 0.31, 0.49, 0.65, 0.20, 0.90])
    d = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    y = np.array([5.0, 6.0, 7.5, 9.0, 3.0, 4.0, 5.5, 6.0, 2.0, 8.0])
    df = pd.DataFrame({"d": d, "y": y, "x": np.arange(10.0)})
    res = NearestNeighborMatch(df, "d", ["x"], replace=True, ps=ps).fit()
    out = res.att("y")
    lp = np.log(ps / (1 - ps))
    t_idx = [i for i in range(10) if d[i] == 1]
    c_idx = [i for i in range(10) if d[i] == 0]
    match = {}
    for t in t_idx:
        match[t] = min(c_idx, key=lambda c: (abs(lp[t] - lp[c]), c))
    effects = [y[t] - y[match[t]] for t in t_idx]
    tau = sum(effects) / 4
    K = {c: sum(1 for t in t_idx if match[t] == c) for c in c_idx}
    # sigma^2 of a control: nearest other control on the score, J = 1: (1/2)(y_i - y_j)^2
    sig2 = {}
    for c in c_idx:
        j = min((o for o in c_idx if o != c), key=lambda o: (abs(lp[c] - lp[o]), o))
        sig2[c] = 0.5 * (y[c] - y[j]) ** 2
    var = (
        sum((e - tau) ** 2 for e in effects) + sum((K[c] ** 2 - K[c]) * sig2[c] for c in c_idx)
    ) / 4**2
    assert out.params["ATT"] == pytest.approx(tau)
    assert out.std_errors["ATT"] == pytest.approx(np.sqrt(var))
    assert any(k > 1 for k in K.values())  # the control term is exercised


def test_pairs_without_replacement_variance_is_paired_variance():
    df, _ = confounded(400, seed=21)
    res = NearestNeighborMatch(df, "d", COV).fit()
    out = res.att("y")
    u = out.unit_effects.to_numpy()
    assert out.std_errors["ATT"] == pytest.approx(np.sqrt(np.sum((u - u.mean()) ** 2)) / len(u))


# -- peer: causalinference (same matching definition: covariate matching with
# replacement, one covariate so its inverse-variance metric equals ours) ------------------
@pytest.mark.parametrize("bias_adj", [False, True])
@pytest.mark.parametrize("m", [1, 2])
def test_att_equals_causalinference(bias_adj, m):
    from causalinference import CausalModel

    df, _ = confounded(600, seed=22)
    cm = CausalModel(df["y"].to_numpy(), df["d"].to_numpy(), df[["x1"]].to_numpy())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cm.est_via_matching(matches=m, bias_adj=bias_adj)
    peer = cm.estimates["matching"]["att"]
    res = NearestNeighborMatch(df, "d", ["x1"], distance="mahalanobis", replace=True, ratio=m)
    ours = res.fit().att("y", bias_adjust=bias_adj).params["ATT"]
    assert ours == pytest.approx(peer, abs=1e-10)
    # causalinference's standard error is a different (homoskedastic, conservative) formula,
    # so only the point estimate and the matches are compared.


# -- AI standard errors against R Matching (fixed data) ---------------------------------
# The data are confounded(400, seed=31) written with
#   df.to_csv("ai.csv", index=False, float_format="%.17g")
# and the numbers printed (sprintf("%.15g %.15g\n", m$est, m$se)) by R 4.2.2 / Matching
# 4.10-8 (Debian r-cran-matching):
#   df <- read.csv("ai.csv")
#   Match(Y = df$y, Tr = df$d, X = df$x1, estimand = "ATT", M = 1, Var.calc = 1,
#         distance.tolerance = 0)                       # 1.08182795871746 0.2248839100486
#   Match(Y = df$y, Tr = df$d, X = df$x1, estimand = "ATT", M = 2, Var.calc = 1,
#         distance.tolerance = 0)                       # 1.17348006222254 0.193525261394085
#   Match(Y = df$y, Tr = df$d, X = cbind(df$x1, df$x3), estimand = "ATT", M = 1,
#         Var.calc = 1, Weight = 2)                     # 1.22871745545748 0.188378998250263
# Var.calc = 1 is the heteroskedastic conditional variance from one same-group match
# (our variance_matches=1); Weight = 2 is the Mahalanobis metric (with one covariate every
# metric gives the same matches). Matching's $se is the Abadie-Imbens (2006) standard error
# of the population ATT, the same definition as ours. Its default distance.tolerance = 1e-5
# counts controls whose distances differ by less than that as tied and uses all of them
# (with one covariate and M = 1 this gives 1.07400858706670 / 0.231164658318711 on these
# data, a near-tie); with distance.tolerance = 0 the matches are ours.
R_MATCHING_AI = [
    (["x1"], 1, 1.08182795871746, 0.2248839100486),
    (["x1"], 2, 1.17348006222254, 0.193525261394085),
    (["x1", "x3"], 1, 1.22871745545748, 0.188378998250263),
]


@pytest.mark.needs_r
@pytest.mark.parametrize("cov,m,att,se", R_MATCHING_AI, ids=["x1_m1", "x1_m2", "x1x3_m1"])
def test_ai_se_equals_r_matching(cov, m, att, se):
    """The Abadie-Imbens ATT and standard error equal R Matching's on fixed data; the
    control-reuse term (K_M^2 - K'_M) sigma^2 is 16-25% of the variance here, so dropping
    it (or any other change of the formula) fails."""
    df, _ = confounded(400, seed=31)
    res = NearestNeighborMatch(df, "d", cov, distance="mahalanobis", replace=True, ratio=m)
    out = res.fit().att("y")
    assert out.params["ATT"] == pytest.approx(att, rel=1e-12)
    assert out.std_errors["ATT"] == pytest.approx(se, rel=1e-12)
    comp = out.extra["variance_components"]
    assert comp["control_term"] > 0.15 * comp["variance"]


# -- AI standard errors against the sampling spread (known DGP) ----------------------------
@pytest.mark.slow
def test_ai_se_tracks_sampling_sd():
    """Mean AI standard error over R = 600 samples against the sampling SD of the ATT.

    The Monte Carlo s.e. of the ratio mean(SE)/sd(ATT) is dominated by that of sd(ATT):
    sd/sqrt(2(R-1)) for a normal estimate, 1/sqrt(1198) = 0.0289 relative (the delta method
    on these runs, with the estimates' own kurtosis and the spread of the SEs, gives
    0.0293). The band is 1 +- 3 x 0.0289 = [0.913, 1.087]; the ratio is 1.021. Forcing the
    control-reuse term to zero (K'_M := K_M^2) gives 0.79, 7 s.e. below 1, and fails; the
    old band 0.75-1.3 with 80 samples (+-3 s.e. was +-0.24 there) let it pass. About 30 s.
    """
    R = 600
    est, se = [], []
    for s in range(R):
        df, truth = confounded(800, seed=500 + s)
        r = NearestNeighborMatch(df, "d", COV, replace=True).fit().att("y")
        est.append(r.params["ATT"])
        se.append(r.std_errors["ATT"])
    est, se = np.array(est), np.array(se)
    ratio = se.mean() / est.std(ddof=1)
    mc_se = 1 / np.sqrt(2 * (R - 1))
    assert abs(ratio - 1) < 3 * mc_se, ratio
    # the estimator is centred on the population ATT: bias within 3 Monte Carlo s.e.
    assert abs(est.mean() - truth) < 3 * est.std(ddof=1) / np.sqrt(R)


# -- IPW and AIPW against a manual statsmodels computation ---------------------------------
@pytest.fixture(scope="module")
def data():
    return confounded(3000, seed=23)


def _manual_ps(df):
    X = sm.add_constant(df[COV].to_numpy())
    return sm.Logit(df["d"].to_numpy(), X).fit(disp=0).predict(X)


@pytest.mark.parametrize("estimand", ["ATT", "ATE"])
def test_ipw_equals_manual(data, estimand):
    df, _ = data
    p = _manual_ps(df)
    d, y = df["d"].to_numpy(), df["y"].to_numpy()
    w = (
        np.where(d == 1, 1 / p, 1 / (1 - p))
        if estimand == "ATE"
        else np.where(d == 1, 1, p / (1 - p))
    )
    hajek = np.average(y[d == 1], weights=w[d == 1]) - np.average(y[d == 0], weights=w[d == 0])
    fit = sm.WLS(y, sm.add_constant(d.astype(float)), weights=w).fit(cov_type="HC1")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = IPW(df, "d", COV, estimand=estimand).fit("y")
    assert res.params[estimand] == pytest.approx(hajek, abs=1e-7)
    assert res.params[estimand] == pytest.approx(fit.params[1], abs=1e-7)
    assert res.std_errors[estimand] == pytest.approx(fit.bse[1], rel=1e-6)


def test_aipw_ate_equals_manual(data):
    df, _ = data
    p = _manual_ps(df)
    d, y = df["d"].to_numpy(), df["y"].to_numpy()
    X = sm.add_constant(df[COV].to_numpy())
    mu1 = sm.OLS(y[d == 1], X[d == 1]).fit().predict(X)
    mu0 = sm.OLS(y[d == 0], X[d == 0]).fit().predict(X)
    psi = mu1 - mu0 + d * (y - mu1) / p - (1 - d) * (y - mu0) / (1 - p)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = AIPW(df, "d", COV, estimand="ATE").fit("y")
    assert res.params["ATE"] == pytest.approx(psi.mean(), abs=1e-8)
    assert res.std_errors["ATE"] == pytest.approx(psi.std() / np.sqrt(len(y)), rel=1e-6)


def test_aipw_att_equals_manual(data):
    df, _ = data
    p = _manual_ps(df)
    d, y = df["d"].to_numpy(), df["y"].to_numpy()
    X = sm.add_constant(df[COV].to_numpy())
    mu0 = sm.OLS(y[d == 0], X[d == 0]).fit().predict(X)
    w = p / (1 - p) * (d == 0)
    r = y - mu0
    att = r[d == 1].mean() - np.sum(w * r) / np.sum(w)
    res = AIPW(df, "d", COV).fit("y")
    assert res.params["ATT"] == pytest.approx(att, abs=1e-8)
    # influence function of the two normalised means (nuisance models taken as known)
    n, n1 = len(y), d.sum()
    psi = n / n1 * d * (r - r[d == 1].mean()) - n / w.sum() * w * (r - np.sum(w * r) / w.sum())
    assert res.std_errors["ATT"] == pytest.approx(np.sqrt(np.sum(psi**2)) / n, rel=1e-8)


def test_aipw_att_cluster_robust_by_hand(data):
    """With ``cluster`` the influence function is summed within clusters (CR1 factor);
    one row per cluster gives the unclustered variance times n/(n-1)."""
    df, _ = data
    df = df.assign(g=np.arange(len(df)) // 3, one=np.arange(len(df)))
    p = _manual_ps(df)
    d, y = df["d"].to_numpy(), df["y"].to_numpy()
    X = sm.add_constant(df[COV].to_numpy())
    mu0 = sm.OLS(y[d == 0], X[d == 0]).fit().predict(X)
    w = p / (1 - p) * (d == 0)
    r = y - mu0
    n, n1 = len(y), d.sum()
    psi = n / n1 * d * (r - r[d == 1].mean()) - n / w.sum() * w * (r - np.sum(w * r) / w.sum())
    G = df["g"].nunique()
    by_g = pd.Series(psi).groupby(df["g"].to_numpy()).sum().to_numpy()
    se_g = np.sqrt(G / (G - 1) * np.sum(by_g**2)) / n
    res = AIPW(df, "d", COV, cluster="g").fit("y")
    assert res.std_errors["ATT"] == pytest.approx(se_g, rel=1e-8)
    assert any("clustered by 'g'" in note for note in res.notes)
    one = AIPW(df, "d", COV, cluster="one").fit("y")
    plain = AIPW(df, "d", COV).fit("y")
    assert one.std_errors["ATT"] == pytest.approx(plain.std_errors["ATT"] * np.sqrt(n / (n - 1)))


def test_aipw_att_equals_drdid(data):
    """Peer: drdid's doubly robust ATT (Sant'Anna & Zhao 2020, the R DRDID ``drdid_panel``
    port) with y0 = 0 is our ATT: logit score on [1, X], OLS outcome model on the controls,
    normalised treated and odds weights. drdid trims controls with score > 0.995 (none
    here). Its influence function also carries the estimation of the score and the outcome
    model, which ours treats as known (see the AIPW docstring), so the standard errors
    differ (0.05320 there, 0.05332 here on these data) and only the estimate is compared;
    ours is checked against the known-nuisance formula in test_aipw_att_equals_manual."""
    from drdid.drdid import drdid_panel

    df, _ = data
    d, y = df["d"].to_numpy(), df["y"].to_numpy()
    X = sm.add_constant(df[COV].to_numpy())
    assert _manual_ps(df)[d == 0].max() < 0.995  # no trimming in drdid
    att, _ = drdid_panel(y, np.zeros_like(y), d, covariates=X)
    res = AIPW(df, "d", COV).fit("y")
    assert res.params["ATT"] == pytest.approx(att, abs=1e-10)


def test_aipw_warns_when_a_few_controls_carry_the_weights():
    rng = np.random.default_rng(5)
    n = 400
    x = rng.normal(size=n)
    d = (x + rng.normal(scale=0.3, size=n) > 1.2).astype(int)
    df = pd.DataFrame({"d": d, "x": x, "y": x + d + rng.normal(size=n)})
    with pytest.warns(EstimationWarning, match="effective number of controls"):
        AIPW(df, "d", ["x"]).fit("y")
    df2, _ = confounded(3000, seed=23)
    with warnings.catch_warnings():
        warnings.simplefilter("error", EstimationWarning)
        AIPW(df2, "d", COV).fit("y")  # good overlap: no warning


def test_aipw_is_doubly_robust_with_wrong_propensity():
    """A misspecified propensity model (x1 left out) with a correct outcome model still
    recovers the truth (homogeneous effect, linear outcome)."""
    df, truth = confounded(20000, seed=24, heterogeneous=False)
    p_wrong = 1 / (1 + np.exp(-(-1.2 - 0.5 * df["x2"])))  # ignores x1, x3
    res = AIPW(df, "d", COV, estimand="ATE", ps=p_wrong.to_numpy()).fit("y")
    assert abs(res.params["ATE"] - truth) < 4 * res.std_errors["ATE"]


def test_crump_alpha_is_the_fixed_point():
    rng = np.random.default_rng(3)
    p = rng.beta(0.6, 0.6, 5000).clip(1e-4, 1 - 1e-4)
    a = crump_alpha(p)
    assert 0.02 < a < 0.2
    g = 1 / (p * (1 - p))
    gamma = 1 / (a * (1 - a))
    assert gamma == pytest.approx(2 * g[g <= gamma].mean(), rel=1e-2)


# -- entropy balancing and CEM -----------------------------------------------------------
def test_entropy_balance_exact_mean_balance(data):
    df, _ = data
    eb = EntropyBalance(df, "d", COV)
    res = eb.fit("y")
    tab = res.balance()
    assert np.abs(tab["smd"]).max() < 1e-8
    w = res.weights.to_numpy()
    c = df["d"].to_numpy() == 0
    # dual form: log weights are linear in the covariates
    X = sm.add_constant(df.loc[c, COV].to_numpy())
    fit = sm.OLS(np.log(w[c]), X).fit()
    assert fit.rsquared > 1 - 1e-10


def test_entropy_balance_att_equals_primal_solution():
    """Independent solution of Hainmueller's primal problem with scipy's SLSQP: control
    weights w >= 0 minimising sum w log(w n0) (entropy relative to uniform) subject to
    sum w = 1 and sum w x = treated means. No exponential form is assumed (EntropyBalance
    solves the dual by trust-region Newton). SLSQP stops at a relative objective change of
    1e-15, which leaves the weights accurate to about 1e-8 of the largest (2.5e-8 seen);
    the test allows 1e-6. The ATT and its HC1 standard error then equal statsmodels WLS of
    y on [1, d] with these weights. About 1 s (117 controls)."""
    from scipy import optimize

    df, _ = confounded(150, seed=41)
    X, d, y = df[COV].to_numpy(), df["d"].to_numpy(), df["y"].to_numpy()
    Xc, target = X[d == 0], X[d == 1].mean(axis=0)
    n0 = len(Xc)
    A, b = np.vstack([np.ones(n0), Xc.T]), np.r_[1.0, target]
    sol = optimize.minimize(
        lambda w: np.sum(w * np.log(w * n0)),
        np.full(n0, 1 / n0),
        jac=lambda w: np.log(w * n0) + 1,
        constraints=[{"type": "eq", "fun": lambda w: A @ w - b, "jac": lambda w: A}],
        bounds=[(1e-12, 1)] * n0,
        method="SLSQP",
        options={"ftol": 1e-15, "maxiter": 1000},
    )
    assert sol.success
    res = EntropyBalance(df, "d", COV).fit("y")
    w = res.weights.to_numpy()
    np.testing.assert_array_equal(w[d == 1], 1.0)
    np.testing.assert_allclose(w[d == 0] / w[d == 0].sum(), sol.x, rtol=0, atol=1e-6 * sol.x.max())
    wp = np.where(d == 1, 1.0, 0.0)
    wp[d == 0] = sol.x * n0
    fit = sm.WLS(y, sm.add_constant(d.astype(float)), weights=wp).fit(cov_type="HC1")
    assert res.params["ATT"] == pytest.approx(fit.params[1], abs=1e-6)
    assert res.std_errors["ATT"] == pytest.approx(fit.bse[1], rel=1e-5)


def test_entropy_balance_ate_equals_dual_roots(data):
    """ATE weights: in each group the exponential tilting exp(l'(x - m)) whose weighted mean
    is the full-sample mean m, with l found by scipy's root finder (MINPACK hybrid Powell)
    on the balance equations themselves rather than by minimising the dual."""
    from scipy import optimize

    df, _ = data
    X, d = df[COV].to_numpy(), df["d"].to_numpy()
    m = X.mean(axis=0)
    w = EntropyBalance(df, "d", COV, estimand="ATE").weights().to_numpy()
    for g in (0, 1):
        Z = X[d == g] - m

        def tilt(lam, Z=Z):
            a = Z @ lam
            e = np.exp(a - a.max())
            return e / e.sum()

        sol = optimize.root(lambda lam, Z=Z: Z.T @ tilt(lam), np.zeros(Z.shape[1]), tol=1e-13)
        assert np.abs(Z.T @ tilt(sol.x)).max() < 1e-10
        np.testing.assert_allclose(w[d == g], tilt(sol.x) * (d == g).sum(), rtol=1e-6)


def test_entropy_balance_no_overlap_error():
    df, _ = confounded(300, seed=25)
    df.loc[df["d"] == 1, "x1"] += 20  # treated mean outside the controls' range
    with pytest.raises(EstimationError, match="no weights that balance"):
        EntropyBalance(df, "d", COV).weights()


def test_cem_weights_equal_matchit():
    """MatchIt 4.5.1:
    matchit(treat ~ age + educ + race + married + re74, data = lalonde, method = "cem",
            cutpoints = list(age = c(20, 25, 30, 35), educ = c(9, 12), re74 = c(1, 5000)))
    gave 148 matched controls and 118 matched treated (summary(m)$nn); the weights are
    compared through a summary printed by R (sum, sum of squares, first five controls)."""
    df = pd.read_csv(Path(__file__).parent / "fixtures" / "lalonde.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w, _, _ = CEM(
            df,
            "treat",
            ["age", "educ", "race", "married", "re74"],
            cutpoints={"age": [20, 25, 30, 35], "educ": [9, 12], "re74": [1, 5000]},
        ).weights()
    w = w.to_numpy()
    t = df["treat"].to_numpy() == 1
    assert int(((w > 0) & ~t).sum()) == 148
    assert int(((w > 0) & t).sum()) == 118
    np.testing.assert_allclose(w[~t].sum(), R_CEM["sum_control"], atol=1e-9)
    np.testing.assert_allclose(np.sum(w[~t] ** 2), R_CEM["sumsq_control"], atol=1e-9)
    np.testing.assert_allclose(w[~t][:5], R_CEM["first5_control"], atol=1e-9)


# printed by R: sum(w[treat==0]); sum(w[treat==0]^2); head(w[treat==0], 5)
# output: 148.000000000000 691.344067174050 0.000000000000 0.078389830508 0.078389830508
#         0.000000000000 0.000000000000
R_CEM = {
    "sum_control": 148.0,
    "sumsq_control": 691.344067174050,
    "first5_control": [0.0, 0.078389830508, 0.078389830508, 0.0, 0.0],
}


@pytest.mark.needs_r
def test_cem_effect_equals_matchit_weighted_lm():
    """Peer for CEM.fit: MatchIt's CEM weights and R's weighted lm with sandwich errors.
    R 4.2.2, MatchIt 4.5.1, sandwich 3.0.2 (Debian packages), printed with
    sprintf("%.10f"):
      library(MatchIt); library(sandwich); data("lalonde", package = "MatchIt")
      cp <- list(age = c(20, 25, 30, 35), educ = c(9, 12), re74 = c(1, 5000))
      f <- treat ~ age + educ + race + married + re74
      md <- match.data(matchit(f, data = lalonde, method = "cem", cutpoints = cp))
      fit <- lm(re78 ~ treat, data = md, weights = weights)
      coef(fit)["treat"]                                            # 254.0369724576
      sqrt(vcovHC(fit, type = "HC1")["treat", "treat"])             # 1058.0733833366
      sqrt(vcovCL(fit, cluster = ~subclass, type = "HC1")["treat", "treat"])  # 976.0443932711
      md2 <- match.data(matchit(f, data = lalonde, method = "cem", estimand = "ATE",
                                cutpoints = cp))
      fit2 <- lm(re78 ~ treat, data = md2, weights = weights)       # 443.4751416419
      sqrt(vcovHC(fit2, type = "HC1")["treat", "treat"])            # 987.6120822648
    """
    df = pd.read_csv(Path(__file__).parent / "fixtures" / "lalonde.csv")
    spec = dict(
        covariates=["age", "educ", "race", "married", "re74"],
        cutpoints={"age": [20, 25, 30, 35], "educ": [9, 12], "re74": [1, 5000]},
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        att = CEM(df, "treat", **spec).fit("re78")
        ate = CEM(df, "treat", estimand="ATE", **spec).fit("re78")
        strata = att.extra["strata"]
        cl = CEM(df.assign(stratum=strata), "treat", cluster="stratum", **spec).fit("re78")
    assert att.params["ATT"] == pytest.approx(254.0369724576, abs=1e-9)
    assert att.std_errors["ATT"] == pytest.approx(1058.0733833366, abs=1e-9)
    assert ate.params["ATE"] == pytest.approx(443.4751416419, abs=1e-9)
    assert ate.std_errors["ATE"] == pytest.approx(987.6120822648, abs=1e-9)
    assert cl.std_errors["ATT"] == pytest.approx(976.0443932711, abs=1e-9)


# -- known truth -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "make",
    [
        lambda df: NearestNeighborMatch(df, "d", COV, replace=True).fit().att("y"),
        lambda df: (
            NearestNeighborMatch(df, "d", COV, replace=True).fit().att("y", bias_adjust=True)
        ),
        lambda df: IPW(df, "d", COV).fit("y"),
        lambda df: AIPW(df, "d", COV).fit("y"),
        lambda df: EntropyBalance(df, "d", COV).fit("y"),
    ],
    ids=["nn", "nn_bias_adjusted", "ipw", "aipw", "entropy"],
)
def test_known_truth_att(make):
    df, truth = confounded(20000, seed=26)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = make(df)
    assert abs(res.params["ATT"] - truth) < 4 * res.std_errors["ATT"]
    naive = df.loc[df.d == 1, "y"].mean() - df.loc[df.d == 0, "y"].mean()
    assert abs(naive - truth) > 10 * res.std_errors["ATT"]  # the confounding is real


def test_balance_improves_after_matching(data):
    df, _ = data
    res = NearestNeighborMatch(df, "d", COV, caliper=0.2).fit()
    tab = res.balance()
    assert (tab["smd"].abs() < tab["smd_un"].abs()).all()
    assert tab.loc["x1", "smd_un"] > 0.3
    plain = balance(df, "d", COV)
    np.testing.assert_allclose(plain["smd"], plain["smd_un"])


# -- Abadie-Imbens (2016) adjustment by hand ----------------------------------------------
@pytest.mark.parametrize("threads", [False, True])
def test_ps_adjustment_by_hand(monkeypatch, threads):
    """The vectorised adjustment (window sums as coverage weights, optional threads) equals
    the formula computed with explicit loops over units and their L nearest neighbours."""
    from werkeffect.matching import abadie_imbens

    if threads:
        monkeypatch.setattr(abadie_imbens, "_THREAD_MIN_ROWS", 0)
    rng = np.random.default_rng(11)
    n, L, M, tau = 80, 4, 2, 0.7
    X = np.column_stack([np.ones(n), rng.normal(size=(n, 2))])
    p = 1 / (1 + np.exp(-(X @ np.array([-0.5, 0.8, -0.4]))))
    d = (rng.random(n) < p).astype(int)
    y = X[:, 1] + d + rng.normal(size=n)
    score = np.log(p / (1 - p))
    f = p * (1 - p)
    n1 = d.sum()
    c = np.zeros(3)
    yhat = np.zeros((n, 2))
    for i in range(n):
        for w in (0, 1):
            pool = np.flatnonzero(d == w)
            near = pool[np.argsort(np.abs(score[pool] - score[i]))]
            nb = near[:L]
            cov = np.array([np.cov(X[nb, k], y[nb])[0, 1] for k in range(3)])
            c += f[i] * (cov if w == 1 else p[i] / (1 - p[i]) * cov)
            yhat[i, w] = y[i] if d[i] == w else y[near[:M]].mean()
    c /= n1
    g = (X * (f * (yhat[:, 1] - yhat[:, 0] - tau))[:, None]).sum(axis=0) / n1
    info = (X * f[:, None]).T @ X / n
    minus = c @ np.linalg.solve(info, c) / n
    plus = g @ np.linalg.solve(info, g) / n
    out = abadie_imbens.ps_adjustment_att(score, p, X, d, y, tau, n_matches=M, L=L)
    assert out["ps_minus"] == pytest.approx(minus, rel=1e-9)
    assert out["ps_plus"] == pytest.approx(plus, rel=1e-9)
