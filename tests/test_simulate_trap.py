"""The trap is real: caseworkers pick the motivated, so a participant-versus-non-participant
comparison overstates the effect of jobcoaching in the default scenario, but not when
selection is on recorded characteristics only."""

import pytest

from _simhelpers import mantel_haenszel_rate_ratio, sim


@pytest.mark.parametrize("seed", [0])
def test_naive_comparison_overstates_jobcoaching_in_groningen(seed):
    ds, truth = sim("groningen", seed)
    true_hr = truth.values["jobcoaching.hazard_ratio"]
    crude = mantel_haenszel_rate_ratio(ds, adjust=False)
    adjusted = mantel_haenszel_rate_ratio(ds, adjust=True)
    # even adjusted for elapsed duration and recorded characteristics the comparison
    # overstates the hazard ratio by more than 15%
    assert crude > adjusted > 1.15 * true_hr, (crude, adjusted, true_hr)


def test_same_comparison_is_close_when_selection_is_on_observables():
    ds, truth = sim("groningen-observables", 0)
    true_hr = truth.values["jobcoaching.hazard_ratio"]
    adjusted = mantel_haenszel_rate_ratio(ds, adjust=True)
    g_adjusted = mantel_haenszel_rate_ratio(sim("groningen", 0)[0], adjust=True)
    assert abs(adjusted - true_hr) < 0.1 * true_hr, (adjusted, true_hr)
    assert adjusted < g_adjusted
