"""Synthetic Groningen: a simulator of bijstand, WW and programmes with known true effects.

``simulate(scenario, seed, scale, **params) -> (Dataset, Truth)`` and
``write_simulation(dataset, truth, out, fmt)``; the data-generating process and every
parameter are documented in ``docs/simulator.md``.
"""

from werkeffect.simulate.core import simulate
from werkeffect.simulate.params import SCALES, SCENARIOS, SimParams
from werkeffect.simulate.truth import Truth
from werkeffect.simulate.writer import write_simulation
from werkeffect.simulate.ww import period_label, ww_period

__all__ = [
    "SCALES",
    "SCENARIOS",
    "SimParams",
    "Truth",
    "period_label",
    "simulate",
    "write_simulation",
    "ww_period",
]
