"""Known-truth checks: exponential and piecewise-exponential data-generating processes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from werkeffect.survival import (
    AalenJohansen,
    CoxPH,
    DiscreteTimeHazard,
    KaplanMeier,
    cif_difference,
    rmst_difference,
    time_varying_effect,
)


def within(est, truth, se, k=4.0):
    assert abs(est - truth) <= k * se, f"estimate {est:.4f} vs truth {truth:.4f} (se {se:.4f})"


def tv_episodes(n: int, seed: int, effect: tuple[float, float] = (0.4, 0.4), cut: float = 6.0,
                window: float = 0.0) -> pd.DataFrame:  # fmt: skip
    """Spells with a programme starting at an exponential time; log HR effect[0] during the
    first ``cut`` months after start and effect[1] afterwards; base hazard 0.05*exp(0.5 x).
    With ``window`` > 0, spells are observed from a random elapsed duration (left truncation)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    base = 0.05 * np.exp(0.5 * x)
    U = rng.exponential(10.0, n)
    E = rng.exponential(1.0, n)
    # cumulative hazard pieces: [0, U) base, [U, U+cut) base*e0, [U+cut, inf) base*e1
    h0, h1, h2 = base, base * np.exp(effect[0]), base * np.exp(effect[1])
    H1 = h0 * U
    H2 = H1 + h1 * cut
    T = np.where(E < H1, E / h0, np.where(E < H2, U + (E - H1) / h1, U + cut + (E - H2) / h2))
    C = rng.uniform(5, 50, n)
    entry = rng.uniform(0, window, n) if window > 0 else np.zeros(n)
    keep = (T > entry) & (C > entry)
    T, C, U, x, entry = T[keep], C[keep], U[keep], x[keep], entry[keep]
    Y = np.minimum(T, C)
    ev = (T <= C).astype(int)
    pid = np.arange(T.shape[0])
    split = (U > entry) & (U < Y)
    pre_only = ~split & (U >= Y)
    rows = pd.DataFrame(
        {
            "person_id": np.concatenate([pid, pid[split]]),
            "start": np.concatenate([entry, U[split]]),
            "stop": np.concatenate([np.where(split, U, Y), Y[split]]),
            "event": np.concatenate([np.where(split, 0, ev), ev[split]]),
            "treated": np.concatenate(
                [(~split & ~pre_only).astype(int), np.ones(split.sum(), int)]
            ),
            "programme_start": np.concatenate([np.where(U < Y, U, np.nan), U[split]]),
            "x": np.concatenate([x, x[split]]),
        }
    )
    return rows.sort_values(["person_id", "start"]).reset_index(drop=True)


def test_cox_exponential_truth():
    rng = np.random.default_rng(1)
    n = 20000
    x = rng.normal(size=n)
    z = rng.binomial(1, 0.4, n)
    t = rng.exponential(1 / (0.05 * np.exp(0.5 * x - 0.3 * z)))
    c = rng.uniform(0, 40, n)
    d = pd.DataFrame({"t": np.minimum(t, c), "e": (t <= c).astype(int), "x": x, "z": z})
    res = CoxPH(d, duration="t", event="e", covariates=["x", "z"]).fit()
    within(res.params["x"], 0.5, res.std_errors["x"])
    within(res.params["z"], -0.3, res.std_errors["z"])


@pytest.mark.parametrize("window", [0.0, 12.0])
def test_cox_time_varying_treatment_truth(window):
    ep = tv_episodes(20000, seed=2, effect=(0.4, 0.4), window=window)
    if window:
        assert (ep.groupby("person_id")["start"].min() > 0).mean() > 0.5  # left-truncated
    res = CoxPH(ep, duration="stop", event="event", entry="start", covariates=["treated", "x"],
                cluster="person_id", id="person_id").fit()  # fmt: skip
    within(res.params["treated"], 0.4, res.std_errors["treated"])
    within(res.params["x"], 0.5, res.std_errors["x"])


def test_piecewise_effect_by_time_since_programme_truth():
    ep = tv_episodes(30000, seed=3, effect=(0.7, 0.0), cut=6.0)
    sp, names = time_varying_effect(ep, cuts=[6], cause=None)
    res = CoxPH(sp, duration="stop", event="event", entry="start", covariates=[*names, "x"],
                cluster="person_id").fit()  # fmt: skip
    within(res.params["treated_0_6"], 0.7, res.std_errors["treated_0_6"])
    within(res.params["treated_6+"], 0.0, res.std_errors["treated_6+"])
    # a single constant effect lies between the two and fails the PH test for treatment
    one = CoxPH(ep, duration="stop", event="event", entry="start", covariates=["treated", "x"])
    zph = one.fit().test_proportional_hazards(transform="identity")
    assert zph.loc["treated", "p"] < 0.01


def test_kaplan_meier_left_truncation_truth():
    rng = np.random.default_rng(4)
    n = 20000
    t = rng.exponential(20.0, n)
    entry = rng.uniform(0, 24, n)
    keep = t > entry  # a stock sample: only spells still running at the window are seen
    t, entry = t[keep], entry[keep]
    c = entry + rng.uniform(0, 36, t.shape[0])
    d = pd.DataFrame({"entry": entry, "t": np.minimum(t, c), "e": (t <= c).astype(int)})
    res = KaplanMeier(d, duration="t", event="e", entry="entry").fit(times=[12, 24])
    for tt in (12, 24):
        within(res.params[f"S({tt:g})"], np.exp(-tt / 20.0), res.std_errors[f"S({tt:g})"])
    naive = KaplanMeier(d, duration="t", event="e").fit(times=[12])
    assert naive.params["S(12)"] - np.exp(-12 / 20) > 0.1  # ignoring entry: survivor bias


def test_aalen_johansen_and_rmst_truth():
    rng = np.random.default_rng(5)
    n = 20000
    l1, l2 = 0.04, 0.02
    t1, t2 = rng.exponential(1 / l1, n), rng.exponential(1 / l2, n)
    c = rng.uniform(0, 60, n)
    t = np.minimum.reduce([t1, t2, c])
    cause = np.select([t == t1, t == t2], [1, 2], 0)
    d = pd.DataFrame({"t": t, "cause": cause, "e": (cause > 0).astype(int)})
    d["g"] = rng.binomial(1, 0.5, n)
    aj = AalenJohansen(d, duration="t", cause="cause").fit(times=[12])
    lam = l1 + l2
    within(aj.params["F1(12)"], l1 / lam * (1 - np.exp(-lam * 12)), aj.std_errors["F1(12)"])
    within(aj.params["F2(12)"], l2 / lam * (1 - np.exp(-lam * 12)), aj.std_errors["F2(12)"])
    r = rmst_difference(d, "t", "e", "g", horizon=24)
    within(
        r.by_group["rmst"].iloc[0], (1 - np.exp(-lam * 24)) / lam, r.by_group["std_error"].iloc[0]
    )
    within(r.params.iloc[0], 0.0, r.std_errors.iloc[0])


@pytest.mark.parametrize("baseline", ["dummies", "spline"])
def test_discrete_time_cloglog_recovers_hazard_ratios_and_baseline(baseline):
    """400,000 persons (about 1.6 million person-months, counted into cells with frequency
    weights; tests/_discrete_dgp.py): log HRs 0.5 (fixed z) and -0.3 (d, switching on during
    the spell), baseline chance of exit 1 - exp(-0.3 exp(-0.08 m)) in month m = 0..11. Both
    baselines contain the true one, so everything must lie within 4 s.e. of the truth, and
    the s.e. are small: z's is 0.0035 (seed 6). What link="logit" estimates on the same data
    (the log odds ratio, 0.594) is 23 s.e. off; a baseline one month late is 24 to 10 s.e.
    off in months 0-4 (and labelled 1..12). The s.e. themselves are checked against
    statsmodels (tests/test_survival_peers.py) and against the spread over replications
    (test_discrete_time_monte_carlo_bias_and_coverage, slow)."""
    from _discrete_dgp import BETA_Z, GAMMA_D, base_hazard, person_month_cells

    cells = person_month_cells(400_000, seed=6)
    kw = {"duration": "duration", "event": "exit", "covariates": ["z", "d"], "weights": "count"}
    res = DiscreteTimeHazard(cells, link="cloglog", baseline=baseline, **kw).fit()
    assert res.std_errors["z"] < 0.005  # the tolerance below is tight
    within(res.params["z"], BETA_Z, res.std_errors["z"])
    within(res.params["d"], GAMMA_D, res.std_errors["d"])
    # the baseline by month, with s.e. from the month-dummy fit (delta method); the spline
    # pools months, so its own error is smaller
    dummies = DiscreteTimeHazard(cells, link="cloglog", baseline="dummies", **kw).fit()
    eta = dummies.extra["all_params"].iloc[:12].to_numpy()
    se_h = np.exp(eta - np.exp(eta)) * dummies.extra["all_std_errors"].iloc[:12].to_numpy()
    base = res.baseline
    assert base["month"].tolist() == list(range(12))
    truth = -np.expm1(-base_hazard(np.arange(12)))
    assert (np.abs(base["hazard"].to_numpy() - truth) <= 4 * se_h).all(), base.assign(
        truth=truth, se=se_h
    )


@pytest.mark.slow
def test_discrete_time_monte_carlo_bias_and_coverage():
    """1,000 replications of 2,000 persons (about 6,300 person-months; tests/_discrete_dgp.py),
    month dummies pooled from month 8, s.e. clustered on the person: about 50 CPU-seconds.
    For z (truth 0.5) and d (-0.3): mean error within 3 Monte Carlo s.e. (sd/sqrt(R),
    about 0.0017 for z); 95% coverage within 0.95 +- 3 sqrt(0.95 * 0.05 / R) = [0.929, 0.971];
    the mean reported s.e. over the sd of the estimates within 1 +- 3 / sqrt(2 (R - 1)) =
    1 +- 0.067. Standard errors sqrt(2) too large (coverage 0.994) or too small (0.834) fail
    both; the logit link is 0.08 off for z (about 50 MC s.e.). Run of this test (50 CPU-s):
    z error +0.0006 (MC s.e. 0.0016), coverage 0.950, s.e./sd 0.996; d -0.0041 (0.0025),
    0.945, 0.976."""
    from _discrete_dgp import BETA_Z, GAMMA_D, person_months

    R = 1000
    names = ["z", "d"]
    truth = np.array([BETA_Z, GAMMA_D])
    est, se = np.empty((R, 2)), np.empty((R, 2))
    for s in range(R):
        pm = person_months(2000, seed=10_000 + s)
        res = DiscreteTimeHazard(pm, duration="duration", event="exit", covariates=names,
                                 max_duration=8, id="id").fit()  # fmt: skip
        est[s], se[s] = res.params[names], res.std_errors[names]
    err = est - truth
    bias, mcse = err.mean(0), err.std(0, ddof=1) / np.sqrt(R)
    cover = (np.abs(err) <= 1.959964 * se).mean(0)
    ratio = se.mean(0) / est.std(0, ddof=1)
    summary = pd.DataFrame({"bias": bias, "mcse": mcse, "cover": cover, "se/sd": ratio}, names)
    print(summary)
    assert (np.abs(bias) <= 3 * mcse).all(), summary
    assert (np.abs(cover - 0.95) <= 3 * np.sqrt(0.95 * 0.05 / R)).all(), summary
    assert (np.abs(ratio - 1) <= 3 / np.sqrt(2 * (R - 1))).all(), summary


def test_cif_difference_ipw_removes_confounding():
    rng = np.random.default_rng(8)
    n = 4000
    x = rng.normal(size=n)
    g = rng.binomial(1, 1 / (1 + np.exp(-1.2 * x)))
    l1 = 0.03 * np.exp(0.8 * x + 0.3 * g)
    l2 = 0.02 * np.ones(n)
    t1, t2 = rng.exponential(1 / l1), rng.exponential(1 / l2)
    c = rng.uniform(12, 40, n)
    t = np.minimum.reduce([t1, t2, c])
    cause = np.select([t == t1, t == t2], [1, 2], 0)
    d = pd.DataFrame({"t": t, "cause": cause, "g": g, "x": x})

    # true ATE of g on F1(12): average over the population distribution of x
    xs = np.random.default_rng(0).normal(size=400_000)

    def f1(gv):
        a, b = 0.03 * np.exp(0.8 * xs + 0.3 * gv), 0.02
        return np.mean(a / (a + b) * (1 - np.exp(-(a + b) * 12)))

    truth = f1(1) - f1(0)
    crude = cif_difference(d, "t", "cause", "g", times=[12])
    adj = cif_difference(d, "t", "cause", "g", times=[12], covariates=["x"], n_boot=60, seed=1)
    assert crude.params.iloc[0] - truth > 4 * crude.std_errors.iloc[0]  # confounded
    within(adj.params.iloc[0], truth, adj.std_errors.iloc[0])
    lo, up = adj.conf_int().iloc[0]
    assert lo < adj.params.iloc[0] < up
