"""The hazard engine against closed forms and against the month-by-month reference."""

import math

import numpy as np
import pytest
from scipy import stats

from werkeffect.simulate import engine
from werkeffect.simulate.engine import CalendarTable, ExitModel, duration_table
from werkeffect.simulate.params import resolve_params
from werkeffect.simulate.rng import Streams
from werkeffect.simulate.spells import Context
from werkeffect.simulate.world import draw_inflow


def constant_model(rates=(0.03, 0.01, 0.02), effect=0.0, pilot=0.0):
    base = np.vstack([np.full(1000, r) for r in rates])
    return ExitModel(
        base=base,
        cal_work=CalendarTable.from_dict({2000: 1.0}),
        effect_breaks=np.array([0.0]),
        effect_values=np.array([effect]),
        pilot_effect=pilot,
    )


def test_constant_competing_hazards_exponential_and_cause_shares():
    n = 200_000
    rng = np.random.default_rng(0)
    model = constant_model()
    T, c = engine.exit_times(
        model, np.zeros(n), np.full(n, 900.0), np.zeros(n, bool), np.ones((3, n)),
        np.full(n, np.inf), np.full(n, np.inf), rng.exponential(size=n), rng.random(n),
    )  # fmt: skip
    assert T.mean() == pytest.approx(1 / 0.06, rel=0.01)
    assert stats.kstest(T, stats.expon(scale=1 / 0.06).cdf).pvalue > 1e-3
    shares = np.bincount(c, minlength=4)[1:] / n
    assert shares == pytest.approx([0.5, 1 / 6, 1 / 3], abs=0.005)


def test_treatment_multiplies_the_work_hazard_after_u():
    # after U = 10 the work hazard is 0.03*2; the residual time given survival is Exp(0.09)
    n = 200_000
    rng = np.random.default_rng(1)
    model = constant_model(effect=math.log(2.0))
    U = np.full(n, 10.0)
    T, c = engine.exit_times(
        model, np.zeros(n), np.full(n, 900.0), np.zeros(n, bool), np.ones((3, n)), U,
        np.full(n, np.inf), rng.exponential(size=n), rng.random(n),
    )  # fmt: skip
    assert np.mean(T > 10) == pytest.approx(math.exp(-0.6), abs=0.005)
    after = T > 10
    assert (T[after] - 10).mean() == pytest.approx(1 / 0.09, rel=0.01)
    assert np.mean(c[after] == 1) == pytest.approx(0.06 / 0.09, abs=0.005)
    assert np.mean(c[~after] == 1) == pytest.approx(0.5, abs=0.01)


def test_piecewise_baseline_survival():
    n = 200_000
    rng = np.random.default_rng(2)
    base = duration_table((0.1, 0.05, 0.02, 0.02, 0.02, 0.02, 0.02, 0.02))
    model = ExitModel(
        base=np.vstack([base, np.zeros(1000), np.zeros(1000)]),
        cal_work=CalendarTable.from_dict({2000: 1.0}),
        effect_breaks=np.array([0.0]),
        effect_values=np.array([0.0]),
        pilot_effect=0.0,
    )
    T, _ = engine.exit_times(
        model, np.zeros(n), np.full(n, 900.0), np.zeros(n, bool), np.ones((3, n)),
        np.full(n, np.inf), np.full(n, np.inf), rng.exponential(size=n), rng.random(n),
    )  # fmt: skip
    assert np.mean(T > 3) == pytest.approx(math.exp(-0.3), abs=0.004)
    assert np.mean(T > 6) == pytest.approx(math.exp(-0.45), abs=0.004)
    assert np.mean(T > 12) == pytest.approx(math.exp(-0.57), abs=0.004)


def test_state_pension_and_horizon():
    n = 10_000
    rng = np.random.default_rng(3)
    model = constant_model(rates=(1e-4, 0.0, 0.0))
    aow = np.arange(n) % 2 == 0
    T, c = engine.exit_times(
        model, np.zeros(n), np.full(n, 5.0), aow, np.ones((3, n)), np.full(n, np.inf),
        np.full(n, np.inf), rng.exponential(size=n), rng.random(n),
    )  # fmt: skip
    stayed = T >= 5 - 1e-12
    assert np.all(T[aow & stayed] == 5.0) and np.all(c[aow & stayed] == 3)
    assert np.all(np.isinf(T[~aow & ~(T < 5)])) and np.all(c[~aow & ~(T < 5)] == 0)


def test_segment_engine_equals_monthly_reference():
    p = resolve_params("groningen", 0.25, jobcoaching_effect=((0.0, 0.3), (6.0, 0.5), (12.0, 0.1)))
    st = Streams(3)
    pop = draw_inflow(st, p)
    ctx = Context.build(p, st, pop)
    pos = np.arange(pop.n)
    t0 = pop.entry
    s = ctx.spell_setup(pos, t0)
    rng = np.random.default_rng(1)
    n = pop.n
    E, uc = rng.exponential(size=n), rng.random(n)
    U = np.where(rng.random(n) < 0.3, rng.random(n) * 60, np.inf)
    P = np.where(rng.random(n) < 0.05, rng.random(n) * 60, np.inf)
    args = (ctx.exit_model, t0, s["tmax"], s["aow"], s["a"], U, P, E, uc)
    T1, c1 = engine.exit_times(*args)
    T0, c0 = engine.exit_times_monthly(*args)
    assert np.array_equal(np.isfinite(T1), np.isfinite(T0))
    fin = np.isfinite(T0)
    assert np.max(np.abs(T1[fin] - T0[fin])) < 1e-8
    assert np.array_equal(c1, c0)
    EJ = rng.exponential(size=n)
    a = (ctx.base_jobcoaching, ctx.cal_jobcoaching, t0, ctx.jobcoaching_from(t0), s["tmax"],
         s["aj"], EJ)  # fmt: skip
    V1, V0 = engine.start_times(*a), engine.start_times_monthly(*a)
    assert np.array_equal(np.isfinite(V1), np.isfinite(V0))
    fin = np.isfinite(V0)
    assert np.max(np.abs(V1[fin] - V0[fin])) < 1e-8


def test_keyed_uniforms_do_not_depend_on_order():
    st = Streams(7)
    ids = np.arange(100_000)
    u = st.uniform("exit_E", ids, 0)
    perm = np.random.default_rng(0).permutation(ids.size)
    assert np.array_equal(st.uniform("exit_E", ids[perm], 0), u[perm])
    assert (u > 0).all() and (u < 1).all()
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    assert not np.array_equal(st.uniform("exit_E", ids, 1), u)
    assert not np.array_equal(Streams(8).uniform("exit_E", ids, 0), u)
    assert abs(np.corrcoef(u, st.uniform("exit_cause", ids, 0))[0, 1]) < 0.02
