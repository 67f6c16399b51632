"""Monte Carlo checks (slow): known-truth DGP, the simulator's pilot and jobcoaching.

Run with ``pytest -m slow tests/test_matching_slow.py -s``. The number of replications can
be lowered for a quick look with the environment variable ``WERKEFFECT_MC_REPS`` (the
acceptance thresholds are only meaningful at the defaults).
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from werkeffect.matching import AIPW, NearestNeighborMatch, rosenbaum_bounds

sys.path.insert(0, str(Path(__file__).parent))
from _matching_dgp import confounded
from _matching_sim_frames import COVARIATES, jobcoaching_frames

pytestmark = pytest.mark.slow

# the estimators below run in joblib workers, which cannot import modules from tests/:
# ship this module and the frame builders by value
try:
    from joblib.externals import cloudpickle

    import _matching_sim_frames

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    cloudpickle.register_pickle_by_value(_matching_sim_frames)
except (ImportError, ValueError, AttributeError):  # pragma: no cover - n_jobs=1 still works
    pass

# the pilot's caseworkers pick healthy, Dutch-speaking recent arrivals: the selection score
# includes -1.5 * log(1 + months on bijstand), so that is matched on too
PILOT_COV = [
    "age", "age_45_54", "age_55p", "female", "barrier_health", "barrier_language",
    "startkwalificatie", "log_months_on_benefit",
]  # fmt: skip


# as analyses/statushouders.py: exact on the placement date. Tried on 23 Nov 2026 (400
# worlds each): exact on the permit year as well, bias +11.0% and coverage 0.9375 (the thin
# cells worsen the matches on the characteristics that drive selection); the years since
# the permit in the score instead, bias +5.0% and coverage 0.915. Neither is used.
PILOT_EXACT = ["cohort"]


def _reps(default: int) -> int:
    return int(os.environ.get("WERKEFFECT_MC_REPS", default))


def _jobs() -> int:
    """joblib workers for the Monte Carlo runs (``WERKEFFECT_MC_JOBS``, default 1)."""
    return int(os.environ.get("WERKEFFECT_MC_JOBS", 1))


def _summary(est, se, truth):
    est, se, truth = map(np.asarray, (est, se, truth))
    bias = float(np.mean(est - truth))
    cover = float(np.mean(np.abs(est - truth) <= 1.959964 * se))
    return bias, cover


def _lowered(name) -> None:
    """A run with fewer replications than the default is a look: printed, then skipped (the
    thresholds are only meaningful at the defaults), never a silent pass."""
    pytest.skip(f"{name}: fewer replications than the default (WERKEFFECT_MC_REPS): "
                "printed, nothing asserted")  # fmt: skip


def _check(name, est, se, truth, full):
    bias, cover = _summary(est, se, truth)
    effect = float(np.mean(truth))
    print(
        f"{name}: reps={len(est)} mean truth={effect:.4f} bias={bias:.4f} "
        f"({100 * bias / effect:.1f}% of the effect) coverage={cover:.3f} "
        f"sd(est)={np.std(est):.4f} mean(se)={np.mean(se):.4f}"
    )
    if not full:
        _lowered(name)
    assert abs(bias) < 0.05 * abs(effect)
    assert 0.925 <= cover <= 0.975


def test_monte_carlo_known_dgp():
    """AI matching (with replacement, AI 2016 correction) and AIPW on the test DGP."""
    R = _reps(1000)
    rows = {"ai": ([], []), "aipw": ([], [])}
    truth = []
    for s in range(R):
        df, t = confounded(2000, seed=10_000 + s)
        truth.append(t)
        r = NearestNeighborMatch(df, "d", ["x1", "x2", "x3"], replace=True).fit().att("y")
        a = AIPW(df, "d", ["x1", "x2", "x3"]).fit("y")
        for k, res in (("ai", r), ("aipw", a)):
            rows[k][0].append(res.params["ATT"])
            rows[k][1].append(res.std_errors["ATT"])
    for k, (est, se) in rows.items():
        _check(f"DGP {k}", est, se, truth, R >= 1000)


def _simulate(scenario, seed, **kw):
    sim = pytest.importorskip("werkeffect.simulate")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sim.simulate(scenario=scenario, seed=seed, **kw)


def _interval(res):
    ci = res.conf_int().iloc[0]
    return (float(res.params.iloc[0]), float(ci["lower"]), float(ci["upper"]))


def pilot_ai(dataset, seed):
    """AI matching (3:1 with replacement, exact on the placement date) for the pilot, 12
    months."""
    from werkeffect.matching.pilot import pilot_frame

    f = pilot_frame(dataset, horizons=(12,))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = NearestNeighborMatch(f, "treated", PILOT_COV, exact=PILOT_EXACT, replace=True, ratio=3)
        return _interval(m.fit().att("employed_12m"))


def pilot_aipw(dataset, seed):
    from werkeffect.matching.pilot import pilot_frame

    f = pilot_frame(dataset, horizons=(12,))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # the two placement dates differ in calendar time (cohort in both models), a person
        # can be a control at both dates (clustered SE), the outcome is 0/1 (logit model)
        m = AIPW(f, "treated", [*PILOT_COV, "cohort"], cluster="person_id", outcome_model="logit")
        return _interval(m.fit("employed_12m"))


def pilot_ai_benefit_exit(dataset, seed):
    """The evaluation's secondary pilot outcome: off benefit (any exit) 12 months after the
    placement start, on the same AI matches as the primary."""
    from werkeffect.matching.pilot import pilot_frame

    f = pilot_frame(dataset, horizons=(12,))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = NearestNeighborMatch(f, "treated", PILOT_COV, exact=PILOT_EXACT, replace=True, ratio=3)
        return _interval(m.fit().att("off_benefit_12m"))


def _pilot_naive(dataset, control):
    """The evaluation's naive comparison for the pilot (analyses/statushouders.py):
    participants' employment 12 months after the start against ``control``'s, Welch
    interval."""
    from werkeffect.analysis import naive_difference
    from werkeffect.matching.pilot import pilot_frame

    f = pilot_frame(dataset, horizons=(12,))
    t = f["treated"] == 1
    y0 = f.loc[~t, "employed_12m"] if control == "eligible" else f.loc[t, "employed_0m"]
    diff, se = naive_difference(f.loc[t, "employed_12m"], y0)
    return diff, diff - 1.959964 * se, diff + 1.959964 * se


def pilot_naive_eligible(dataset, seed):
    """Naive: participants versus all eligible statushouders."""
    return _pilot_naive(dataset, "eligible")


def pilot_naive_before_after(dataset, seed):
    """Naive: participants 12 months after the start versus at the start."""
    return _pilot_naive(dataset, "start")


POOLED = "jobcoaching.att_u12_sianesi_observed.pooled"


def _jobcoaching(dataset, method):
    """ATT(u, 12) per u and their treated-weighted mean (the ATT over all starters at u = 3,
    6, 12, 24). The pooled error treats the four estimates as independent: the starters
    differ, only some comparison spells recur (a spell still on benefit and untreated at
    u = 6 was so at u = 3)."""
    out, parts = {}, []
    for u, f in jobcoaching_frames(dataset).items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if method == "ai":
                res = NearestNeighborMatch(f, "treated", COVARIATES, replace=True).fit().att("y")
            else:
                res = AIPW(f, "treated", COVARIATES).fit("y")
        est, lo, hi = _interval(res)
        out[f"jobcoaching.att_u12_sianesi_observed.u{u}"] = (est, lo, hi)
        parts.append((float(f["treated"].sum()), est, (hi - lo) / (2 * 1.959964)))
    n, est, se = (np.array(x) for x in zip(*parts, strict=True))
    w = n / n.sum()
    pooled, pooled_se = float(w @ est), float(np.sqrt(w**2 @ se**2))
    out[POOLED] = (pooled, pooled - 1.959964 * pooled_se, pooled + 1.959964 * pooled_se)
    return out


def jobcoaching_ai(dataset, seed):
    return _jobcoaching(dataset, "ai")


def jobcoaching_aipw(dataset, seed):
    return _jobcoaching(dataset, "aipw")


def _print_table(name, table):
    print(f"\n{name}\n{table.to_string()}")
    reps = table.attrs.get("replications")
    if reps is not None and len(reps):
        # the truths are sample ATTs (common random numbers); the AI and influence-function
        # variances are for the population ATT, for which the mean truth over the
        # replications stands in: report both coverages
        r = reps.dropna(subset=["estimate"])
        pop = r.groupby("estimand")["truth"].transform("mean")
        inside = (r["lower"] <= pop) & (pop <= r["upper"])
        extra = pd.DataFrame(
            {
                "coverage_of_mean_truth": inside.groupby(r["estimand"]).mean(),
                "sd_truth": r.groupby("estimand")["truth"].std(),
                "sd_estimate": r.groupby("estimand")["estimate"].std(),
                "mean_se": ((r["upper"] - r["lower"]) / (2 * 1.959964))
                .groupby(r["estimand"])
                .mean(),
            }
        )
        print(extra.to_string())


def _check_table(name, table, full):
    _print_table(name, table)
    if not full:
        _lowered(name)
    for key, row in table.iterrows():
        assert abs(row["relative_bias"]) < 0.05, key
        assert 0.925 <= row["coverage"] <= 0.975, key


def _check_jobcoaching(name, table, full):
    """The acceptance thresholds on the pooled ATT; per elapsed month a Monte Carlo test.

    With about 60 starters per world at u = 24 and 130 at u = 12, the Monte Carlo standard
    error of the bias over 400 worlds is 4-8% of the effect there, so "bias under 5%" cannot
    be decided per month (an unbiased estimator would fail it about half of the time at
    u = 24). The pooled ATT (MC s.e. about 2% of the effect) carries the 5% bias and the
    92.5-97.5% coverage criteria; each month must not differ from unbiasedness by more than 5%
    of the effect plus 3 MC standard errors, nor from 95% coverage by more than 3 MC standard
    errors (0.95 +/- 0.033 at 400 worlds).
    """
    _print_table(name, table)
    if not full:
        _lowered(name)
    for key, row in table.iterrows():
        if key == POOLED:
            assert abs(row["relative_bias"]) < 0.05, key
            assert 0.925 <= row["coverage"] <= 0.975, key
        else:
            effect = abs(row["truth"])
            assert abs(row["bias"]) < 0.05 * effect + 3 * row["mc_se_bias"], key
            assert abs(row["coverage"] - 0.95) <= 3 * np.sqrt(0.95 * 0.05 / row["reps"]), key


@pytest.mark.parametrize("estimator", [pilot_ai, pilot_aipw], ids=["ai", "aipw"])
def test_monte_carlo_pilot_observables(estimator):
    """The statushouder pilot (40 participants) in groningen-observables: ATT on employment
    12 months after the placement start, against the simulator's pilot.att_employed_12m
    (the participants' own potential-outcome difference), with
    werkeffect.validation.monte_carlo in a Groningen-size world (scale "groningen"). The
    40 participants are a fixed number while the pool of eligible statushouders scales with
    the world: in a 0.4-scale world the caseworkers' selection of recent arrivals takes about
    28 of the 46 eligible people on bijstand for under a year, leaving too few comparable
    controls for weighting (AIPW coverage 0.88, AI 0.91 over 400 worlds, control weights
    resting on one or two people); the real city's pool has about 120 such controls."""
    validation = pytest.importorskip("werkeffect.validation")
    R = _reps(400)
    tab = validation.monte_carlo(
        estimator, scenario="groningen-observables", reps=R, n_jobs=_jobs(), seed=6,
        estimand="pilot.att_employed_12m", scale="groningen",
    )  # fmt: skip
    _check_table(f"pilot {estimator.__name__}", tab, R >= 400)


@pytest.mark.xfail(
    strict=True,
    reason="the AI interval of the pilot's benefit exit under-covers: 0.8825 over 400 worlds",
)
def test_monte_carlo_pilot_benefit_exit():
    """The pilot's secondary outcome, off benefit 12 months after the start (any exit), by the
    evaluation's AI matching in groningen-observables against the simulator's
    pilot.att_benefit_exit_12m, with the primary's criteria.

    Status (24 Nov 2026, 400 worlds, seed 9): unbiased (bias -0.005, -1.7% of the effect,
    MC s.e. 0.006) but the interval covers in 88.25% of worlds (mean s.e. 0.107 against a
    spread of 0.125): an expected failure, strict, so a fix shows. The statushouders report
    says the interval is probably too narrow."""
    validation = pytest.importorskip("werkeffect.validation")
    R = _reps(400)
    tab = validation.monte_carlo(
        pilot_ai_benefit_exit, scenario="groningen-observables", reps=R, n_jobs=_jobs(),
        seed=9, estimand="pilot.att_benefit_exit_12m", scale="groningen",
    )  # fmt: skip
    _check_table("pilot benefit exit", tab, R >= 400)


@pytest.mark.parametrize(
    "estimator", [pilot_naive_eligible, pilot_naive_before_after], ids=["eligible", "before_after"]
)
def test_monte_carlo_pilot_naive_comparisons_are_biased(estimator):
    """The pilot's naive comparisons in the demo's scenario (``groningen``, Groningen size):
    the caseworkers' choice of young, healthy, Dutch-speaking recent arrivals biases both
    upward, and their intervals miss the truth far more often than 5% of the time.

    With 40 participants a naive interval is about +-0.15 wide, so in a single world the
    naive comparison can cover the truth by chance: in the demo's world (seed 2026) both do
    (0.244 and 0.250 against 0.200). Over worlds the bias shows. Status (23 Nov 2026, 200
    worlds, seed 8, mean truth 0.270): participants versus eligible, bias +0.118 (44% of the
    effect, MC s.e. 0.005), coverage 0.705; before versus after, bias +0.164 (61%), coverage
    0.495.

    A stronger selection does not change this: with every selection coefficient times 1.5
    or 2 (``python tests/run_montecarlo.py pilot-selection 200 1,1.5,2``, 23 Nov 2026) the
    naive biases grow only to +46/47% and +63/64% and still cover in 62/57% and 33/30% of
    worlds, while the matched estimate's coverage falls from 0.93 to 0.85 and 0.80 (and 4 of
    200 worlds at 2 have perfect separation): the overlap goes before the naive intervals
    stop covering. With 40 participants the width of the naive interval, not a weak
    selection, is why it often covers.
    """
    validation = pytest.importorskip("werkeffect.validation")
    R = _reps(200)
    tab = validation.monte_carlo(
        estimator, scenario="groningen", reps=R, n_jobs=_jobs(), seed=8,
        estimand="pilot.att_employed_12m", scale="groningen",
    )  # fmt: skip
    row = tab.loc["pilot.att_employed_12m"]
    print(f"\npilot {estimator.__name__}\n{tab.to_string()}")
    if R < 200:
        _lowered(f"pilot {estimator.__name__}")
    # biased upward: by a quarter of the effect at least, and beyond Monte Carlo error
    assert row["relative_bias"] > 0.25
    assert row["bias"] > 4 * row["mc_se_bias"]
    # and the intervals undercover: below 95% by more than 3 Monte Carlo standard errors
    assert row["coverage"] < 0.95 - 3 * np.sqrt(0.95 * 0.05 / row["reps"])


@pytest.mark.parametrize("estimator", [jobcoaching_ai, jobcoaching_aipw], ids=["ai", "aipw"])
def test_monte_carlo_jobcoaching_observables(estimator):
    """Jobcoaching in groningen-observables: risk-set matching at elapsed months
    u = 3, 6, 12, 24 (treated in month u vs not yet treated; Sianesi's estimand) against the
    simulator's jobcoaching.att_u12_sianesi_observed.u{u} (the starters whose 12-month window
    ends before the extract date: the frames keep only those); treated and controls on one
    clock (frames in tests/_matching_sim_frames.py), and their treated-weighted mean
    (jobcoaching.att_u12_sianesi_observed.pooled). 400 worlds: the Monte Carlo standard
    error of the bias is then about 2.5% of the effect at u = 3, 4% at u = 12 and 6-8% at
    u = 24 (about 60 treated spells per world), so the 5% bias criterion is decided on the
    pooled ATT (see _check_jobcoaching)."""
    validation = pytest.importorskip("werkeffect.validation")
    R = _reps(400)
    tab = validation.monte_carlo(
        estimator,
        scenario="groningen-observables",
        reps=R,
        n_jobs=_jobs(),
        seed=7,
    )
    _check_jobcoaching(f"jobcoaching {estimator.__name__}", tab, R >= 400)


def _hidden_bias_gamma(scenario: str = "groningen") -> dict[str, float]:
    """The Rosenbaum Gamma the simulator builds in: two people matched on every recorded
    characteristic can still differ in motivation by its whole range, so their odds of
    selection differ by at most exp(coefficient x range). Jobcoaching starts have a monthly
    hazard with log-HR ``motivation_on_jobcoaching`` per motivation unit (for monthly start
    probabilities of a few percent the odds ratio is the hazard ratio to within a few
    percent); pilot participants are drawn with probability proportional to exp(score), the
    score having ``pilot_motivation_coef`` per unit. Read from the parameters, not typed in."""
    from werkeffect.simulate.params import resolve_params

    p = resolve_params(scenario, "groningen", pilot_select_on_motivation=True)
    spread = max(p.motivation_support) - min(p.motivation_support)
    return {
        "jobcoaching": float(np.exp(p.motivation_on_jobcoaching * spread)),
        "pilot": float(np.exp(p.pilot_motivation_coef * spread)),
    }


def _rosenbaum_jobcoaching_and_pilot(ds, gamma_jc, gamma_pilot):
    from werkeffect.matching.pilot import pilot_frame

    frames = jobcoaching_frames(ds)
    f = pd.concat([fr.assign(u=u) for u, fr in frames.items()], ignore_index=True)
    p = pilot_frame(ds, horizons=(12,))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = NearestNeighborMatch(f, "treated", COVARIATES, exact="u").fit().att("y")
        rp = NearestNeighborMatch(p, "treated", PILOT_COV, exact="cohort").fit()
        rp = rp.att("employed_12m")
    grid = [1, 1.1, 1.2, 1.3, 1.4, 1.5, 1.75, 2, 2.5, 3, 4, 5, 6, 8, 10, 15]
    tab = rosenbaum_bounds(r, gamma=sorted({*grid, gamma_jc}))
    tp = rosenbaum_bounds(rp, gamma=sorted({*grid, gamma_pilot}))
    return r, tab, rp, tp


def test_rosenbaum_bound_under_selection_on_motivation():
    """Caseworkers select jobcoaching participants (and here pilot participants) on
    unrecorded motivation, with a hidden bias of at most Gamma* = exp(coefficient x range of
    motivation) within a matched pair (:func:`_hidden_bias_gamma`: about 13.5 for
    jobcoaching, 7.4 for the pilot). Rosenbaum's bound is what must hold:

    * in worlds with no effect at all (``R0`` of them), the matched-pair test at Gamma = 1
      rejects "no effect" for jobcoaching far more often than alpha — motivation raises both
      the start and the exit to work, so the hidden bias is real and in the positive
      direction — while the bound at Gamma* rejects no more often than its size allows (the
      direction is chosen from the data, so the size is at most 2 alpha). The thresholds are
      binomial tail quantiles at level 0.005, so a valid bound fails this with probability
      below 1%. Status (seeds 100-119): 12 of 20 rejections at Gamma = 1 for
      jobcoaching, none at Gamma*; the 40-pair pilot rejects in none at Gamma = 1 (its
      bias of about +0.04 is small against its standard error of about 0.1).
    * in the default world (seed 1, true effects), jobcoaching is significant at Gamma = 1
      and the conclusion changes at a critical Gamma in (1, Gamma*]: the hidden bias the
      simulator contains is enough to overturn it; the pilot is not significant beyond
      Gamma* either.

    Fails if the bound is computed on the wrong side (p with 1/(1+Gamma) instead of
    Gamma/(1+Gamma): then it rejects in every null world at Gamma*), or if the data carry
    no selection on motivation (then the Gamma = 1 rejections stay near alpha)."""
    from scipy import stats

    gam = _hidden_bias_gamma()
    alpha = 0.05
    R0 = _reps(20)
    rej_1, rej_star_jc, rej_star_pilot, rej_1_pilot = 0, 0, 0, 0
    for seed in range(100, 100 + R0):
        ds, _ = _simulate(
            "groningen", seed, pilot_select_on_motivation=True,
            jobcoaching_effect=((0.0, 0.0),), pilot_effect=0.0,
        )  # fmt: skip
        _, tab, _, tp = _rosenbaum_jobcoaching_and_pilot(ds, gam["jobcoaching"], gam["pilot"])
        positive = tab.attrs["direction"] == "positive"
        rej_1 += bool(positive and tab.loc[1.0, "p_upper"] <= alpha)
        rej_star_jc += bool(tab.loc[gam["jobcoaching"], "p_upper"] <= alpha)
        rej_1_pilot += bool(tp.attrs["direction"] == "positive" and tp.loc[1.0, "p_upper"] <= alpha)
        rej_star_pilot += bool(tp.loc[gam["pilot"], "p_upper"] <= alpha)
    # a valid one-sided test rejects with probability <= alpha: more than this many
    # rejections out of R0 has probability < 0.005 without hidden bias
    many = int(stats.binom.ppf(0.995, R0, alpha)) + 1
    # the bound at Gamma* (direction from the data: size <= 2 alpha) rejects at most this often
    few = int(stats.binom.ppf(0.995, R0, 2 * alpha))
    print(f"\nno-effect worlds ({R0}): Gamma* = {gam}; jobcoaching rejections at Gamma = 1: "
          f"{rej_1} (>= {many} required), at Gamma*: {rej_star_jc} (<= {few}); pilot at "
          f"Gamma = 1: {rej_1_pilot}, at Gamma*: {rej_star_pilot} (<= {few})")  # fmt: skip
    if R0 >= 20:
        assert rej_1 >= many
    assert rej_star_jc <= few
    assert rej_star_pilot <= few

    ds, tr = _simulate("groningen", 1, pilot_select_on_motivation=True)
    r, tab, rp, tp = _rosenbaum_jobcoaching_and_pilot(ds, gam["jobcoaching"], gam["pilot"])
    frames = jobcoaching_frames(ds)
    n = {u: fr["treated"].sum() for u, fr in frames.items()}
    key = "jobcoaching.att_u12_sianesi_observed.u{}"
    truth = sum(n[u] * tr.values[key.format(u)] for u in n) / sum(n.values())
    g = tab.attrs["gamma_critical"]
    print(f"jobcoaching (u = 3, 6, 12, 24 pooled, 1:1 pairs exact on u): ATT "
          f"{r.params['ATT']:.4f} (truth {truth:.4f}); {tab.attrs['test']}; "
          f"conclusion changes at Gamma = {g} (hidden bias: {gam['jobcoaching']:.2f})")  # fmt: skip
    print(tab)
    assert tab.loc[1.0, "p_upper"] <= alpha
    assert 1 < g <= gam["jobcoaching"]
    gp = tp.attrs["gamma_critical"]
    p1 = tp.loc[1.0, "p_upper"]
    verdict = (
        f"conclusion changes at Gamma = {gp}"
        if np.isfinite(gp)
        else f"not significant at Gamma = 1 (p = {p1:.3f}): no hidden bias is needed to overturn it"
    )
    print(f"pilot: ATT {rp.params['ATT']:.4f} (truth {tr.values['pilot.att_employed_12m']:.4f});"
          f" {tp.attrs['test']}; {verdict}")  # fmt: skip
    print(tp)
    assert tp.loc[gam["pilot"], "p_upper"] > alpha
    assert np.isfinite(gp) == (p1 <= alpha)
    if np.isfinite(gp):
        assert 1 < gp <= gam["pilot"]
