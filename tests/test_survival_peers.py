"""Agreement with peers on identical data: lifelines (KM, AJ, CoxPH, CoxTimeVarying) and
statsmodels (PHReg with entry times and strata; GLM for the discrete-time hazard)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from werkeffect.exceptions import EstimationWarning
from werkeffect.survival import AalenJohansen, CoxPH, DiscreteTimeHazard, KaplanMeier

FIX = Path(__file__).parent / "fixtures" / "survival"


def read(name: str) -> pd.DataFrame:
    return pd.read_csv(FIX / name)


@pytest.fixture(scope="module")
def continuous_competing() -> pd.DataFrame:
    """No ties (lifelines' Aalen–Johansen jitters tied times)."""
    rng = np.random.default_rng(7)
    n = 800
    x = rng.normal(size=n)
    t1 = rng.exponential(1 / (0.05 * np.exp(0.5 * x)))
    t2 = rng.exponential(1 / 0.03, n)
    c = rng.uniform(0, 60, n)
    t = np.minimum.reduce([t1, t2, c])
    cause = np.select([t == t1, t == t2], [1, 2], 0)
    return pd.DataFrame({"t": t, "cause": cause, "x": x, "e": (cause > 0).astype(int)})


def test_kaplan_meier_matches_lifelines_with_entry():
    from lifelines import KaplanMeierFitter

    d = read("lefttrunc.csv")
    ours = KaplanMeier(d, duration="stop", event="event", entry="entry").fit()
    kmf = KaplanMeierFitter().fit(d["stop"], d["event"], entry=d["entry"])
    c = ours.curves
    theirs = kmf.survival_function_.iloc[:, 0]
    np.testing.assert_allclose(c["estimate"], theirs.loc[c["time"]].to_numpy(), rtol=1e-10)
    # lifelines' default interval is the log-log ("exponential Greenwood") one
    ci = kmf.confidence_interval_survival_function_
    np.testing.assert_allclose(c["lower"], ci.iloc[:, 0].loc[c["time"]].to_numpy(), rtol=1e-8)
    np.testing.assert_allclose(c["upper"], ci.iloc[:, 1].loc[c["time"]].to_numpy(), rtol=1e-8)


def test_weighted_kaplan_meier_matches_lifelines():
    from lifelines import KaplanMeierFitter

    rng = np.random.default_rng(3)
    d = read("lefttrunc.csv").assign(w=lambda f: rng.uniform(0.5, 2.0, len(f)))
    ours = KaplanMeier(d, duration="stop", event="event", weights="w").fit()
    kmf = KaplanMeierFitter().fit(d["stop"], d["event"], weights=d["w"])
    theirs = kmf.survival_function_.iloc[:, 0]
    c = ours.curves
    np.testing.assert_allclose(c["estimate"], theirs.loc[c["time"]].to_numpy(), rtol=1e-10)


def test_aalen_johansen_matches_lifelines(continuous_competing):
    from lifelines import AalenJohansenFitter

    d = continuous_competing
    ours = AalenJohansen(d, duration="t", cause="cause").fit()
    c = ours.curves[ours.curves["cause"] == 1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ajf = AalenJohansenFitter(calculate_variance=False).fit(
            d["t"], d["cause"], event_of_interest=1
        )
    theirs = ajf.cumulative_density_.iloc[:, 0]
    np.testing.assert_allclose(c["estimate"], theirs.loc[c["time"]].to_numpy(), rtol=1e-10)


def test_coxph_matches_lifelines_robust_cluster(continuous_competing):
    # lifelines' robust errors differ from R's coxph with delayed entry or tied times (Efron
    # score residuals); werkeffect matches R there (test_survival_r.py). The peer comparison
    # uses untied times without delayed entry, where the definitions coincide.
    from lifelines import CoxPHFitter

    rng = np.random.default_rng(11)
    d = continuous_competing.assign(g=rng.integers(0, 40, len(continuous_competing)))
    d = d.assign(z=rng.binomial(1, 0.4, len(d)))
    cov = ["x", "z"]
    ours = CoxPH(d, duration="t", event="e", covariates=cov, cluster="g").fit()
    cph = CoxPHFitter().fit(
        d[["t", "e", *cov, "g"]],
        duration_col="t",
        event_col="e",
        cluster_col="g",
        robust=True,
        fit_options={"precision": 1e-12},
    )
    np.testing.assert_allclose(ours.params, cph.params_[cov], rtol=1e-6)
    np.testing.assert_allclose(ours.std_errors, cph.standard_errors_[cov], rtol=1e-6)


def test_time_varying_matches_lifelines_ctv():
    from lifelines import CoxTimeVaryingFitter

    tv = read("tvtreat.csv")
    cov = ["treated", "age", "female"]
    ours = CoxPH(tv, duration="stop", event="event", entry="start", covariates=cov).fit()
    ctv = CoxTimeVaryingFitter().fit(
        tv[["person_id", "start", "stop", "event", *cov]],
        id_col="person_id",
        event_col="event",
        start_col="start",
        stop_col="stop",
    )
    np.testing.assert_allclose(ours.params, ctv.params_[cov], rtol=1e-6)
    np.testing.assert_allclose(ours.std_errors, ctv.standard_errors_[cov], rtol=1e-5)


@pytest.fixture(scope="module")
def continuous_episodes() -> pd.DataFrame:
    """Start–stop rows with continuous times (no entry time equals an event time)."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from bench_survival import make_episodes

    return make_episodes(3000, seed=5)


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_matches_statsmodels_phreg_with_entry(ties, continuous_episodes):
    # statsmodels counts a row entering at t as at risk at t (R and werkeffect: entry < t), so
    # the comparison uses continuous times where the conventions coincide.
    from statsmodels.duration.hazard_regression import PHReg

    tv = continuous_episodes
    cov = ["treated", "age", "female", "health"]
    ours = CoxPH(tv, duration="stop", event="event", entry="start", covariates=cov, ties=ties).fit()
    m = PHReg(
        tv["stop"].to_numpy(),
        tv[cov].to_numpy(float),
        status=tv["event"].to_numpy(),
        entry=tv["start"].to_numpy(),
        ties=ties,
    ).fit()
    np.testing.assert_allclose(ours.params, m.params, rtol=1e-6)
    np.testing.assert_allclose(ours.std_errors, m.bse, rtol=1e-5)
    np.testing.assert_allclose(ours.loglik, m.llf, rtol=1e-10)


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_matches_statsmodels_phreg_with_strata(ties):
    from statsmodels.duration.hazard_regression import PHReg

    lung = read("lung_complete.csv")
    cov = ["age", "ph.ecog"]
    ours = CoxPH(lung, duration="time", event="status", covariates=cov, strata="sex", ties=ties)
    m = PHReg(
        lung["time"].to_numpy(float),
        lung[cov].to_numpy(float),
        status=lung["status"].to_numpy(),
        strata=lung["sex"].to_numpy(),
        ties=ties,
    ).fit()
    res = ours.fit()
    np.testing.assert_allclose(res.params, m.params, rtol=1e-6)
    np.testing.assert_allclose(res.std_errors, m.bse, rtol=1e-5)


# Entry times combined with strata: statsmodels PHReg 0.15 disagrees with R here, so the
# reference is R.  coxph(Surv(start, stop, event) ~ treated + age + female + strata(wijk),
# data=tv, ties=...): coef(f); sqrt(diag(f$var))
R_STRATA_ENTRY = {
    "efron": ([0.4750898999989, -0.0187376620448, 0.1607053100419],
              [0.15927948566263, 0.00642389371359, 0.14681241920053]),
    "breslow": ([0.4638597069663, -0.0181762071092, 0.1577553677806],
                [0.15903467994873, 0.00642317340329, 0.14686428454406]),
}  # fmt: skip


@pytest.mark.needs_r
@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_entry_and_strata_match_r(ties):
    tv = read("tvtreat.csv")
    res = CoxPH(
        tv, duration="stop", event="event", entry="start", covariates=["treated", "age", "female"],
        strata="wijk", ties=ties,
    ).fit()  # fmt: skip
    coef, se = R_STRATA_ENTRY[ties]
    np.testing.assert_allclose(res.params, coef, rtol=1e-6)
    np.testing.assert_allclose(res.std_errors, se, rtol=1e-6)


# ---- discrete-time hazard: statsmodels GLM on a person-month design built by hand ----------


@pytest.fixture(scope="module")
def person_months_small() -> pd.DataFrame:
    from _discrete_dgp import person_months

    return person_months(1500, seed=3)  # 4,728 person-months, 1,257 exits


def _month_dummy_design(pm: pd.DataFrame, cap: int) -> pd.DataFrame:
    """One indicator per elapsed month, months >= cap pooled, no intercept; then z and d."""
    months = pd.get_dummies(pm["duration"].clip(upper=cap), prefix="m", dtype=float)
    return months.join(pm[["z", "d"]].astype(float))


@pytest.mark.parametrize("link", ["cloglog", "logit"])
def test_discrete_time_matches_statsmodels_glm_clustered(person_months_small, link):
    """DiscreteTimeHazard (month dummies pooled from month 8, clustered on the person) against
    ``sm.GLM(exit, X, family=Binomial(link=CLogLog() | Logit())).fit(cov_type="cluster",
    cov_kwds={"groups": id})`` on the design built here, and against the clustered sandwich
    written out: bread = the inverse observed information (statsmodels' GLM uses the observed
    Hessian; for cloglog it differs from the expected one by 0.6% in these SEs), meat = the
    sum over persons of the outer product of their summed scores, times statsmodels' default
    small-sample factor G/(G-1) * (N-1)/(N-K) (G persons, N rows, K parameters)."""
    import statsmodels.api as sm

    pm, cap = person_months_small, 8
    model = DiscreteTimeHazard(pm, duration="duration", event="exit", covariates=["z", "d"],
                               link=link, max_duration=cap, id="id")  # fmt: skip
    if link == "logit":  # monthly exit chances reach 0.26 here: the odds-ratio warning
        with pytest.warns(EstimationWarning, match="odds ratios"):
            ours = model.fit()
    else:
        ours = model.fit()
    X = _month_dummy_design(pm, cap)
    L = sm.families.links.CLogLog() if link == "cloglog" else sm.families.links.Logit()
    ref = sm.GLM(pm["exit"].astype(float), X, family=sm.families.Binomial(link=L)).fit(
        cov_type="cluster", cov_kwds={"groups": pm["id"].to_numpy()}
    )
    names = [f"month[{m}]" for m in range(cap)] + [f"month[{cap}]+", "z", "d"]
    assert list(ours.extra["all_params"].index) == names
    np.testing.assert_allclose(ours.extra["all_params"], ref.params, rtol=1e-8)
    np.testing.assert_allclose(ours.extra["all_std_errors"], ref.bse, rtol=1e-6)
    assert ours.n["n_clusters"] == 1500

    # the clustered sandwich by hand
    x, y, b = X.to_numpy(), pm["exit"].to_numpy(float), ref.params.to_numpy()
    eta = x @ b
    if link == "cloglog":
        mu = -np.expm1(-np.exp(eta))
        a = np.exp(eta) / mu  # d mu/d eta / V(mu)
        da = np.exp(eta) * (mu - np.exp(eta) * (1 - mu)) / mu**2
        dmu = np.exp(eta) * (1 - mu)
    else:
        mu = 1 / (1 + np.exp(-eta))
        a, da, dmu = np.ones_like(mu), np.zeros_like(mu), mu * (1 - mu)
    info = x.T @ ((dmu * a - (y - mu) * da)[:, None] * x)
    scores = pd.DataFrame(x * ((y - mu) * a)[:, None]).groupby(pm["id"].to_numpy()).sum()
    G, N, K = len(scores), len(y), x.shape[1]
    bread = np.linalg.inv(info)
    cov = bread @ (scores.T.to_numpy() @ scores.to_numpy()) @ bread
    cov *= G / (G - 1) * (N - 1) / (N - K)
    np.testing.assert_allclose(ours.std_errors, np.sqrt(np.diag(cov))[-2:], rtol=1e-6)
    # the reported baseline is the inverse link of the month coefficients
    base = ours.baseline
    assert base["month"].tolist() == list(range(cap + 1))
    np.testing.assert_allclose(base["hazard"], L.inverse(b[: cap + 1]), rtol=1e-10)


def test_discrete_time_spline_baseline_matches_statsmodels_patsy(person_months_small):
    """``baseline="spline"`` (cubic B-spline, 5 df, the interior knot at the median duration
    of the rows) against ``sm.GLM.from_formula("exit ~ 0 + bs(duration, df=5, degree=3,
    include_intercept=True) + z + d", family=Binomial(link=CLogLog()))`` clustered on id."""
    import statsmodels.api as sm
    import statsmodels.formula.api as smf

    pm = person_months_small
    ours = DiscreteTimeHazard(pm, duration="duration", event="exit", covariates=["z", "d"],
                              baseline="spline", id="id").fit()  # fmt: skip
    ref = smf.glm(
        "exit ~ 0 + bs(duration, df=5, degree=3, include_intercept=True) + z + d",
        data=pm,
        family=sm.families.Binomial(link=sm.families.links.CLogLog()),
    ).fit(cov_type="cluster", cov_kwds={"groups": pm["id"].to_numpy()})
    np.testing.assert_allclose(ours.params, ref.params[["z", "d"]], rtol=1e-8)
    np.testing.assert_allclose(ours.std_errors, ref.bse[["z", "d"]], rtol=1e-6)


def test_discrete_time_frequency_weights_equal_the_rows(person_months_small):
    """The truth test fits counted cells with ``weights=``: frequency weights must give the
    row-level fit's coefficients and (model-based) standard errors."""
    pm = person_months_small
    cells = pm.groupby(["duration", "z", "d", "exit"]).size().rename("count").reset_index()
    kw = {"duration": "duration", "event": "exit", "covariates": ["z", "d"], "max_duration": 8}
    rows = DiscreteTimeHazard(pm, **kw).fit()
    counted = DiscreteTimeHazard(cells, weights="count", **kw).fit()
    assert len(cells) < len(pm) / 20
    np.testing.assert_allclose(counted.params, rows.params, rtol=1e-8)
    np.testing.assert_allclose(counted.std_errors, rows.std_errors, rtol=1e-6)
