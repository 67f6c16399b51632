"""The jobcoaching evaluation's primary model is the specification the Monte Carlo validated.

``tests/test_toe_montecarlo.py`` shows over 200 simulated worlds that the timing-of-events
model covers the truth with its sample and specification. The evaluation script must use the
same: once it did not (no calendar-year effects, a coarser baseline, at most four mass points
and the AOW exits and pilot participants in), and at national scale its interval missed the
truth by three standard errors.
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import test_toe_montecarlo as mc
from werkeffect.data.populations import AOW_AGE, jobcoaching_spells
from werkeffect.simulate import simulate

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def jobcoaching():
    spec = importlib.util.spec_from_file_location(
        "jobcoaching", ROOT / "analyses" / "jobcoaching.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def world():
    dataset, _ = simulate(seed=5, scale=0.3)
    return dataset


def test_model_settings_are_the_montecarlo_ones(jobcoaching, world):
    assert list(jobcoaching.TOE_BASELINE_CUTS) == mc.BASELINE_CUTS
    assert jobcoaching.TOE_MAX_MASS_POINTS == mc.MAX_MASS_POINTS
    assert jobcoaching.calendar_cuts(world) == mc.CALENDAR_CUTS
    assert jobcoaching.WINDOW_START == mc.WINDOW_START


def test_jobcoaching_population_is_groningen_without_pilot_and_censored_at_aow(jobcoaching, world):
    """The script's spells: the package's population with the Monte Carlo's window (so both
    estimate on the same people), checked against its definition, and counted in the flow."""
    ours = jobcoaching.groningen_episodes(SimpleNamespace(dataset=world))
    theirs = jobcoaching_spells(world, window_start=mc.WINDOW_START)  # as the Monte Carlo
    np.testing.assert_array_equal(ours["spell_id"].to_numpy(), theirs["spell_id"].to_numpy())
    np.testing.assert_array_equal(ours["cause"].to_numpy(), theirs["cause"].to_numpy())
    # the population itself: Groningen, no pilot participant, bijstand age, no exit at AOW
    living_in = world.persons.set_index("person_id")["municipality"]
    assert ours["person_id"].map(living_in).eq("Groningen").all()
    pilot = world.programmes.loc[world.programmes["programme"].astype(str).eq("stadsbeheer")]
    assert not ours["person_id"].isin(set(pilot["person_id"])).any()
    assert (ours["age"] < AOW_AGE).all()
    exit_age = ours["age"] + ours.groupby("spell_id")["stop"].transform("max") / 12
    assert not ((exit_age >= AOW_AGE - 0.05) & (ours["cause"] > 0)).any()
    # every restriction is a step of the data flow, and each one bites in this world
    steps = {s.reason: s for s in world.flow if s.step in ("population", "censoring")}
    pilot = next(s for r, s in steps.items() if "stadsbeheer" in r)
    assert pilot.rows_out < pilot.rows_in
    aow = next(s for r, s in steps.items() if "counted as censored" in r)
    n_aow = int(aow.reason.split()[0].replace(",", ""))
    assert n_aow > 0
    # and each says it in Dutch too, in Dutch numbers
    assert all(s.reason_nl for s in steps.values())
    assert aow.reason_nl.split()[0] == f"{n_aow:,}".replace(",", ".")


def test_evalue_of_a_hazard_ratio_is_the_point_and_the_bound_not_the_ratio(jobcoaching):
    """The script once stored the hazard ratio itself as its E-value (the first entry of
    ``evalue``'s result is the converted ratio). The E-value of the point is the larger one,
    the bound's is nearer 1, and exit to work is treated as a common outcome."""
    from werkeffect.matching import evalue

    point, bound = jobcoaching.hazard_ratio_evalue({"estimate": 1.73, "lower": 1.64,
                                                    "upper": 1.83})  # fmt: skip
    expected = evalue(1.73, 1.64, 1.83, scale="HR", rare=False)
    assert (point, bound) == (expected["point"], expected["ci"])
    assert point > bound > 1 and point != pytest.approx(expected["rr"])
    no_effect = {"estimate": 1.2, "lower": 0.9, "upper": 1.6}
    assert jobcoaching.hazard_ratio_evalue(no_effect)[1] == 1.0  # the interval holds no effect
    assert jobcoaching.hazard_ratio_evalue({"estimate": None, "suppressed": True}) is None
    assert jobcoaching.hazard_ratio_evalue(None) is None


def test_evalue_of_the_primary_hazard_ratio_by_hand(jobcoaching):
    """The report's E-value was the Cox hazard ratio's (1.73: 2.3), which the report itself
    calls biased by selection on motivation; it is now the primary timing-of-events ratio's
    (1.37 [1.22, 1.54] in the demo run). VanderWeele & Ding (2017): E = RR + sqrt(RR(RR - 1)),
    the hazard ratio of a common outcome taken to a risk ratio as VanderWeele (2020)."""

    def by_hand(hr):
        rr = (1 - 0.5 ** math.sqrt(hr)) / (1 - 0.5 ** math.sqrt(1 / hr))
        return rr + math.sqrt(rr * (rr - 1))

    point, bound = jobcoaching.hazard_ratio_evalue({"estimate": 1.37, "lower": 1.22,
                                                    "upper": 1.54})  # fmt: skip
    assert point == pytest.approx(by_hand(1.37), rel=1e-12)
    assert bound == pytest.approx(by_hand(1.22), rel=1e-12)
    assert round(point, 1) == 1.8 and round(bound, 1) == 1.6


class _Curve:
    """A stand-in curve whose risk set is given per whole month."""

    def __init__(self, at_risk):
        self.at_risk = np.asarray(at_risk, dtype=float)

    def risk_table(self, times):
        return self.at_risk[np.asarray(times, dtype=int)]


def test_survival_figures_stop_where_the_risk_set_falls_under_the_threshold(jobcoaching):
    # month 0 holds nobody yet (delayed entry): no group; the curve empties from month 4
    curve = _Curve([0, 50, 30, 12, 9, 3, 0])
    assert jobcoaching.smallest_risk_set(curve, 6) == 3  # the 0s are no group, 3 is
    horizon = jobcoaching.plot_horizon(curve, 6, 10)
    assert horizon == 3  # the last month with at least 10 at risk
    assert jobcoaching.smallest_risk_set(curve, horizon) == 12
    assert jobcoaching.plot_horizon(_Curve([0, 50, 40, 30]), 3, 10) == 3


def test_ww_residual_autocorrelation_without_comparison_municipalities_is_nan_quietly():
    """Every municipality contacted: numpy printed 'Mean of empty slice' before the DiD's
    own clear error; now the check is NaN without a warning."""
    import warnings

    import pandas as pd

    spec = importlib.util.spec_from_file_location(
        "ww_naar_bijstand", ROOT / "analyses" / "ww_naar_bijstand.py"
    )
    ww = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ww)
    fm = pd.DataFrame(
        {"municipality": ["A", "A", "B", "B"], "period": [1, 2, 1, 2], "group": [2, 2, 2, 2],
         "inflow": [0.1, 0.2, 0.3, 0.1]}
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isnan(ww.residual_autocorrelation(fm))
    fm["group"] = [0, 0, 0, 0]
    assert np.isfinite(
        ww.residual_autocorrelation(pd.concat([fm, fm.assign(period=fm.period + 2)]))
    )
