"""Rosenbaum bounds, E-values, randomisation inference and power."""

from __future__ import annotations

import itertools
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from werkeffect.matching import (
    NearestNeighborMatch,
    analytic_mde,
    evalue,
    minimum_detectable_effect,
    power,
    randomization_test,
    rosenbaum_bounds,
)

sys.path.insert(0, str(Path(__file__).parent))
from _matching_dgp import confounded


# -- Rosenbaum bounds ----------------------------------------------------------------------
def test_rosenbaum_gamma_one_is_wilcoxon():
    rng = np.random.default_rng(1)
    yc = rng.normal(size=60)
    yt = yc + 0.4 + rng.normal(size=60)
    yt[:3] = yc[:3]  # zero differences are dropped, as in the Wilcoxon test
    tab = rosenbaum_bounds((yt, yc), gamma=[1, 2])
    ref = stats.wilcoxon(
        yt, yc, alternative="greater", zero_method="wilcox", correction=False, method="approx"
    )
    assert tab.loc[1.0, "p_upper"] == pytest.approx(ref.pvalue, rel=1e-10)
    assert tab.loc[1.0, "p_lower"] == pytest.approx(ref.pvalue, rel=1e-10)
    assert tab.loc[2.0, "p_upper"] > tab.loc[1.0, "p_upper"] > tab.loc[2.0, "p_lower"]


def test_rosenbaum_binary_is_mcnemar():
    yt = np.array([1] * 30 + [0] * 10 + [1] * 15 + [0] * 15)
    yc = np.array([0] * 30 + [1] * 10 + [1] * 15 + [0] * 15)
    tab = rosenbaum_bounds((yt, yc), gamma=[1, 1.5, 2, 3])
    assert tab.attrs["test"].startswith("McNemar")
    assert tab.loc[1.0, "p_upper"] == pytest.approx(
        stats.binomtest(30, 40, 0.5, alternative="greater").pvalue
    )
    assert tab.loc[2.0, "p_upper"] == pytest.approx(
        stats.binomtest(30, 40, 2 / 3, alternative="greater").pvalue
    )
    assert np.all(np.diff(tab["p_upper"]) > 0)
    # critical gamma: first grid value where the worst-case p-value exceeds 0.05
    crit = tab.index[tab["p_upper"] > 0.05][0]
    assert tab.attrs["gamma_critical"] == crit


def _exact_signed_rank_sf(ranks, t, p_plus):
    """P(T+ >= t) when each pair's difference is positive with probability p_plus on its
    own: the exact distribution of the signed-rank sum by convolution (Rosenbaum 2002,
    sec. 4.3.3: the bounding distributions under Gamma put p_plus = Gamma / (1 + Gamma) for
    the upper and 1 / (1 + Gamma) for the lower bound)."""
    dist = np.zeros(int(ranks.sum()) + 1)
    dist[0] = 1.0
    for rk in ranks:
        new = dist * (1 - p_plus)
        new[rk:] += dist[: len(dist) - rk] * p_plus
        dist = new
    return dist[t:].sum()


def test_rosenbaum_bounds_agree_with_the_exact_bounding_distributions():
    """Gamma > 1 against an independent computation: the exact bounding distributions of
    Wilcoxon's T+ (60 pairs, distinct ranks), which the normal approximation tracks to about
    0.01; swapping the two bounds or mis-weighting a sign moves the p-values by 0.1 or more."""
    rng = np.random.default_rng(4)
    yc = rng.normal(size=60)
    yt = yc + 0.35 + rng.normal(size=60)
    d = yt - yc
    ranks = stats.rankdata(np.abs(d)).astype(int)
    t = int(ranks[d > 0].sum())
    tab = rosenbaum_bounds((yt, yc), gamma=[1.5, 2, 3])
    for g in (1.5, 2.0, 3.0):
        upper = _exact_signed_rank_sf(ranks, t, g / (1 + g))
        lower = _exact_signed_rank_sf(ranks, t, 1 / (1 + g))
        assert tab.loc[g, "p_upper"] == pytest.approx(upper, abs=0.012)
        assert tab.loc[g, "p_lower"] == pytest.approx(lower, abs=0.012)
        assert lower < 0.01 < upper


def test_rosenbaum_from_matching_result():
    df, _ = confounded(600, seed=31)
    r = NearestNeighborMatch(df, "d", ["x1", "x2", "x3"]).fit().att("y")
    tab = rosenbaum_bounds(r)
    assert tab.attrs["n_pairs"] == r.n["n_treated"]
    assert tab.attrs["gamma_critical"] > 1


# -- E-values ------------------------------------------------------------------------------
def test_evalue_published_example():
    """VanderWeele & Ding (2017), Ann Intern Med 167:268: RR 3.9 (95% CI 1.8 to 8.7) gives
    an E-value of 7.26 and 3.00 for the lower limit."""
    e = evalue(3.9, 1.8, 8.7)
    assert e["point"] == pytest.approx(7.26, abs=0.005)
    assert e["ci"] == pytest.approx(3.00, abs=0.005)


def test_evalue_protective_and_null_interval():
    e = evalue(0.5, 0.3, 0.8)
    assert e["point"] == pytest.approx(2 + np.sqrt(2))  # 1/RR = 2
    assert e["ci"] == pytest.approx(1.25 + np.sqrt(1.25 * 0.25))
    assert evalue(1.3, 0.9, 1.8)["ci"] == 1.0


def test_evalue_common_outcome_hazard_ratio():
    """A hazard ratio of a common outcome goes to the risk-ratio scale as in VanderWeele
    (2020, Biometrics 76(3)), which R's EValue package uses in ``toRR.HR``:
    RR = (1 - 0.5^sqrt(HR)) / (1 - 0.5^sqrt(1/HR)). The package's own example,
    ``evalues.HR(0.56, 0.46, 0.69, rare = FALSE)``, then gives RR 0.670 and E-values 2.35
    (point) and 1.91 (upper limit, the one nearer 1): worked out by hand from that formula
    (R's EValue is not on this machine's package mirrors)."""
    e = evalue(0.56, 0.46, 0.69, scale="HR", rare=False)
    assert e["rr"] == pytest.approx(0.6701, abs=5e-4)
    assert e["point"] == pytest.approx(2.35, abs=0.005)
    assert e["ci"] == pytest.approx(1.91, abs=0.005)
    # the conversion is symmetric on the log scale and shrinks a ratio towards 1
    assert evalue(1 / 0.56, scale="HR", rare=False)["rr"] == pytest.approx(1 / e["rr"])
    assert 1 < evalue(1.73, scale="HR", rare=False)["rr"] < 1.73
    assert evalue(1.73, scale="HR", rare=True)["rr"] == 1.73


def test_evalue_risk_difference():
    e = evalue(0.1, scale="RD", baseline_risk=0.2)  # RR = 0.3 / 0.2
    assert e["rr"] == pytest.approx(1.5)
    assert e["point"] == pytest.approx(1.5 + np.sqrt(1.5 * 0.5))


# -- randomisation inference -------------------------------------------------------------
def test_exact_randomization_small_example():
    """4 treated, 4 controls, outcomes 1..8 with the treated the four largest: of the
    C(8,4)=70 assignments, only this one and its mirror reach |diff| = 4 (two-sided p 2/70)."""
    df = pd.DataFrame({"y": np.arange(1.0, 9.0), "d": [0, 0, 0, 0, 1, 1, 1, 1]})
    res = randomization_test(df, "y", "d")
    assert res.extra["exact"] and res.extra["n_assignments"] == 70
    assert res.params["effect"] == 4.0
    assert res.pvalues["effect"] == pytest.approx(2 / 70)
    greater = randomization_test(df, "y", "d", alternative="greater")
    assert greater.pvalues["effect"] == pytest.approx(1 / 70)


def test_randomization_plot_shows_the_null_distribution_and_the_tail():
    """The figure is the randomisation distribution with the observed difference, the
    assignments at least as extreme (which make the p-value) in their own colour."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    df = pd.DataFrame({"y": np.arange(1.0, 9.0), "d": [0, 0, 0, 0, 1, 1, 1, 1]})
    res = randomization_test(df, "y", "d")
    ax = res.plot(lang="nl")
    tail = ax.containers[1]  # the second histogram: at least as extreme as observed
    assert sum(b.get_height() for b in tail) == 2  # this one and its mirror (p = 2/70)
    assert sum(b.get_height() for c in ax.containers for b in c) == 70
    assert ax.lines[0].get_xdata()[0] == 4.0
    assert ax.get_title() == "Randomisatietoets: p = 0,029 over 70 toewijzingen"
    assert res.plot().get_xlabel() == "difference (treated minus control)"
    plt.close("all")


def test_stratified_exact_equals_enumeration():
    rng = np.random.default_rng(2)
    strata = np.repeat([0, 1, 2], [5, 4, 6])
    d = np.array([1, 1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 0, 0, 0])
    y = rng.normal(size=15) + 0.8 * d
    df = pd.DataFrame({"y": y, "d": d, "s": strata})
    res = randomization_test(df, "y", "d", strata="s")

    def stat(z):
        out = 0.0
        for s in range(3):
            m = strata == s
            lam = d[m].sum() / d.sum()
            out += lam * (y[m][z[m] == 1].mean() - y[m][z[m] == 0].mean())
        return out

    obs = stat(d)
    per = []
    for s in range(3):
        idx = np.flatnonzero(strata == s)
        per.append(list(itertools.combinations(idx, int(d[idx].sum()))))
    vals = []
    for combo in itertools.product(*per):
        z = np.zeros(15, dtype=int)
        z[list(itertools.chain(*combo))] = 1
        vals.append(stat(z))
    vals = np.array(vals)
    assert res.params["effect"] == pytest.approx(obs)
    assert res.pvalues["effect"] == pytest.approx(np.mean(np.abs(vals) >= abs(obs) - 1e-12))


def test_binary_greater_equals_fisher():
    y = np.array([1] * 7 + [0] * 1 + [1] * 2 + [0] * 6)
    d = np.array([1] * 8 + [0] * 8)
    res = randomization_test(pd.DataFrame({"y": y, "d": d}), "y", "d", alternative="greater")
    assert res.extra["exact"]
    ref = stats.fisher_exact([[7, 1], [2, 6]], alternative="greater").pvalue
    assert res.pvalues["effect"] == pytest.approx(ref)


def test_monte_carlo_close_to_exact_and_interval_inverts():
    rng = np.random.default_rng(4)
    df = pd.DataFrame({"d": np.r_[np.ones(9), np.zeros(9)].astype(int)})
    df["y"] = rng.normal(size=18) + 1.0 * df["d"]
    exact = randomization_test(df, "y", "d")
    mc = randomization_test(df, "y", "d", exact_max=10, n_permutations=20000, seed=1)
    assert exact.extra["exact"] and not mc.extra["exact"]
    assert mc.pvalues["effect"] == pytest.approx(exact.pvalues["effect"], abs=0.01)
    ci = exact.conf_int()
    lo, hi = ci.loc["effect", "lower"], ci.loc["effect", "upper"]
    assert lo < exact.params["effect"] < hi
    # just inside the bounds the shifted test does not reject, just outside it does
    for b, step in ((lo, -0.05), (hi, 0.05)):
        shifted = df.assign(y=df["y"] - (b - step / 5) * df["d"])
        assert randomization_test(shifted, "y", "d").pvalues["effect"] > 0.05
        shifted = df.assign(y=df["y"] - (b + step) * df["d"])
        assert randomization_test(shifted, "y", "d").pvalues["effect"] <= 0.05


def test_randomization_on_matched_pairs():
    df, _ = confounded(300, seed=32)
    m = NearestNeighborMatch(df, "d", ["x1", "x2", "x3"]).fit()
    sets = m.matched
    frame = df.iloc[sets["row"]].assign(set_id=sets["set_id"].to_numpy())
    res = randomization_test(frame, "y", "d", strata="set_id", n_permutations=2000)
    att = m.att("y").params["ATT"]
    assert res.params["effect"] == pytest.approx(att)
    assert not res.extra["exact"]


# -- power and MDE --------------------------------------------------------------------------
def test_power_continuous_matches_normal_theory():
    pw = power(0.3, 200, outcome="continuous", sd=1.0, n_sim=3000, seed=5)
    se = np.sqrt(2 / 200)
    theory = stats.norm.sf(1.96 - 0.3 / se) + stats.norm.cdf(-1.96 - 0.3 / se)
    assert abs(pw["power"] - theory) < 4 * pw["mc_se"] + 0.01


def test_type_one_error_at_most_alpha():
    for design in ("two_groups", "matched_pairs"):
        pw = power(0.0, 30, design=design, outcome="binary", baseline=0.3, n_sim=3000)
        assert pw["power"] <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / 3000)


def test_mde_close_to_analytic_for_large_groups():
    mde = minimum_detectable_effect(300, outcome="continuous", n_sim=2000, seed=6, tol=1e-3)
    assert mde["mde"] == pytest.approx(analytic_mde(300), rel=0.06)
    assert mde["power"] >= 0.8


def test_pilot_mde_and_pairing_helps():
    """A few dozen participants: the MDE on employment is large; pairing (correlated
    outcomes within pairs) lowers it."""
    two = minimum_detectable_effect(40, baseline=0.25, n_sim=1500, seed=7, tol=5e-3)
    pairs = minimum_detectable_effect(
        40,
        design="matched_pairs",
        baseline=0.25,
        pair_correlation=0.6,
        n_sim=1500,
        seed=7,
        tol=5e-3,
    )
    assert 0.2 < two["mde"] < 0.45
    assert pairs["mde"] < two["mde"]


def test_power_rejects_impossible_probability():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="probability"):
            power(0.9, 30, baseline=0.3)
