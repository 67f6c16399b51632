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
    # built by another module owner; available once survival/timing_of_events.py exists
    "TimingOfEvents": "werkeffect.survival.timing_of_events",
}


def _available(name: str) -> bool:
    if name != "TimingOfEvents":
        return True
    from importlib.util import find_spec

    return find_spec(_LAZY[name]) is not None


__all__ = sorted(n for n in _LAZY if _available(n))


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        try:
            module = import_module(_LAZY[name])
        except ModuleNotFoundError as exc:
            if exc.name == _LAZY[name]:
                raise AttributeError(
                    f"werkeffect.survival.{name} is not available yet ({_LAZY[name]} missing)"
                ) from exc
            raise
        return getattr(module, name)
    raise AttributeError(f"module 'werkeffect.survival' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(n for n in _LAZY if _available(n))
