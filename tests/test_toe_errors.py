"""Clear errors and warnings of the timing-of-events model, and the input formats."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from werkeffect.exceptions import DataValidationError, EstimationError, EstimationWarning
from werkeffect.survival import TimingOfEvents


def homogeneous(n=1500, seed=2, delta=0.3):
    """No unobserved heterogeneity at all."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    he = 0.04 * np.exp(0.3 * x)
    tp = rng.exponential(1 / (0.03 * np.exp(-0.2 * x)))
    e = rng.exponential(size=n)
    T = np.where(e < he * tp, e / he, tp + (e - he * tp) / (he * np.exp(delta)))
    event = (T <= 30).astype(int)
    T = np.minimum(T, 30.0)
    return pd.DataFrame({"T": T, "event": event, "ps": np.where(tp < T, tp, np.nan), "x": x})


def spec(**kw):
    out = dict(
        duration="T",
        event="event",
        programme_start="ps",
        covariates=["x"],
        baseline_cuts=[0, 6, 12],
    )
    out.update(kw)
    return out


def test_no_programme_entries_raises():
    df = homogeneous()
    df["ps"] = np.nan
    with pytest.raises(EstimationError, match="no programme entries"):
        TimingOfEvents(df, **spec())
    # programme starts only after the spells ended do not count either
    df["ps"] = df["T"] + 1
    with pytest.raises(EstimationError, match="no programme entries"):
        TimingOfEvents(df, **spec())


def test_all_entries_at_same_duration_raises():
    df = homogeneous()
    df["ps"] = np.where(df["T"] > 3, 3.0, np.nan)
    with pytest.raises(EstimationError, match="same duration"):
        TimingOfEvents(df, **spec())


def test_non_convergence_warns_and_is_reported():
    df = homogeneous()
    with pytest.warns(EstimationWarning, match="did not converge: the optimiser hit maxiter=2"):
        res = TimingOfEvents(df, **spec(max_mass_points=1)).fit(maxiter=2)
    assert not res.converged
    assert res.diagnostics["newton_decrement"] > 1e-6


def test_mass_points_collapsing_to_one_warns():
    df = homogeneous()
    with pytest.warns(EstimationWarning, match="collapsed to one"):
        res = TimingOfEvents(df, **spec(max_mass_points=3)).fit()
    assert res.n_mass_points == 1
    # and the estimate is then the one of the model without heterogeneity
    assert res.params["treatment"] == pytest.approx(
        res.no_heterogeneity.params["treatment"], abs=1e-8
    )
    assert abs(res.params["treatment"] - 0.3) < 3 * res.std_errors["treatment"]


def test_missing_columns_and_bad_values():
    df = homogeneous()
    with pytest.raises(DataValidationError, match="lack column"):
        TimingOfEvents(df, **spec(covariates=["age"]))
    bad = df.copy()
    bad.loc[3, "T"] = -1
    with pytest.raises(DataValidationError, match="non-positive"):
        TimingOfEvents(bad, **spec())
    bad = df.copy()
    bad.loc[3, "x"] = np.nan
    with pytest.raises(DataValidationError, match="missing values"):
        TimingOfEvents(bad, **spec())
    with pytest.raises(ValueError, match="start at 0"):
        TimingOfEvents(df, **spec(baseline_cuts=[1, 6]))
    with pytest.raises(ValueError, match="exactly one"):
        TimingOfEvents(df, **spec(cause="event"))


def test_empty_baseline_interval_is_merged_with_warning():
    df = homogeneous()
    with pytest.warns(EstimationWarning, match="merged"):
        res = TimingOfEvents(df, **spec(baseline_cuts=[0, 6, 12, 100], max_mass_points=1)).fit()
    assert "exit:exit:baseline[12,inf)" in res.params.index


def test_start_stop_rows_give_the_same_fit_as_one_row_per_spell():
    """episodes()-style rows (split at programme start) are collapsed per spell."""
    df = homogeneous(n=800).reset_index(names="spell_id")
    df["person_id"] = df["spell_id"] // 2
    df["cause"] = df["event"]
    rows = []
    for r in df.itertuples(index=False):
        cuts = [0.0] + ([r.ps] if not np.isnan(r.ps) else []) + [r.T]
        for a, b in zip(cuts[:-1], cuts[1:], strict=True):
            rows.append(
                {
                    "person_id": r.person_id,
                    "spell_id": r.spell_id,
                    "start": a,
                    "stop": b,
                    "event": int(b == r.T and r.event == 1),
                    "cause": int(b == r.T) * r.cause,
                    "programme_start": r.ps,
                    "x": r.x,
                }
            )
    ep = pd.DataFrame(rows).sample(frac=1.0, random_state=1)  # order must not matter
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EstimationWarning)
        a = TimingOfEvents.from_episodes(ep, covariates=["x"], baseline_cuts=[0, 6, 12]).fit()
        b = TimingOfEvents(
            df, **spec(id="person_id", cause="cause", event=None, duration="T")
        ).fit()
    np.testing.assert_allclose(a.params.to_numpy(), b.params.to_numpy(), atol=1e-6)
    varying = ep.copy()
    varying["x"] = np.arange(len(varying), dtype=float)
    with pytest.raises(DataValidationError, match="vary within spells"):
        TimingOfEvents.from_episodes(varying, covariates=["x"])


def test_result_interface():
    df = homogeneous()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EstimationWarning)
        res = TimingOfEvents(df, **spec(max_mass_points=1)).fit()
    frame = res.to_frame()
    assert {"term", "estimate", "std_error", "lower", "upper", "p_value"} <= set(frame.columns)
    ci = res.conf_int(0.9)
    assert ci.loc["treatment", "lower"] < res.params["treatment"] < ci.loc["treatment", "upper"]
    boot = res.att(horizons=(12,), method="bootstrap", n_boot=200, seed=1)
    delta = res.att(horizons=(12,))
    assert boot.params["att_exit_exit_12m"] == pytest.approx(delta.params["att_exit_exit_12m"])
    assert boot.std_errors.iloc[-1] == pytest.approx(delta.std_errors.iloc[-1], rel=0.2)
    # the participants' own ATT carries the scatter of their 0/1 outcomes; a population ATT
    # the spread of their expected effects: both add to the parameter uncertainty
    pop = res.att(horizons=(12,), target="population")
    assert pop.params.equals(delta.params)
    assert (pop.std_errors > 0).all() and not np.allclose(pop.std_errors, delta.std_errors)
    with pytest.raises(ValueError, match="target"):
        res.att(target="everyone")
    import matplotlib

    matplotlib.use("Agg")
    ax = res.plot()
    assert ax.get_xlabel() == "months since programme start"


def test_flat_heterogeneity_parameters_are_held_fixed():
    """A mass point one group does not use (probability ~0 for the inflow, used by the stock)
    leaves its logit probability without information: held fixed like a parameter at a bound
    instead of making the Hessian singular (and the fit 'not converged'); locations likewise."""
    from werkeffect.survival._toe_fit import flat_heterogeneity

    class Lay:  # 3 structural parameters, 2 locations, 2 logit weights
        @staticmethod
        def het_slices():
            return slice(3, 5), slice(5, 7)

    H = -np.diag([5.0, 5.0, 5.0, 2.0, 1e-9, 3.0, 1e-10])
    flat = flat_heterogeneity(H, Lay(), n_persons=1000)
    assert flat.tolist() == [False, False, False, False, True, False, True]
    # seed 86 of the Monte Carlo: a return location run off to -4.7 kept information 5e-4
    # among ~40,000 persons (indefinite Hessian, 'not converged'); 0.1 is real information
    H = -np.diag([5.0, 5.0, 5.0, 0.1, 5e-4, 3.0, 2.0])
    flat = flat_heterogeneity(H, Lay(), n_persons=40_000)
    assert flat.tolist() == [False, False, False, False, True, False, False]


def central_difference_att_se(res, h: np.ndarray) -> np.ndarray:
    """The ATT's delta-method standard errors with a Jacobian from central differences in
    every free parameter (the slow way, as a reference)."""
    st = res._state

    def fun(free):
        th = st.theta.copy()
        th[st.free] = free
        p1, p0, _ = st._stats(th, h)
        return np.concatenate([p1.mean(0), p0.mean(0), (p1 - p0).mean(0)])

    base = st.theta[st.free]
    J = np.empty((3 * len(h), len(base)))
    for i in range(len(base)):
        e = np.zeros(len(base))
        e[i] = 1e-5 * max(1.0, abs(base[i]))
        J[:, i] = (fun(base + e) - fun(base - e)) / (2 * e[i])
    param_var = np.einsum("ij,jk,ik->i", J, st.cov_int, J)
    p1s, p0s, rows = st._stats(st.theta, h)
    n_t = len(rows)
    sample = (
        np.concatenate(
            [
                (p1s * (1 - p1s)).sum(0),
                (p0s * (1 - p0s)).sum(0),
                ((p1s - p0s) * (1 - p1s + p0s)).sum(0),
            ]
        )
        / n_t**2
    )
    return np.sqrt(param_var + sample)


def test_delta_method_forward_differences_match_central_ones():
    """The ATT's delta-method standard errors use forward differences (half the work of
    central ones); they agree with a central-difference Jacobian to 1e-6."""
    df = homogeneous(n=1200)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EstimationWarning)
        res = TimingOfEvents(df, **spec(max_mass_points=2)).fit()
    h = np.array([6.0, 12.0])
    att = res.att(horizons=tuple(h))
    assert np.allclose(att.std_errors.to_numpy(), central_difference_att_se(res, h), rtol=1e-6)


def test_delta_method_chain_rule_with_returns_stock_and_two_exits():
    """The coefficients' derivatives through each spell's linear predictor, and the zero
    derivatives of the return process, give the same standard errors as central
    differences in every parameter: two exit causes, programme covariates of their own,
    left-truncated spells with their own mass-point probabilities, the return to benefit."""
    from test_toe_returns import simulate_returns

    df, jb = simulate_returns(1500, seed=4)
    rng = np.random.default_rng(4)
    first = (df["spell"] == 0) & (rng.random(len(df)) < 0.3)
    df["entry"] = np.where(first, df["T"] * rng.uniform(0.1, 0.9, len(df)), 0.0)
    df["cause"] = np.where(df["event"] == 1, 1 + (rng.random(len(df)) < 0.3), 0)
    df["z"] = rng.normal(size=len(df))
    model = TimingOfEvents(
        df, duration="T", cause="cause", programme_start="ps", id="pid", entry="entry",
        covariates=["x", "z"], programme_covariates=["x"], baseline_cuts=[0, 6, 12],
        max_mass_points=2, return_spells=jb, return_duration="duration",
        return_event="returned", return_covariates=["nazorg"], return_cuts=[0, 6, 12],
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EstimationWarning)
        res = model.fit()
    st = res._state
    assert st.lay.K == 2 and st.lay.n_return == 1 and st.lay.n_groups == 2 and st.lay.M == 2
    h = np.array([6.0, 12.0])
    att = res.att(horizons=tuple(h))
    assert np.allclose(att.std_errors.to_numpy(), central_difference_att_se(res, h), rtol=1e-6)


def test_delta_method_takes_one_pass_per_parameter(monkeypatch):
    """Forward differences: the estimate, one pass over the participants per free parameter
    that is not a covariate coefficient, and one per process for all its coefficients
    (central differences would take two per parameter)."""
    import werkeffect.survival.timing_of_events as toe_module

    df = homogeneous(n=600)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EstimationWarning)
        res = TimingOfEvents(df, **spec(max_mass_points=2)).fit()
    calls = []
    original = toe_module.exit_probabilities

    def counted(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(toe_module, "exit_probabilities", counted)
    res.att(horizons=(12,))
    st = res._state
    betas = np.zeros(len(st.theta), bool)
    for sl in st.lay.beta_slice:
        betas[sl] = True
    # the covariate coefficients of each process (exits, programme) share one pass
    n_processes = st.lay.K + 1
    assert len(calls) == 1 + n_processes + int((st.free & ~betas).sum())
    # and the progress bar's total is the number of passes made
    assert len(calls) == 1 + st._delta_passes()


def test_att_progress_bar_does_not_change_the_result(capsys):
    df = homogeneous(n=800)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EstimationWarning)
        res = TimingOfEvents(df, **spec(max_mass_points=1)).fit()
    quiet = res.att(horizons=(12,), progress=False)
    assert "passes over the participants" not in capsys.readouterr().err
    shown = res.att(horizons=(12,), progress=True)
    assert "passes over the participants" in capsys.readouterr().err
    assert shown.params.equals(quiet.params) and shown.std_errors.equals(quiet.std_errors)
    with pytest.raises(ValueError, match="method"):
        res.att(method="jackknife")


def test_fit_progress_bar_does_not_change_the_result(capsys):
    """At national scale the fit runs for an hour: it shows which number of mass points it
    is at. The bar changes nothing in the result."""
    df = homogeneous(n=800)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EstimationWarning)
        quiet = TimingOfEvents(df, **spec(max_mass_points=2)).fit(progress=False)
        assert "timing-of-events:" not in capsys.readouterr().err
        shown = TimingOfEvents(df, **spec(max_mass_points=2)).fit(progress=True)
    err = capsys.readouterr().err
    assert "timing-of-events:" in err and "passes over the participants" in err
    assert shown.params.equals(quiet.params) and shown.std_errors.equals(quiet.std_errors)


def test_forward_difference_hessian_gives_the_central_difference_standard_errors():
    """The fit's Hessian: forward differences of the analytic gradient (one gradient per
    parameter) give the standard errors of central differences (two per parameter) to 1e-5,
    on a model with two mass points, two exits, a stock and the return process."""
    from test_toe_returns import simulate_returns
    from werkeffect.survival._toe_fit import numerical_hessian

    df, jb = simulate_returns(1500, seed=4)
    rng = np.random.default_rng(4)
    first = (df["spell"] == 0) & (rng.random(len(df)) < 0.3)
    df["entry"] = np.where(first, df["T"] * rng.uniform(0.1, 0.9, len(df)), 0.0)
    df["cause"] = np.where(df["event"] == 1, 1 + (rng.random(len(df)) < 0.3), 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EstimationWarning)
        res = TimingOfEvents(
            df, duration="T", cause="cause", programme_start="ps", id="pid", entry="entry",
            covariates=["x"], baseline_cuts=[0, 6, 12], max_mass_points=2, return_spells=jb,
            return_duration="duration", return_event="returned", return_covariates=["nazorg"],
        ).fit()  # fmt: skip
    st = res._state
    lik, lay, theta = st.lik, st.lay, st.theta
    central = np.empty((len(theta), len(theta)))
    for i in range(len(theta)):
        h = 1e-5 * max(1.0, abs(theta[i]))
        tp, tm = theta.copy(), theta.copy()
        tp[i] += h
        tm[i] -= h
        central[:, i] = (lik.loglik(tp, lay)[1] - lik.loglik(tm, lay)[1]) / (2 * h)
    central = (central + central.T) / 2
    forward = numerical_hessian(lik, lay, theta)
    free = st.free
    se = [np.sqrt(np.diag(np.linalg.inv(-H[np.ix_(free, free)]))) for H in (central, forward)]
    np.testing.assert_allclose(se[1], se[0], rtol=1e-5)
    np.testing.assert_allclose(forward, central, atol=1e-4 * np.abs(central).max())
