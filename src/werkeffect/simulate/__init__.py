"""Synthetic Groningen: a simulator of bijstand, WW and programmes with known true effects.

``simulate(scenario, seed, scale, **params) -> (Dataset, Truth)`` and
``write_simulation(dataset, truth, out, fmt)``; the data-generating process and every
parameter are documented in ``docs/simulator.md``.
"""

import sys
import types
from typing import Any

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


class _CallableModule(types.ModuleType):
    """``werkeffect.simulate(...)`` is the public function (API contract), but once this
    subpackage is imported Python binds the name ``werkeffect.simulate`` to the module; calling
    the module therefore calls :func:`simulate`."""

    def __call__(self, *args: Any, **kwargs: Any) -> tuple[Any, Truth]:
        return simulate(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
