"""Survival analysis of bijstand duration: curves, competing exits, Cox with time-varying
treatment, Fine–Gray, discrete-time hazards and contrasts a council can read.

Names are imported lazily so ``import werkeffect.survival`` stays cheap.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_LAZY = {
    "KaplanMeier": "werkeffect.survival.nonparametric",
    "NelsonAalen": "werkeffect.survival.nonparametric",
    "AalenJohansen": "werkeffect.survival.nonparametric",
    "SurvivalCurveResult": "werkeffect.survival.nonparametric",
    "logrank_test": "werkeffect.survival.nonparametric",
    "LogRankResult": "werkeffect.survival.nonparametric",
    "risk_table": "werkeffect.survival.nonparametric",
    "CoxPH": "werkeffect.survival.cox",
    "CoxPHResult": "werkeffect.survival.cox",
    "FineGray": "werkeffect.survival.finegray",
    "DiscreteTimeHazard": "werkeffect.survival.discrete",
    "cif_difference": "werkeffect.survival.contrasts",
    "rmst_difference": "werkeffect.survival.contrasts",
    "ContrastResult": "werkeffect.survival.contrasts",
    "split_episodes": "werkeffect.survival.episodes_tools",
    "time_varying_effect": "werkeffect.survival.episodes_tools",
    "ImmortalTimeError": "werkeffect.survival._checks",
    "TimingOfEvents": "werkeffect.survival.timing_of_events",
}


__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'werkeffect.survival' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
