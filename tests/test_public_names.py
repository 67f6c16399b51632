"""The public names of ../shared/API.md resolve and keep their call signatures."""

import importlib
import inspect

import pytest

CONTRACT = {
    "werkeffect": ["load", "simulate", "episodes", "person_months"],
    "werkeffect.survival": [
        "KaplanMeier", "AalenJohansen", "CoxPH", "FineGray", "DiscreteTimeHazard",
        "TimingOfEvents",
    ],
    "werkeffect.did": ["CallawaySantAnna", "DiD", "EventStudy"],
    "werkeffect.matching": [
        "PropensityScore", "NearestNeighborMatch", "IPW", "AIPW", "EntropyBalance", "CEM",
        "balance", "rosenbaum_bounds", "evalue", "randomization_test",
    ],
    "werkeffect.dynamic": ["DynamicMatch", "DynamicIPW"],
}  # fmt: skip


@pytest.mark.parametrize("module", sorted(CONTRACT))
def test_contract_names_exist(module):
    m = importlib.import_module(module)
    missing = [n for n in CONTRACT[module] if not hasattr(m, n)]
    assert not missing


def test_simulate_is_callable_even_after_the_subpackage_is_imported():
    # importing a module of the subpackage binds werkeffect.simulate to the package
    import werkeffect.simulate.core

    dataset, truth = werkeffect.simulate(scenario="groningen", seed=1, scale=0.05)
    assert len(dataset.spells) > 0 and "jobcoaching.hazard_ratio" in truth.values


@pytest.mark.parametrize(
    ("obj", "args"),
    [
        ("werkeffect.survival.CoxPH", ["df", "duration", "event", "covariates", "entry",
                                       "strata", "ties", "cluster"]),
        ("werkeffect.did.CallawaySantAnna", ["df", "outcome", "unit", "time", "group",
                                             "covariates", "control", "method", "panel",
                                             "anticipation"]),
        ("werkeffect.matching.NearestNeighborMatch", ["df", "treatment", "covariates", "ratio",
                                                      "replace", "caliper", "exact",
                                                      "distance"]),
    ],
)  # fmt: skip
def test_contract_arguments(obj, args):
    module, name = obj.rsplit(".", 1)
    params = list(inspect.signature(getattr(importlib.import_module(module), name)).parameters)
    assert [a for a in args if a not in params] == []
