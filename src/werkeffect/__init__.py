"""werkeffect: does the welfare-to-work programme work?

Causal evaluation of bijstand programmes on pseudonymised administrative data: survival and
competing exits, dynamic evaluation by elapsed benefit duration, the timing-of-events model,
difference-in-differences, matching and weighting, with disclosure control and reports in Dutch.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "load": "werkeffect.data.io",
    "Dataset": "werkeffect.data.dataset",
    "DataValidationError": "werkeffect.data.validate",
    "episodes": "werkeffect.data.frames",
    "person_months": "werkeffect.data.frames",
    "job_spells": "werkeffect.data.frames",
    "simulate": "werkeffect.simulate",
    "Truth": "werkeffect.simulate",
    "EstimationResult": "werkeffect.results.base",
    "monte_carlo": "werkeffect.validation",
    "ResultsWriter": "werkeffect.results.files",
    "read_results": "werkeffect.results.files",
    "DisclosureError": "werkeffect.exceptions",
}

__all__ = sorted(_LAZY) + ["__version__"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'werkeffect' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
