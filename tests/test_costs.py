import numpy as np
import pandas as pd
import pytest
from scipy import stats

from werkeffect.costs import CostAssumptions, cost_benefit

Z = stats.norm.ppf(0.975)


def test_money_arithmetic_and_interval_carried_over():
    a = CostAssumptions(monthly_benefit=1_500.0, programme_cost_per_participant=2_000.0)
    res = cost_benefit(2.0, 0.5, 100, assumptions=a)
    p = res.params
    assert p["months_avoided_total"] == pytest.approx(200.0)
    assert p["benefit_saved_eur"] == pytest.approx(2.0 * 100 * 1_500)
    assert p["programme_cost_eur"] == pytest.approx(200_000)
    assert p["net_benefit_eur"] == pytest.approx(300_000 - 200_000)
    ci = res.conf_int()
    # the net-benefit interval is the months interval scaled and shifted
    assert ci.loc["net_benefit_eur", "lower"] == pytest.approx((2 - Z * 0.5) * 150_000 - 200_000)
    assert ci.loc["net_benefit_eur", "upper"] == pytest.approx((2 + Z * 0.5) * 150_000 - 200_000)


def test_cost_per_extra_exit_uses_reciprocal_of_exit_interval():
    a = CostAssumptions(monthly_benefit=1_000.0, programme_cost_per_participant=1_000.0)
    res = cost_benefit(1.0, 0.1, 200, att_exit_work=0.10, att_exit_work_se=0.02, assumptions=a)
    assert res.params["extra_exits_work"] == pytest.approx(20.0)
    assert res.params["cost_per_extra_exit_eur"] == pytest.approx(200_000 / 20)
    ci = res.conf_int().loc["cost_per_extra_exit_eur"]
    assert ci["lower"] == pytest.approx(200_000 / ((0.10 + Z * 0.02) * 200))
    assert ci["upper"] == pytest.approx(200_000 / ((0.10 - Z * 0.02) * 200))


def test_net_cost_per_extra_exit_is_cost_minus_savings_per_extra_exit():
    """The jobcoaching report called the gross programme cost per extra exit (€ 78.327) the
    cost of an extra exit; net of the benefit it saves one costs about € 48.400. The numbers
    of the demo run (seed 2026): 6,382 participants at € 3,000, 0.8 months avoided each."""
    a = CostAssumptions(monthly_benefit=1_433.0, programme_cost_per_participant=3_000.0)
    months, months_se, att, att_se, n = 0.80, 0.15, 0.0383, 0.0070, 6_382
    res = cost_benefit(months, months_se, n, att_exit_work=att, att_exit_work_se=att_se,
                       assumptions=a)  # fmt: skip
    p, ci = res.params, res.conf_int()
    cost, saved, extra = 3_000.0 * n, months * n * 1_433.0, att * n
    assert p["cost_per_extra_exit_eur"] == pytest.approx(cost / extra)
    assert p["net_cost_per_extra_exit_eur"] == pytest.approx((cost - saved) / extra)
    assert p["net_cost_per_extra_exit_eur"] == pytest.approx(
        -p["net_benefit_eur"] / p["extra_exits_work"]
    )
    # both move with the one effect: the bounds are the ratio at the effect's bounds
    saved_se, extra_se = months_se * n * 1_433.0, att_se * n
    lo, hi = ci.loc["net_cost_per_extra_exit_eur"]
    assert lo == pytest.approx((cost - saved - Z * saved_se) / (extra + Z * extra_se))
    assert hi == pytest.approx((cost - saved + Z * saved_se) / (extra - Z * extra_se))
    assert lo < p["net_cost_per_extra_exit_eur"] < hi < ci.loc["cost_per_extra_exit_eur", "upper"]
    # by simulation of the one effect (z standard errors from the estimate): the same bounds
    z = np.linspace(-Z, Z, 2001)
    ratio = (cost - (saved + z * saved_se)) / (extra + z * extra_se)
    assert (ratio.min(), ratio.max()) == pytest.approx((lo, hi))


def test_net_cost_per_extra_exit_when_savings_may_exceed_the_cost_or_exits_may_be_none():
    a = CostAssumptions(monthly_benefit=1_000.0, programme_cost_per_participant=1_000.0)
    # savings 1.2 +- 0.5 months x 1000 against 1000 cost: net cost per exit -2000 (a saving)
    res = cost_benefit(1.2, 0.5, 100, att_exit_work=0.10, att_exit_work_se=0.02, assumptions=a)
    lo, hi = res.conf_int().loc["net_cost_per_extra_exit_eur"]
    assert res.params["net_cost_per_extra_exit_eur"] == pytest.approx(-200 * 100 / 10)
    assert lo < -2_000 < 0 < hi
    z = np.linspace(-Z, Z, 2001)
    ratio = (100_000 - (120_000 + z * 50_000)) / (10 + z * 2)
    assert (ratio.min(), ratio.max()) == pytest.approx((lo, hi))
    # the exits' interval holds 0: the ratio is unbounded on the side of the euros there
    res = cost_benefit(0.5, 0.1, 50, att_exit_work=0.02, att_exit_work_se=0.02, assumptions=a)
    lo, hi = res.conf_int().loc["net_cost_per_extra_exit_eur"]
    assert np.isfinite(lo) and hi == np.inf


def test_cost_per_extra_exit_unbounded_when_effect_may_be_zero():
    res = cost_benefit(1.0, 0.1, 50, att_exit_work=0.02, att_exit_work_se=0.02)
    assert np.isinf(res.conf_int().loc["cost_per_extra_exit_eur", "upper"])


def test_household_mix_weights_benefit():
    a = CostAssumptions(monthly_benefit={"alleenstaand": 1_000.0, "paar": 2_000.0})
    assert a.benefit_per_month({"alleenstaand": 3, "paar": 1}) == pytest.approx(1_250.0)
    with pytest.raises(ValueError, match="household type"):
        a.benefit_per_month({"onbekend": 1})


def test_break_even_horizon_and_its_interval():
    a = CostAssumptions(monthly_benefit=1_000.0, programme_cost_per_participant=1_500.0)
    curve = pd.DataFrame(
        {"horizon": [6, 12, 18, 24], "rmst_difference": [0.5, 1.2, 1.8, 2.5], "std_error": 0.2}
    )
    res = cost_benefit(2.5, 0.2, 10, rmst_curve=curve, assumptions=a)
    assert res.params["break_even_horizon_months"] == 18
    lo, hi = res.conf_int().loc["break_even_horizon_months"]
    assert lo == 12  # 1.2 + 1.96*0.2 = 1.59 months -> €1,590 >= €1,500
    assert hi == 24  # 1.8 - 1.96*0.2 = 1.41 -> not yet at 18
    assert res.plot() is not None
    ax = res.plot(lang="nl")
    assert ax.get_xlabel() == "maanden na de start van het programma"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "bespaarde uitkering",
        "kosten van het programma",
    ]


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="participants"):
        cost_benefit(1.0, 0.1, 0)
    with pytest.raises(ValueError, match="att_exit_work_se"):
        cost_benefit(1.0, 0.1, 10, att_exit_work=0.1)


@pytest.mark.parametrize(
    "args, kwargs, message",
    [
        ((np.nan, 0.5, 100), {}, "rmst_difference must be a finite number"),
        ((2.0, np.nan, 100), {}, "rmst_se must be a finite number"),
        ((2.0, np.inf, 100), {}, "rmst_se must be a finite number"),
        ((2.0, 0.5, 100.7), {}, "participants must be a whole number"),
        ((2.0, 0.5, np.nan), {}, "participants must be a finite number"),
        ((2.0, 0.5, "100"), {}, "participants must be a number"),
        (
            (2.0, 0.5, 100),
            {"att_exit_work": np.nan, "att_exit_work_se": 0.1},
            "att_exit_work must be a finite number",
        ),
        (
            (2.0, 0.5, 100),
            {"att_exit_work": 0.1, "att_exit_work_se": np.nan},
            "att_exit_work_se must be a finite number",
        ),
        ((2.0, 0.5, 100), {"household_mix": {"alleenstaand": -1, "paar": 3}}, "at least 0"),
        ((2.0, 0.5, 100), {"household_mix": {"alleenstaand": np.nan}}, "household_mix\\['"),
        ((2.0, 0.5, 100), {"household_mix": {"alleenstaand": 0}}, "no positive weight"),
        (
            (2.0, 0.5, 100),
            {
                "rmst_curve": pd.DataFrame(
                    {"horizon": [6, 12], "rmst_difference": [1, np.nan], "std_error": 0.1}
                )
            },  # fmt: skip
            "rmst_curve.rmst_difference must hold finite numbers",
        ),
    ],
)
def test_nan_and_malformed_inputs_are_refused_naming_the_argument(args, kwargs, message):
    """NaN effects used to flow into the euro figures (and a NaN exit effect read as 'no
    positive effect'), 100.7 participants were accepted, negative mix weights were used."""
    with pytest.raises(ValueError, match=message):
        cost_benefit(*args, **kwargs)


def test_cost_assumptions_take_numbers_not_text():
    """monthly_benefit='1.200' used to be €1.20."""
    with pytest.raises(ValueError, match="monthly_benefit must be a number, got '1.200'"):
        CostAssumptions(monthly_benefit="1.200")
    with pytest.raises(ValueError, match="monthly_benefit\\['paar'\\] must be a number"):
        CostAssumptions(monthly_benefit={"paar": "1.860"})
    with pytest.raises(ValueError, match="programme_cost_per_participant must be at least 0"):
        CostAssumptions(programme_cost_per_participant=-5)
    # whole-number floats and numpy numbers are fine
    res = cost_benefit(np.float64(2.0), 0.5, 100.0, assumptions=CostAssumptions(np.int64(1_000)))
    assert res.params["benefit_saved_eur"] == pytest.approx(200_000)
    assert res.n["n_treated"] == 100
