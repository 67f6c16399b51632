"""Dynamic evaluation by elapsed benefit duration (treated at month u versus not yet treated).

Programmes such as jobcoaching start at different moments of a benefit spell. Comparing
ever-participants with never-participants puts later participants in the wrong group and
rewards survivors (immortal time, dynamic selection). The estimators here compare, for each
elapsed month ``u``, the people who start at ``u`` with people still on benefit at ``u`` who
have not started:

* :class:`DynamicMatch` — Sianesi (2004): versus not starting at u (they may start later);
* :class:`DynamicIPW` — Van den Berg & Vikström (2022): versus never starting (comparison
  spells censored at a later start, inverse probability of censoring weights);
* :class:`SurvivalMatch` — Fredriksson & Johansson (2008): matching for the whole survival
  curve after u, comparison spells censored at a later start.

All take one row per spell (:func:`spells_from_dataset` builds it from a ``Dataset``; or use
``Estimator.from_dataset``), optionally with history that changes during the spell
(``time_varying=``; :func:`history_from_dataset` builds part-time work and the ladder step at
the start of each elapsed month) and return a :class:`DynamicResult` with ``params`` indexed by
``(u, horizon)`` plus ``("ATT", h)`` averages over the distribution of ``u`` among the
starters, with a cluster bootstrap over persons.

Bias under selection on unobservables: when caseworkers pick participants on something the
data do not record (motivation, the default ``groningen`` scenario), all three are biased
upward; see ``docs/dynamic.md``.
"""

from werkeffect.dynamic.data import history_from_dataset, spells_from_dataset
from werkeffect.dynamic.results import DynamicResult
from werkeffect.dynamic.risk_sets import risk_sets
from werkeffect.dynamic.sianesi import DynamicMatch
from werkeffect.dynamic.static import static_comparison
from werkeffect.dynamic.survival_matching import SurvivalMatch
from werkeffect.dynamic.vdb_vikstrom import DynamicIPW

__all__ = [
    "DynamicIPW",
    "DynamicMatch",
    "DynamicResult",
    "SurvivalMatch",
    "history_from_dataset",
    "risk_sets",
    "spells_from_dataset",
    "static_comparison",
]
