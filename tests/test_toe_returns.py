"""The return to benefit as a further hazard sharing V (``TimingOfEvents(return_spells=...)``).

Data-generating process written here: persons have up to three benefit spells separated by
job spells. Two unobserved types: the motivated exit faster, enter the programme (much)
faster and, once at work, hardly ever return to benefit; the others return within months.
Nazorg (aftercare after the programme) lowers the return hazard. A person's second and
third spells therefore exist mainly for the unmotivated: a model that shares V across the
spells without describing the return misreads the persons with a single spell (mostly
motivated, which "no return" reveals) and overstates the programme effect; the model with
the return hazard recovers it.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from toe_checks import assert_gradient_and_scores
from werkeffect.exceptions import DataValidationError
from werkeffect.survival import TimingOfEvents
from werkeffect.survival._toe_data import build_data, build_layout
from werkeffect.survival._toe_fit import add_point_start
from werkeffect.survival._toe_lik import Likelihood

DELTA = 0.3
H_EXIT = 0.03
H_PROG = 0.02
H_RETURN = 0.15
V_EXIT = np.log(2.0)
V_PROG = np.log(8.0)
V_RETURN = -4.0  # the motivated hardly ever return to benefit
NAZORG = -0.5
P_MOTIVATED = 0.4
WINDOW = 96.0  # months of observation from each person's first spell
CUTS = [0, 6, 12, 24]


def simulate_returns(n_persons, seed, max_spells=3):
    """Benefit spells (one row each) and the job spells after exits (one row each).

    Vectorised over persons, one step per spell number; everything is censored at WINDOW
    months after the person's first spell started.
    """
    rng = np.random.default_rng(seed)
    motivated = rng.random(n_persons) < P_MOTIVATED
    clock = np.zeros(n_persons)  # months since the person's first spell started
    alive = np.ones(n_persons, dtype=bool)  # a benefit spell starts at clock
    spells, jobs = [], []
    for k in range(max_spells):
        idx = np.flatnonzero(alive)
        typ = motivated[idx]
        x = rng.normal(size=len(idx))
        he = H_EXIT * np.exp(0.3 * x + np.where(typ, V_EXIT, 0.0))
        hp = H_PROG * np.exp(-0.2 * x + np.where(typ, V_PROG, 0.0))
        tp = rng.exponential(1 / hp)
        e = rng.exponential(size=len(idx))
        T = np.where(e < he * tp, e / he, tp + (e - he * tp) / (he * np.exp(DELTA)))
        cens = WINDOW - clock[idx]
        event = (T <= cens).astype(int)
        T = np.minimum(T, cens)
        ps = np.where(tp < T, tp, np.nan)
        spells.append(
            pd.DataFrame({"pid": idx, "spell": k, "T": T, "event": event, "ps": ps, "x": x})
        )
        # the job spell after an exit: return to benefit or censoring at the window's end
        out = event == 1
        j = idx[out]
        nazorg = np.isfinite(ps[out]).astype(float)
        hr = H_RETURN * np.exp(NAZORG * nazorg + np.where(motivated[j], V_RETURN, 0.0))
        R = rng.exponential(1 / hr)
        start = clock[j] + T[out]
        returned = (R <= WINDOW - start).astype(int)
        jobs.append(
            pd.DataFrame(
                {
                    "pid": j,
                    "duration": np.minimum(R, WINDOW - start),
                    "returned": returned,
                    "nazorg": nazorg,
                }
            )
        )
        alive[:] = False
        alive[j[returned == 1]] = True
        clock[j] = start + R
    jb = pd.concat(jobs, ignore_index=True)
    # a spell ending exactly at the window's end leaves no job spell to observe
    jb = jb[jb["duration"] > 0].reset_index(drop=True)
    return pd.concat(spells, ignore_index=True), jb


KW = dict(
    duration="T", event="event", programme_start="ps", covariates=["x"], id="pid",
    baseline_cuts=CUTS,
)  # fmt: skip
RKW = dict(return_duration="duration", return_event="returned", return_covariates=["nazorg"])


@pytest.fixture(scope="module")
def world():
    df, jb = simulate_returns(6000, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warnings expected on this clean design
        with_return = TimingOfEvents(df, return_spells=jb, return_cuts=CUTS, **KW, **RKW).fit()
        shared_only = TimingOfEvents(df, **KW).fit()
    return df, jb, with_return, shared_only


def test_return_model_recovers_delta_and_shared_v_alone_is_biased(world):
    df, jb, res, naive_return = world
    # the design: several spells for many persons, returns of both kinds
    assert df["pid"].nunique() < len(df) and (df["spell"] == 2).sum() > 1000
    assert res.n["n_job_spells"] == len(jb) and 0 < res.n["n_returns"] < len(jb)
    assert res.converged and res.n_mass_points >= 2
    d, se = res.params["treatment"], res.std_errors["treatment"]
    assert abs(d - DELTA) < 2.5 * se, (d, se)
    # sharing V over the spells without the return: biased upward, clearly
    assert naive_return.converged
    d0, se0 = naive_return.params["treatment"], naive_return.std_errors["treatment"]
    assert d0 - DELTA > 3 * se0, (d0, se0)
    # the return's own parameters: nazorg's effect, on the original (0/1) scale
    g, gse = res.params["return:nazorg"], res.std_errors["return:nazorg"]
    assert abs(g - NAZORG) < 2.5 * gse, (g, gse)
    # the return's baseline belongs to mass point 1 (here the unmotivated: v:return of the
    # other point is about V_RETURN); the true one is flat at H_RETURN
    mp = res.mass_points
    assert mp.loc[1, "v:return"] == mp["v:return"].max()
    base = [n for n in res.params.index if n.startswith("return:baseline")]
    assert base == [
        f"return:baseline[{a},{b})" for a, b in zip(CUTS, CUTS[1:] + ["inf"], strict=True)
    ]
    for n in base:
        assert abs(res.params[n] - np.log(H_RETURN)) < 3 * res.std_errors[n], n
    v, vse = res.params["het:v2:return"], res.std_errors["het:v2:return"]
    assert abs(v - V_RETURN) < 3 * vse, (v, vse)


def test_mass_points_tie_the_return_to_the_selection(world):
    _, _, res, _ = world
    mp = res.mass_points
    assert "v:return" in mp.columns and "exp_v:return" in mp.columns
    # the point with the highest programme propensity is the one that hardly returns
    hi = mp["v:programme"].idxmax()
    assert mp.loc[hi, "v:return"] == mp["v:return"].min()
    assert mp.loc[hi, "v:return"] - mp["v:return"].max() < -2.0
    assert any("return to benefit" in a for a in res.assumptions)
    assert "v:return" in res.summary()
    spec = res.extra["specification"]
    assert spec["return_spells"] is True and spec["return_cuts"] == CUTS


def test_exit_probabilities_are_about_the_benefit_spell(world):
    """The ATT does not involve the return: the benefit-spell parameters of the model with
    the return, put into the model without it, give the same exit probabilities."""
    from werkeffect.survival._toe_fit import exit_probabilities

    df, _, res, _ = world
    ep = res.exit_probabilities
    assert 0 < ep.params["p_no_programme_12m"] < ep.params["p_programme_12m"] < 1
    assert ep.params["att_exit_exit_12m"] > 0
    st = res._state
    h = np.array([6.0, 12.0])
    p1, p0, rows = exit_probabilities(st.theta, st.lay, st.lik.data, h, st.interest)
    model0 = TimingOfEvents(df, **KW)
    data0 = build_data(**model0._arrays)
    lay0 = build_layout(
        data0, exit_labels=model0.labels, exit_cov_names=["x"], prog_cov_names=["x"],
        interest=0,
    ).with_mass_points(st.lay.M)  # fmt: skip
    assert not any(n.startswith("return") or n.endswith(":return") for n in lay0.names)
    theta0 = np.array([st.theta[st.lay.names.index(n)] for n in lay0.names])
    q1, q0, rows0 = exit_probabilities(theta0, lay0, data0, h, 0)
    np.testing.assert_array_equal(rows, rows0)
    np.testing.assert_allclose(p1, q1, rtol=1e-12)
    np.testing.assert_allclose(p0, q0, rtol=1e-12)


def test_robust_standard_errors_with_returns(world):
    df, jb, res, _ = world
    rob = TimingOfEvents(df, return_spells=jb, return_cuts=CUTS, **KW, **RKW).fit(cov_type="robust")
    np.testing.assert_allclose(rob.params.to_numpy(), res.params.to_numpy(), atol=1e-5)
    ratio = rob.std_errors["treatment"] / res.std_errors["treatment"]
    assert 0.75 < ratio < 1.33, ratio  # correctly specified model: sandwich ~ Hessian


# ----------------------------------------------------------------------------------------
def test_return_likelihood_written_out_by_hand():
    """Two persons, two mass points. A: benefit spell with an exit at 5, a job spell
    (nazorg z = 1) ending in a return at 3, a second benefit spell censored at 2. B:
    programme at 1, exit at 4, a job spell (z = 0) with a return at 6 (second baseline
    interval of the return hazard, cuts 0 and 4)."""
    data = build_data(
        person=np.array([0, 0, 1]),
        T=np.array([5.0, 2.0, 4.0]),
        entry=np.zeros(3),
        cause=np.array([1, 0, 1]),
        ps=np.array([np.nan, np.nan, 1.0]),
        X=np.zeros((3, 0)),
        Xp=np.zeros((3, 0)),
        K=1,
        cuts=np.array([0.0]),
        pcuts=np.array([0.0]),
        ecuts=np.array([0.0]),
        returns=dict(
            person=np.array([0, 1]),
            U=np.array([3.0, 6.0]),
            event=np.array([1.0, 1.0]),
            Z=np.array([[1.0], [0.0]]),
            cuts=np.array([0.0, 4.0]),
        ),
    )
    lay = build_layout(
        data, exit_labels=["exit"], exit_cov_names=[], prog_cov_names=[], interest=0,
        return_cov_names=["z"],
    ).with_mass_points(2)  # fmt: skip
    assert lay.names == [
        "exit:exit:baseline[0,inf)", "treatment", "programme:baseline[0,inf)",
        "return:baseline[0,4)", "return:baseline[4,inf)", "return:z",
        "het:v2:exit", "het:v2:programme", "het:v2:return", "het:logit_p2",
    ]  # fmt: skip
    a, delta, b, c1, c2, gam = -2.0, 0.4, -1.5, -2.5, -1.8, -0.7
    ve, vp, vr, w = 0.8, -0.6, 1.1, 0.3
    theta = np.array([a, delta, b, c1, c2, gam, ve, vp, vr, w])
    h = np.exp(a + np.array([0.0, ve]))
    hp = np.exp(b + np.array([0.0, vp]))
    r1 = np.exp(c1 + np.array([0.0, vr]))
    r2 = np.exp(c2 + np.array([0.0, vr]))
    p = np.exp([0.0, w]) / np.exp([0.0, w]).sum()
    job_a = r1 * np.exp(gam) * np.exp(-r1 * np.exp(gam) * 3)
    spells_a = h * np.exp(-h * 5 - hp * 5) * np.exp(-h * 2 - hp * 2)
    job_b = r2 * np.exp(-r1 * 4 - r2 * 2)
    spell_b = np.exp(-h - hp) * hp * h * np.exp(delta) * np.exp(-h * np.exp(delta) * 3)
    expected = np.log((p * spells_a * job_a).sum()) + np.log((p * spell_b * job_b).sum())
    lik = Likelihood(data)
    np.testing.assert_allclose(lik.loglik(theta, lay, grad=False), expected, rtol=1e-12)


def test_gradient_scores_and_candidate_gain_with_returns():
    """Analytic gradient against central differences, scores summing to it, and the
    candidate gain equal to the likelihood of the model with the added point — with the
    return process, left-truncated spells (the stock's own probabilities) and 3 points."""
    df, jb = simulate_returns(300, seed=3)
    rng = np.random.default_rng(0)
    first = (df["spell"] == 0) & (rng.random(len(df)) < 0.3)
    df["entry"] = np.where(first, df["T"] * rng.uniform(0.1, 0.9, len(df)), 0.0)
    jb["age"] = rng.normal(40, 10, len(jb))
    model = TimingOfEvents(
        df, entry="entry", return_spells=jb, return_cuts=[0, 6, 12], **KW,
        **{**RKW, "return_covariates": ["nazorg", "age"]},
    )  # fmt: skip
    data = build_data(**model._arrays)
    assert data.n_groups == 2 and len(data.trunc) > 20
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lay1 = build_layout(
            data, exit_labels=model.labels, exit_cov_names=["x"], prog_cov_names=["x"],
            interest=0, return_cov_names=["nazorg", "age"],
        )  # fmt: skip
    lay = lay1.with_mass_points(3)
    assert lay.Q == 3 and lay.K == 1 and "het:v3:return" in lay.names
    lik = Likelihood(data)
    theta = rng.normal(scale=0.3, size=lay.n_params)
    theta[: lay.n_struct] -= 2.0 * (rng.random(lay.n_struct) < 0.5)
    assert_gradient_and_scores(lik, lay, theta)
    # candidates near the current points (far ones can raise a person's likelihood by more
    # than exp(700), where candidate_gain caps the ratio: a screening device, not exact)
    cands = rng.normal(scale=0.3, size=(5, lay.Q))
    eps = (0.05, 0.3)
    gains = lik.candidate_gain(theta, lay, cands, eps)
    big = lay.with_mass_points(4)
    for e, ep in enumerate(eps):
        for i, c in enumerate(cands):
            direct = lik.loglik(add_point_start(theta, lay, c, ep), big, grad=False)
            np.testing.assert_allclose(gains[e, i], direct, rtol=1e-10)


def test_return_spells_errors():
    df, jb = simulate_returns(200, seed=4)
    kw = {k: v for k, v in KW.items() if k != "id"}
    with pytest.raises(ValueError, match="id="):
        TimingOfEvents(df, return_spells=jb, **kw, **RKW)
    with pytest.raises(DataValidationError, match="lack column"):
        TimingOfEvents(df, return_spells=jb, **KW)  # default columns duration/event
    with pytest.raises(DataValidationError, match="without a benefit spell"):
        TimingOfEvents(df, return_spells=jb.assign(pid=jb["pid"] + 10_000), **KW, **RKW)
    extra = jb.iloc[[0]]
    with pytest.raises(DataValidationError, match="more job spells than exits"):
        TimingOfEvents(df, return_spells=pd.concat([jb, extra, extra]), **KW, **RKW)
    with pytest.raises(DataValidationError, match="0/1"):
        TimingOfEvents(df, return_spells=jb.assign(returned=2), **KW, **RKW)
    with pytest.raises(DataValidationError, match="non-positive"):
        TimingOfEvents(df, return_spells=jb.assign(duration=0.0), **KW, **RKW)
    with pytest.raises(ValueError, match="return_cuts"):
        TimingOfEvents(df, return_spells=jb, return_cuts=[1, 6], **KW, **RKW)
    with pytest.raises(ValueError, match="return_spells"):
        TimingOfEvents(df, return_covariates=["nazorg"], **KW)
